import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import nodemailer from 'nodemailer';
import type { CapturedMessage, ServerFrame } from '@mailwright/core';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMailwright } from '../mailwright.js';
import type { RunningMailwright } from '../mailwright.js';
import { newMessage } from '../test-support/new-message.js';
import { createParsePool, type ParsePool } from '../analysis/parse-pool.js';
import { contentReader } from '../analysis/content-reader.js';
import { summarizeMessage } from '../analysis/parse-message.js';
import { createMemoryStore } from '../store/memory-store.js';
import { silentLogger } from '../logger.js';
import { attachStreamHub } from './stream-hub.js';
import { readMessageDetail } from './message-detail.js';

const servers: RunningMailwright[] = [];
const sockets: WebSocket[] = [];

const teardowns: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const teardown of teardowns.splice(0)) await teardown();
});

async function start(options: Parameters<typeof createMailwright>[0] = {}): Promise<RunningMailwright> {
  const server = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0, ...options });
  servers.push(server);
  return server;
}

/** A plain `ws` client that records every frame. */
function connect(server: RunningMailwright, headers: Record<string, string> = {}) {
  const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/stream`, 'mailwright.v1', { headers });
  sockets.push(socket);
  const frames: ServerFrame[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data) => {
    frames.push(JSON.parse(data.toString()) as ServerFrame);
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return {
    socket,
    frames,
    closed,
    opened: new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
      socket.once('error', reject);
    }),
    send(frame: unknown) {
      socket.send(JSON.stringify(frame));
    },
    messages(subscription: string): CapturedMessage[] {
      return frames.flatMap((frame) => (frame.type === 'message' && frame.subscription === subscription ? [frame.message] : []));
    },
    async until(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out; ${frames.length} frames so far`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200).unref();
        });
      }
    },
  };
}

/** 200 messages from 10 concurrent SMTP connections; every other one matches `subject: match`. */
async function burst(server: RunningMailwright, tag: string, connections = 10, perConnection = 20): Promise<void> {
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      const transport = nodemailer.createTransport({ host: server.smtp.host, port: server.smtp.port, ignoreTLS: true, pool: true, maxConnections: 1 });
      try {
        for (let i = 0; i < perConnection; i++) {
          const n = c * perConnection + i;
          await transport.sendMail({
            from: 'app@example.test',
            to: `${tag}-${n}@example.test`,
            subject: `${n % 2 === 0 ? 'match' : 'other'} ${tag} ${n}`,
            text: 'x',
          });
        }
      } finally {
        transport.close();
      }
    }),
  );
}

