import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { Mailwright } from './mailwright.js';
import { uniqueAddress } from './inbox.js';
import { StreamClient } from './stream-client.js';

let server: Mailwright;
let proxy: net.Server;
const piped = new Set<net.Socket>();
let target: URL;
/** While true, the proxy hangs up on every new connection (the server is "down"). */
let refusing = false;
let refused = 0;

beforeAll(async () => {
  server = await Mailwright.start();
  target = new URL(server.url);
  // A TCP proxy in front of the HTTP port, so the test can cut the stream's connection
  // (and point it at another server).
  proxy = net.createServer((client) => {
    if (refusing) {
      refused += 1;
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    piped.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const socket of piped) socket.destroy();
  await new Promise((resolve) => proxy?.close(resolve));
  await server?.close();
});

it('keeps waiting across a dropped stream connection, resuming from the last seq without duplicates', async () => {
  const { port } = proxy.address() as net.AddressInfo;
  const client = await Mailwright.connect(`http://127.0.0.1:${port}`);
  try {
    const inbox = client.inbox();
    const received: string[] = [];
    const waiting = inbox.waitForMessages(3, { timeout: 10_000 });
    const smtp = nodemailer.createTransport({ host: server.smtp.host, port: server.smtp.port, ignoreTLS: true });
    await smtp.sendMail({ from: 'a@example.test', to: inbox.address, subject: 'one', text: 'x' });
    await expect.poll(async () => (await inbox.messages()).length).toBe(1);
    // Cut every proxied connection (the stream included) while the wait is pending.
    for (const socket of piped) socket.destroy();
    piped.clear();
    await smtp.sendMail({ from: 'a@example.test', to: inbox.address, subject: 'two', text: 'x' });
    await smtp.sendMail({ from: 'a@example.test', to: inbox.address, subject: 'three', text: 'x' });
    for (const message of await waiting) received.push(message.subject);
    expect(received).toEqual(['one', 'two', 'three']);
  } finally {
    await client.close();
  }
});

it('after a server restart (its seq went back), waits still see the new mail', async () => {
  const { port } = proxy.address() as net.AddressInfo;
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
    target = new URL(restarted.url);
    for (const socket of piped) socket.destroy();
    piped.clear();
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
  target = new URL(server.url);
  const { port } = proxy.address() as net.AddressInfo;
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
    target = new URL(restarted.url);
    for (const socket of piped) socket.destroy();
    piped.clear();
    await nodemailer
      .createTransport({ host: restarted.smtp.host, port: restarted.smtp.port, ignoreTLS: true })
      .sendMail({ from: 'a@example.test', to: address, subject: 'after the restart', text: 'x' });
    await expect.poll(() => seen).toEqual(['a', 'b', 'c', 'after the restart']);
    expect(subscription.cursor).toBe(1);
    expect(stream.latestSeq).toBeLessThan(cursorBefore);
  } finally {
    target = new URL(server.url);
    stream.close();
    await restarted.close();
  }
});

it('keeps retrying while the server is down, reports why a wait failed, and resumes once it is back', async () => {
  target = new URL(server.url);
  const { port } = proxy.address() as net.AddressInfo;
  const client = await Mailwright.connect(`http://127.0.0.1:${port}`);
  try {
    const inbox = client.inbox();
    refusing = true;
    refused = 0;
    for (const socket of piped) socket.destroy();
    piped.clear();
    // Down: a short wait times out and names the stream's problem.
    await expect(inbox.waitForMessage({ timeout: 300 })).rejects.toThrow(/Timed out after 300 ms[\s\S]*\nStream: /);
    const waiting = inbox.waitForMessage({ subject: 'back again', timeout: 10_000 });
    // Several attempts while down: the client backs off but does not give up.
    await expect.poll(() => refused, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    await nodemailer
      .createTransport({ host: server.smtp.host, port: server.smtp.port, ignoreTLS: true })
      .sendMail({ from: 'a@example.test', to: inbox.address, subject: 'back again', text: 'x' });
    refusing = false;
    expect((await waiting).subject).toBe('back again');
  } finally {
    refusing = false;
    await client.close();
  }
});
