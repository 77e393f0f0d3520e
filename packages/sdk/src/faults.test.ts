import { AssertionError } from 'node:assert';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { faults } from '@mailwright/core';
import { Mailwright } from './mailwright.js';
import { assertArrivedOnce, assertRetried } from './fault-assertions.js';
import './vitest.js';

let mail: Mailwright;

beforeAll(async () => {
  mail = await Mailwright.start();
});

afterAll(async () => {
  await mail?.close();
});

const transport = () => nodemailer.createTransport({ host: mail.smtp.host, port: mail.smtp.port, secure: false, ignoreTLS: true });

/** Sends until the server accepts, like a sender's retry loop (bounded). */
async function sendWithRetries(message: nodemailer.SendMailOptions, attempts = 5): Promise<number> {
  const client = transport();
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      await client.sendMail(message);
      return attempt;
    } catch (error) {
      if ((error as { responseCode?: number }).responseCode === undefined || (error as { responseCode: number }).responseCode >= 500) throw error;
    }
  }
  throw new Error(`not accepted after ${attempts} attempts`);
}

describe('faults in the SDK', () => {
  it('inbox.fail() fails only that inbox, until its scope ends; the retried message passes toHaveBeenRetried and toHaveArrivedOnce', async () => {
    const inbox = mail.inbox();
    const neighbour = mail.inbox();
    {
      await using failure = await inbox.fail({ at: 'rcpt', code: 451, times: 1 });
      expect(failure).toMatchObject({ at: 'rcpt', match: { recipient: inbox.address }, times: 1 });
      await transport().sendMail({ from: 'app@app.test', to: neighbour.address, subject: 'neighbour', text: 'x' });
      expect(await sendWithRetries({ from: 'app@app.test', to: inbox.address, subject: 'retried', text: 'x' })).toBe(2);
      expect(await failure.status()).toMatchObject({ matched: 2, fired: 1 });
    }
    expect((await mail.faults.list()).some((rule) => rule.match.recipient === inbox.address)).toBe(false);

    const message = await inbox.waitForMessage({ subject: 'retried' });
    await expect(message).toHaveBeenRetried({ after: 'rcpt' });
    await expect(message).toHaveBeenRetried({ after: 'rcpt', times: 1 });
    await expect(message).not.toHaveBeenRetried({ after: 'data' });
    await expect(message).toHaveArrivedOnce();
    const neighbours = await neighbour.waitForMessage();
    await expect(neighbours).not.toHaveBeenRetried();
    await expect(assertRetried(neighbours)).rejects.toThrow(AssertionError);

    const failed = await mail.sessions.waitFor({ fault: { recipient: inbox.address, at: 'rcpt' } });
    expect(failed.faults?.[0]).toMatchObject({ at: 'rcpt', code: 451, recipients: [inbox.address] });
  });

  it('toHaveArrivedOnce fails for a message stored twice under one Message-ID', async () => {
    const inbox = mail.inbox();
    const message = { from: 'app@app.test', to: inbox.address, subject: 'twice', text: 'x', messageId: `<dup-${Date.now()}@app.test>` };
    await transport().sendMail(message);
    await transport().sendMail(message);
    const [first] = await inbox.waitForMessages(2);
    await expect(first).not.toHaveArrivedOnce();
    await expect(assertArrivedOnce(first as never)).rejects.toThrow(/to have arrived once, but 2 copies were stored/);
  });

  it('mail.faults.add() takes the ready-made behaviours: greylisting, then delivery on retry', async () => {
    const inbox = mail.inbox();
    await using rule = await mail.faults.add(faults.greylisting({ match: { recipient: inbox.address } }));
    expect(await sendWithRetries({ from: 'app@app.test', to: inbox.address, subject: 'greylisted', text: 'x' })).toBe(2);
    const message = await inbox.waitForMessage();
    await expect(message).toHaveBeenRetried({ after: 'rcpt', times: 1 });
    expect((await rule.status()).fired).toBe(1);
    await expect(mail.faults.add({ at: 'rcpt', action: { reply: { code: 250 } } } as never)).rejects.toMatchObject({ code: 'INVALID_FAULT' });
  });
});