function expectExactlyOnceInOrder(received: CapturedMessage[], expected: CapturedMessage[]): void {
  const seqs = received.map((message) => message.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(seqs).toEqual(expected.map((message) => message.seq).sort((a, b) => a - b));
}

async function matching(server: RunningMailwright, tag: string): Promise<CapturedMessage[]> {
  return (await server.store.listMessages({ filter: { subject: `match ${tag}` }, limit: 1000 })).messages;
}

describe('the WebSocket stream', () => {
  it('says hello with the current seq and refuses unknown subprotocol-less junk frames with an error frame', async () => {
    const server = await start();
    const client = connect(server);
    await client.opened;
    await client.until(() => client.frames.length >= 1);
    expect(client.frames[0]).toEqual({ type: 'hello', version: 1, seq: 0, epoch: expect.any(String) });
    expect(client.socket.protocol).toBe('mailwright.v1');
    client.socket.send('not json');
    client.send({ type: 'subscribe', id: 'bad', filter: { subject: 're:(' } });
    await client.until(() => client.frames.filter((frame) => frame.type === 'error').length === 2);
    expect(client.frames.filter((frame) => frame.type === 'error').map((frame) => (frame as { code: string }).code)).toEqual([
      'INVALID_REQUEST',
      'INVALID_FILTER',
    ]);
  });

  it('follows the store only while a subscription wants messages, so that the store reads mail on arrival only for someone', async () => {
    const server = await start();
    let followers = 0;
    const follow = server.store.follow.bind(server.store);
    server.store.follow = () => {
      const following = follow();
      followers += 1;
      let open = true;
      const close = (): void => {
        if (open) followers -= 1;
        open = false;
        following.close();
      };
      return { close, [Symbol.dispose]: close };
    };
    const listeners = () => followers;
    const client = connect(server);
    await client.opened;
    expect(listeners()).toBe(0);
    client.send({ type: 'subscribe', id: 'sessions', events: ['session'] });
    await client.until(() => client.frames.some((frame) => frame.type === 'subscribed'));
    expect(listeners()).toBe(0);
    client.send({ type: 'subscribe', id: 'mail' });
    await client.until(() => client.frames.filter((frame) => frame.type === 'subscribed').length === 2);
    expect(listeners()).toBe(1);
    client.send({ type: 'unsubscribe', id: 'mail' });
    await expect.poll(listeners, { timeout: 5_000 }).toBe(0);
    client.send({ type: 'subscribe', id: 'mail-again' });
    await expect.poll(listeners, { timeout: 5_000 }).toBe(1);
    client.socket.close();
    await client.closed;
    await expect.poll(listeners, { timeout: 5_000 }).toBe(0);
  });

  it('delivers each matching message of 200 from 10 connections exactly once, in seq order', async () => {
    const server = await start();
    const client = connect(server);
    await client.opened;
    client.send({ type: 'subscribe', id: 'half', filter: { subject: 'match burst1' } });
    await client.until(() => client.frames.some((frame) => frame.type === 'subscribed'));
    await burst(server, 'burst1');
    const expected = await matching(server, 'burst1');
    expect(expected).toHaveLength(100);
    await client.until(() => client.messages('half').length >= 100);
    expectExactlyOnceInOrder(client.messages('half'), expected);
  });

  it('joins replay and live delivery with no gap for a client that subscribes mid-burst', async () => {
    const server = await start();
    const sending = burst(server, 'burst2');
    const following = server.store.follow();
    await new Promise<void>((resolve) => {
      const onMessage = (message: CapturedMessage): void => {
        if (message.seq >= 60) {
          server.store.off('message', onMessage);
          following.close();
          resolve();
        }
      };
      server.store.on('message', onMessage);
    });
    const client = connect(server);
    await client.opened;
    client.send({ type: 'subscribe', id: 'late', since: 0, filter: { subject: 'match burst2' } });
    await sending;
    await client.until(() => client.messages('late').length >= 100);
    expectExactlyOnceInOrder(client.messages('late'), await matching(server, 'burst2'));
  });

  it('a client that reconnects from its last seq gets nothing twice and loses nothing', async () => {
    const server = await start();
    const first = connect(server);
    await first.opened;
    first.send({ type: 'subscribe', id: 'a', since: 0, filter: { subject: 'match burst3' } });
    const sending = burst(server, 'burst3');
    await first.until(() => first.messages('a').length >= 20);
    first.socket.terminate();
    const seen = first.messages('a');
    const last = seen.at(-1)!.seq;
    const second = connect(server);
    await second.opened;
    second.send({ type: 'subscribe', id: 'a', since: last, filter: { subject: 'match burst3' } });
    await sending;
    await second.until(() => seen.length + second.messages('a').length >= 100);
    expectExactlyOnceInOrder([...seen, ...second.messages('a')], await matching(server, 'burst3'));
  });

  it('closes a client that stops reading with 4008 instead of buffering without bound', async () => {
    const server = await start({ streamMaxBufferedBytes: 256 * 1024, maxMessages: 50 });
    const slow = connect(server);
    const healthy = connect(server);
    await Promise.all([slow.opened, healthy.opened]);
    slow.send({ type: 'subscribe', id: 'all' });
    healthy.send({ type: 'subscribe', id: 'all' });
    await slow.until(() => slow.frames.some((frame) => frame.type === 'subscribed'));
    await healthy.until(() => healthy.frames.some((frame) => frame.type === 'subscribed'));
    // Stop reading: the kernel buffers fill, then the server's send buffer.
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const bigSubject = 'x'.repeat(16 * 1024);
    const total = 3000; // ~48 MB of frames, far beyond every buffer on the way
    const template = newMessage({}, { subject: bigSubject });
    for (let i = 0; i < total; i++) {
      await server.store.addMessage(template);
      // Give the healthy reader its turn: it keeps up, the paused one does not.
      if (i % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      if (slow.socket.readyState !== WebSocket.OPEN && i > 100) break;
    }
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    const { code } = await slow.closed;
    expect(code).toBe(4008);
    expect(slow.messages('all').length).toBeLessThan(total);
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^mailwright_stream_slow_clients_total 1$/m);
    // The healthy client is unaffected and still live.
    expect(healthy.socket.readyState).toBe(WebSocket.OPEN);
    const before = healthy.messages('all').length;
    await server.store.addMessage(newMessage({}, { subject: 'after' }));
    await healthy.until(() => healthy.messages('all').length > before);
    expect(healthy.messages('all').at(-1)?.subject).toBe('after');
  });

  it('checks browser origins and the API token', async () => {
    const server = await start({ apiToken: 'secret-token-1', allowedOrigins: ['http://app.example.test'] });
    await expect(connect(server).opened).rejects.toThrow('HTTP 401');
    await expect(connect(server, { authorization: 'Bearer secret-token-1', origin: 'http://evil.example.test' }).opened).rejects.toThrow('HTTP 403');
    await connect(server, { authorization: 'Bearer secret-token-1', origin: 'http://app.example.test' }).opened;
    const sameOrigin = new URL(server.url);
    await connect(server, { authorization: 'Bearer secret-token-1', origin: `http://${sameOrigin.host}` }).opened;
    expect((await fetch(`${server.url}/api/v1/messages`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/v1/messages`, { headers: { authorization: 'Bearer secret-token-1' } })).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/messages?token=secret-token-1`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200);
  });

  it('sends session frames only to subscriptions that ask for them, and deleted/cleared to everyone', async () => {
    const server = await start();
    const client = connect(server);
    await client.opened;
    client.send({ type: 'subscribe', id: 'm' });
    client.send({ type: 'subscribe', id: 's', events: ['session'] });
    await client.until(() => client.frames.filter((frame) => frame.type === 'subscribed').length === 2);
    await nodemailer
      .createTransport({ host: server.smtp.host, port: server.smtp.port, ignoreTLS: true })
      .sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'one', text: 'x' });
    await client.until(() => client.frames.some((frame) => frame.type === 'session' && frame.session.closedAt !== null));
    expect(client.frames.filter((frame) => frame.type === 'session').every((frame) => (frame as { subscription: string }).subscription === 's')).toBe(true);
    const [message] = client.messages('m');
    await fetch(`${server.url}/api/v1/messages/${message!.id}`, { method: 'DELETE' });
    await fetch(`${server.url}/api/v1/messages?all=true`, { method: 'DELETE' });
    await client.until(() => client.frames.some((frame) => frame.type === 'cleared'));
    expect(client.frames.find((frame) => frame.type === 'deleted')).toEqual({ type: 'deleted', ids: [message!.id] });
  });

  it('subscriptions with detail get headers, bodies and analysis in each frame, still exactly once and in order', async () => {
    const server = await start();
    const sending = burst(server, 'burst4', 4, 10);
    const client = connect(server);
    await client.opened;
    client.send({ type: 'subscribe', id: 'd', since: 0, detail: true, filter: { subject: 'match burst4' } });
    await sending;
    await client.until(() => client.messages('d').length >= 20);
    const received = client.messages('d') as (CapturedMessage & { headers?: Record<string, string[]>; text?: string })[];
    expectExactlyOnceInOrder(received, await matching(server, 'burst4'));
    for (const message of received) {
      expect(message.headers?.subject).toEqual([message.subject]);
      expect(message.text).toMatch(/^x\s*$/);
    }
    const confirmed = client.frames.findIndex((frame) => frame.type === 'subscribed');
    expect(confirmed).toBeGreaterThan(-1);
  });

  it('GET /messages/wait long-polls: stored mail, mail still to come, and 408 on timeout', async () => {
    const server = await start();
    const transport = nodemailer.createTransport({ host: server.smtp.host, port: server.smtp.port, ignoreTLS: true });
    await transport.sendMail({ from: 'a@example.test', to: 'early@example.test', subject: 'early', text: 'x' });
    const early = await (await fetch(`${server.url}/api/v1/messages/wait?to=early@`)).json();
    expect(early.subject).toBe('early');
    const pending = fetch(`${server.url}/api/v1/messages/wait?to=late@&after=${early.seq}&timeout=5000`);
    await transport.sendMail({ from: 'a@example.test', to: 'late@example.test', subject: 'late', text: 'x' });
    const late = await (await pending).json();
    expect(late.subject).toBe('late');
    const timeout = await fetch(`${server.url}/api/v1/messages/wait?to=never@&timeout=200`);
    expect(timeout.status).toBe(408);
    expect((await timeout.json()).error.code).toBe('WAIT_TIMEOUT');
  });

  it('still delivers a detail frame when the detail cannot be read (the parser is busy), and reads it again for the next subscriber', async () => {
    const busy = createParsePool({ maxQueue: 0 });
    const working = createParsePool({ workers: 1 });
    let pool: ParsePool = busy;
    const store = createMemoryStore({
      readPolicy: 'when-followed',
      maxMessages: 10,
      maxSessions: 10,
      summarize: summarizeMessage,
      readContent: contentReader({ readContent: (raw) => pool.readContent(raw) }, () => undefined),
    });
    const httpServer = http.createServer();
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const hub = attachStreamHub(
      httpServer,
      store,
      { apiToken: undefined, allowedOrigins: [], allowedHosts: [] },
      { maxBufferedBytes: 1024 * 1024, pingIntervalMs: 60_000 },
      silentLogger,
      (message) => readMessageDetail(store, message),
    );
    teardowns.push(async () => {
      await hub.close();
      await new Promise((resolve) => httpServer.close(resolve));
      await Promise.all([busy.close(), working.close()]);
    });
    const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
    const client = connect({ url } as RunningMailwright);
    await client.opened;
    client.send({ type: 'subscribe', id: 'live', detail: true });
    await client.until(() => client.frames.some((frame) => frame.type === 'subscribed'));
    // With an attachment: a small message of a simple shape would be parsed without the pool.
    const raw = Buffer.from(
      'From: a@app.test\r\nTo: b@app.test\r\nSubject: while busy\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n' +
        '--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\nxyz\r\n--b--\r\n',
    );
    const stored = await store.addMessage(newMessage({ raw, size: raw.length }));
    await client.until(() => client.messages('live').length === 1);
    const [live] = client.messages('live') as (CapturedMessage & { headers?: unknown })[];
    expect(live).toMatchObject({ id: stored.id, subject: 'while busy' });
    expect(live?.headers).toBeUndefined();
    // Once the parser has room, the next subscriber gets the detail: the failure was not kept.
    pool = working;
    client.send({ type: 'subscribe', id: 'later', since: 0, detail: true });
    await client.until(() => client.messages('later').length === 1);
    const [later] = client.messages('later') as (CapturedMessage & { headers?: Record<string, string[]> })[];
    expect(later?.headers?.subject).toEqual(['while busy']);
  });
});
