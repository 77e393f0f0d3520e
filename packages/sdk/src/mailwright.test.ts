import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { ApiClient } from '@mailwright/core';
import { Mailwright } from './mailwright.js';
import { receiveFrameMessage } from './received-message.js';
import './vitest.js';

let mail: Mailwright;

beforeAll(async () => {
  mail = await Mailwright.start();
});

afterAll(async () => {
  await mail?.close();
});

function transport(kind: 'starttls' | 'implicit' | 'plain' = 'starttls') {
  const endpoint = kind === 'implicit' ? mail.smtps : mail.smtp;
  return nodemailer.createTransport({
    host: endpoint.host,
    port: endpoint.port,
    secure: kind === 'implicit',
    ignoreTLS: kind === 'plain',
    requireTLS: kind === 'starttls',
    tls: { ca: mail.ca, servername: 'localhost' },
  });
}

describe('Mailwright SDK against an in-process server', () => {
  it('start() reports real ports, the CA and the URL', async () => {
    expect(mail.smtp.port).toBeGreaterThan(0);
    expect(mail.smtps.port).toBeGreaterThan(0);
    expect(mail.smtps.port).not.toBe(mail.smtp.port);
    expect(mail.ca).toContain('BEGIN CERTIFICATE');
    const info = await (await fetch(`${mail.url}/api/v1/info`)).json();
    expect(info.name).toBe('mailwright');
  });

  it("an inbox's waits stay within its address: another `to` is refused, not swapped in", async () => {
    const inbox = mail.inbox();
    const other = mail.inbox();
    await transport().sendMail({ from: 'app@example.test', to: other.address, subject: 'For the other inbox', text: 'x' });
    for (const wait of [
      () => inbox.waitForMessage({ to: other.address, timeout: 1_000 }),
      () => inbox.waitForMessages(1, { to: other.address, timeout: 1_000 }),
    ]) {
      const error = await wait().catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'INVALID_FILTER' });
      expect((error as Error).message).toContain(inbox.address);
    }
  });

  it('a stream frame that carries the message alone (the server was busy parsing) resolves with the detail read over REST', async () => {
    const inbox = mail.inbox();
    await transport().sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Summary only', text: 'the body' });
    const [summary] = await inbox.messages();
    expect(summary).toBeDefined();
    expect(summary).not.toHaveProperty('headers');
    const received = await receiveFrameMessage(new ApiClient({ baseUrl: mail.url }), summary!);
    expect(received).toMatchObject({ id: summary!.id, subject: 'Summary only', text: 'the body\n' });
    expect(received.headers.subject).toEqual(['Summary only']);
    expect(received.links()).toEqual([]);
  });

  it.each([
    ['starttls', 'starttls'],
    ['implicit', 'implicit'],
    ['none', 'none'],
  ] as const)('transportOptions({ tls: %s }) configures nodemailer to deliver that way, trusting the test CA', async (tls, mode) => {
    const inbox = mail.inbox();
    const options = mail.transportOptions({ tls });
    await nodemailer.createTransport(options).sendMail({ from: 'app@example.test', to: inbox.address, subject: `via ${tls}`, text: 'x' });
    const message = await inbox.waitForMessage({ timeout: 5_000 });
    expect(message.tls.mode).toBe(mode);
    expect(message.listener).toBe(tls === 'implicit' ? 'smtps' : 'smtp');
  });

  it('transportOptions reaches a runtime listener by its endpoint, and STARTTLS refuses to send without TLS', async () => {
    await using plain = await mail.listeners.create({ tls: 'none' });
    const refused = nodemailer.createTransport(mail.transportOptions({ endpoint: plain.endpoint }));
    await expect(refused.sendMail({ from: 'app@example.test', to: 'x@example.test', subject: 'never', text: 'x' })).rejects.toThrow(/STARTTLS/);
    expect(await plain.messages()).toEqual([]);
  });

  it('inbox() addresses are unique', () => {
    const addresses = new Set(Array.from({ length: 100 }, () => mail.inbox().address));
    expect(addresses.size).toBe(100);
  });

  it('waitForMessage resolves for mail that arrived before the call', async () => {
    const inbox = mail.inbox();
    await transport().sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Already here', text: 'hello' });
    const message = await inbox.waitForMessage({ timeout: 5_000 });
    expect(message.subject).toBe('Already here');
    expect(message).toBeDeliveredOverTls({ mode: 'starttls', minVersion: 'TLSv1.2' });
    expect(message).toHaveRecipient(inbox.address);
  });

  it('waitForMessage resolves for mail that arrives after the call, filtered', async () => {
    const inbox = mail.inbox();
    const waiting = inbox.waitForMessage({ subject: /reset/i, timeout: 5_000 });
    await transport('implicit').sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Welcome', text: 'first' });
    await transport('implicit').sendMail({
      from: 'App <app@example.test>',
      to: inbox.address,
      subject: 'Password RESET',
      text: 'Reset here: https://app.example.test/reset?token=abc123',
      html: '<p><a href="https://app.example.test/reset?token=abc123&amp;x=1">Reset</a></p>',
      headers: { 'X-Campaign': 'reset' },
      attachments: [{ filename: 'notes.txt', content: 'hi', contentType: 'text/plain' }],
    });
    const message = await waiting;
    expect(message.subject).toBe('Password RESET');
    expect(message).toBeDeliveredOverTls({ mode: 'implicit' });
    expect(message).toHaveSender('app@example.test');
    expect(message).toHaveSubject(/reset/i);
    expect(message).toContainText('Reset here');
    expect(message).toContainLink(/token=abc123/);
    expect(message.links()).toContain('https://app.example.test/reset?token=abc123&x=1');
    expect(message).toHaveAttachment({ filename: 'notes.txt', contentType: 'text/plain' });
    expect(message).toHaveHeader('X-Campaign', 'reset');
    expect(message).not.toBeDeliveredInPlaintext();
    const [attachment] = message.attachments;
    expect((await message.attachment(attachment!.partId)).toString()).toBe('hi');
    expect((await message.raw()).toString()).toContain('Subject: Password RESET');
    expect((await message.session()).messageIds).toContain(message.id);
  });

  it('waitForMessages collects n messages in arrival order', async () => {
    const inbox = mail.inbox();
    const waiting = inbox.waitForMessages(3, { timeout: 5_000 });
    const smtp = transport();
    for (const n of [1, 2, 3]) await smtp.sendMail({ from: 'app@example.test', to: inbox.address, subject: `n${n}`, text: 'x' });
    const messages = await waiting;
    expect(messages.map((m) => m.subject)).toEqual(['n1', 'n2', 'n3']);
  });

  it('a timeout rejects with an error that lists what did arrive', async () => {
    const inbox = mail.inbox();
    await transport('plain').sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Wrong one', text: 'x' });
    const error = await inbox.waitForMessage({ subject: 'Right one', timeout: 300 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'WAIT_TIMEOUT' });
    expect((error as Error).message).toContain('"Wrong one"');
    expect((error as Error).message).toContain(inbox.address);
    expect((error as Error).message).toContain('plaintext');
  });

  it('matchers fail with the expected and actual delivery record side by side', async () => {
    const inbox = mail.inbox();
    await transport('plain').sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Plain', text: 'x' });
    const message = await inbox.waitForMessage();
    expect(message).toBeDeliveredInPlaintext();
    let failure: unknown;
    try {
      expect(message).toBeDeliveredOverTls({ mode: 'starttls', minVersion: 'TLSv1.2' });
    } catch (error) {
      failure = error;
    }
    expect((failure as Error).message).toMatch(/delivered in plaintext/);
    expect((failure as Error).message).toMatch(/expected: \{[\s\S]*"mode": "starttls"[\s\S]*actual: {3}\{[\s\S]*"mode": "none"/);
  });

  it('inbox(address) never resolves with mail for a longer address that contains it', async () => {
    const address = mail.inbox().address;
    const longer = `a${address}`;
    const inbox = mail.inbox(address);
    const smtp = transport();
    await smtp.sendMail({ from: 'app@example.test', to: longer, subject: 'for the longer address', text: 'x' });
    const live = inbox.waitForMessage({ timeout: 5_000 });
    await smtp.sendMail({ from: 'app@example.test', to: longer, subject: 'for the longer address, live', text: 'x' });
    await smtp.sendMail({ from: 'app@example.test', to: address.toUpperCase(), subject: 'for the inbox', text: 'x' });
    expect((await live).subject).toBe('for the inbox');
    expect((await inbox.waitForMessages(1, { timeout: 5_000 })).map((m) => m.subject)).toEqual(['for the inbox']);
    expect((await inbox.messages()).map((m) => m.subject)).toEqual(['for the inbox']);
    expect((await mail.messages.list({ to: address })).total).toBe(1);
    // A partial term stays a substring: the local part and its @ find all three.
    expect((await mail.messages.list({ to: address.slice(0, address.indexOf('@') + 1) })).total).toBe(3);
  });

  it('a regular expression the server cannot honour rejects the wait with INVALID_FILTER', async () => {
    const inbox = mail.inbox();
    const error = await inbox.waitForMessage({ subject: /(a)\1/, timeout: 5_000 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'INVALID_FILTER' });
    expect((error as Error).message).toMatch(/backreferences/);
  });

  it('messages.list / delete and inbox.clear work through REST', async () => {
    const inbox = mail.inbox();
    await transport().sendMail({ from: 'app@example.test', to: inbox.address, subject: 'to delete', text: 'x' });
    const message = await inbox.waitForMessage();
    expect((await mail.messages.list({ to: inbox.address })).total).toBe(1);
    await mail.messages.delete(message.id);
    expect(await inbox.messages()).toEqual([]);
    await transport().sendMail({ from: 'app@example.test', to: inbox.address, subject: 'again', text: 'x' });
    await inbox.waitForMessage();
    expect(await inbox.clear()).toBe(1);
  });
});

describe('closing', () => {
  it('rejects pending waits with CLIENT_CLOSED instead of letting them time out', async () => {
    const other = await Mailwright.connect(mail.url);
    const waiting = other.inbox().waitForMessage({ timeout: 30_000 });
    const session = other.sessions.waitFor({ listener: 'nope', timeout: 30_000 });
    await other.close();
    await expect(waiting).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
    await expect(session).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });
});
