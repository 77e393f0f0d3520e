import { afterAll, beforeAll, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { Mailwright } from './mailwright.js';
import { uniqueAddress } from './inbox.js';
import { StreamClient } from './stream-client.js';
import { startTcpProxy, type TcpProxy } from '../../server/src/test-support/tcp-proxy.js';

let server: Mailwright;
let proxy: TcpProxy;

beforeAll(async () => {
  server = await Mailwright.start();
  // A TCP proxy in front of the HTTP port, so the test can cut the stream's connection
  // (and point it at another server).
  proxy = await startTcpProxy(server.url);
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
});

it('keeps waiting across a dropped stream connection, resuming from the last seq without duplicates', async () => {
  const { port } = proxy;
  const client = await Mailwright.connect(`http://127.0.0.1:${port}`);
  try {
    const inbox = client.inbox();
    const received: string[] = [];
    const waiting = inbox.waitForMessages(3, { timeout: 10_000 });
    const smtp = nodemailer.createTransport({ host: server.smtp.host, port: server.smtp.port, ignoreTLS: true });
    await smtp.sendMail({ from: 'a@example.test', to: inbox.address, subject: 'one', text: 'x' });
    await expect.poll(async () => (await inbox.messages()).length).toBe(1);
    // Cut every proxied connection (the stream included) while the wait is pending.
    proxy.cut();
    await smtp.sendMail({ from: 'a@example.test', to: inbox.address, subject: 'two', text: 'x' });
    await smtp.sendMail({ from: 'a@example.test', to: inbox.address, subject: 'three', text: 'x' });
    for (const message of await waiting) received.push(message.subject);
    expect(received).toEqual(['one', 'two', 'three']);
  } finally {
    await client.close();
  }
});

it('after a server restart (its seq went back), waits still see the new mail', async () => {
  const { port } = proxy;
  const client = await Mailwright.connect(`http://127.0.0.1:${port}`);
  const restarted = await Mailwright.start();
  try {
    // Let the client learn the first server's (non-zero) seq, then create an inbox there.
    const before = client.inbox();
    await nodemailer
      .createTransport({ host: server.smtp.host, port: server.smtp.port, ignoreTLS: true })
      .sendMail({ from: 'a@example.test', to: before.address, subject: 'before', text: 'x' });
    await before.waitForMessage({ timeout: 5_000 });
    const inbox = client.inbox();
    // "Restart": the proxy now leads to a fresh server with an empty store.
    proxy.target = restarted.url;
    proxy.cut();
    const waiting = inbox.waitForMessage({ timeout: 10_000 });
    await nodemailer
      .createTransport({ host: restarted.smtp.host, port: restarted.smtp.port, ignoreTLS: true })
      .sendMail({ from: 'a@example.test', to: inbox.address, subject: 'after the restart', text: 'x' });
    expect((await waiting).subject).toBe('after the restart');
  } finally {
    await client.close();
    await restarted.close();
  }
});

it("a subscription that was live before a server restart gets the new server's mail, although its seq is below the old cursor", async () => {
  proxy.target = server.url;
  const { port } = proxy;
  const stream = new StreamClient(`http://127.0.0.1:${port}`, {});
  const restarted = await Mailwright.start();
  try {
    const address = uniqueAddress();
    const seen: string[] = [];
    const subscription = stream.subscribe({ filter: { to: address }, since: 0 }, { onMessage: (message) => seen.push(message.subject) });
    await subscription.ready;
    const smtp = nodemailer.createTransport({ host: server.smtp.host, port: server.smtp.port, ignoreTLS: true });
    for (const subject of ['a', 'b', 'c']) await smtp.sendMail({ from: 'a@example.test', to: address, subject, text: 'x' });
    await expect.poll(() => seen).toEqual(['a', 'b', 'c']);
    const cursorBefore = subscription.cursor;
    expect(cursorBefore).toBeGreaterThanOrEqual(3);
    // "Restart": the proxy now leads to a fresh server with an empty store.
    proxy.target = restarted.url;
    proxy.cut();
    await nodemailer
      .createTransport({ host: restarted.smtp.host, port: restarted.smtp.port, ignoreTLS: true })
      .sendMail({ from: 'a@example.test', to: address, subject: 'after the restart', text: 'x' });
    await expect.poll(() => seen).toEqual(['a', 'b', 'c', 'after the restart']);
    expect(subscription.cursor).toBe(1);
    expect(stream.latestSeq).toBeLessThan(cursorBefore);
  } finally {
    proxy.target = server.url;
    stream.close();
    await restarted.close();
  }
});

it('a subscription gets the mail of a restarted server whose seq has already passed the old cursor (its epoch changed)', async () => {
  proxy.target = server.url;
  const stream = new StreamClient(`http://127.0.0.1:${proxy.port}`, {});
  const restarted = await Mailwright.start();
  try {
    const address = uniqueAddress();
    const seen: string[] = [];
    const subscription = stream.subscribe({ filter: { to: address }, since: 0 }, { onMessage: (message) => seen.push(message.subject) });
    await subscription.ready;
    const send = (to: Mailwright, subject: string) =>
      nodemailer
        .createTransport({ host: to.smtp.host, port: to.smtp.port, ignoreTLS: true })
        .sendMail({ from: 'a@example.test', to: address, subject, text: 'x' });
    await send(server, 'before');
    await expect.poll(() => seen).toEqual(['before']);
    // The new server has already numbered more messages than the old cursor when the client comes back.
    const cursorBefore = subscription.cursor ?? 0;
    for (let i = 0; i <= cursorBefore; i++) await send(restarted, `after ${i}`);
    proxy.target = restarted.url;
    proxy.cut();
    const expected = ['before', ...Array.from({ length: cursorBefore + 1 }, (_, i) => `after ${i}`)];
    await expect.poll(() => seen).toEqual(expected);
    expect(stream.latestSeq).toBeGreaterThan(cursorBefore);
  } finally {
    proxy.target = server.url;
    stream.close();
    await restarted.close();
  }
});

it('keeps retrying while the server is down, reports why a wait failed, and resumes once it is back', async () => {
  proxy.target = server.url;
  const { port } = proxy;
  const client = await Mailwright.connect(`http://127.0.0.1:${port}`);
  try {
    const inbox = client.inbox();
    proxy.refusing = true;
    const refusedBefore = proxy.refused;
    proxy.cut();
    // Down: a short wait times out and names the stream's problem.
    await expect(inbox.waitForMessage({ timeout: 300 })).rejects.toThrow(/Timed out after 300 ms[\s\S]*\nStream: /);
    const waiting = inbox.waitForMessage({ subject: 'back again', timeout: 10_000 });
    // Several attempts while down: the client backs off but does not give up.
    await expect.poll(() => proxy.refused - refusedBefore, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    await nodemailer
      .createTransport({ host: server.smtp.host, port: server.smtp.port, ignoreTLS: true })
      .sendMail({ from: 'a@example.test', to: inbox.address, subject: 'back again', text: 'x' });
    proxy.refusing = false;
    expect((await waiting).subject).toBe('back again');
  } finally {
    proxy.refusing = false;
    await client.close();
  }
});
