import nodemailer from 'nodemailer';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_PROTOCOL, type ServerFrame } from '@mailwright/core';
import { pollFor, startTestServer, type TestServer } from '../test-support/test-server.js';

/** The classic catastrophic pattern: a backtracking engine needs 2^n steps on `a…a!`. */
const CATASTROPHIC = 're:(a+)+$';
const LONG_A = `${'a'.repeat(50_000)}!`;

describe('regular-expression filters', () => {
  let t: TestServer;

  const send = async (subject: string, text: string): Promise<void> => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: t.server.smtp.port, ignoreTLS: true });
    await transport.sendMail({ from: 'app@example.test', to: 'redos@example.test', subject, text });
  };

  beforeAll(async () => {
    t = await startTestServer();
    await send('long body', LONG_A);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('a catastrophic pattern answers, while SMTP and /health keep answering', async () => {
    const searches = Promise.all([
      t.request(`/messages?text=${encodeURIComponent(CATASTROPHIC)}`),
      t.request(`/messages/wait?timeout=0&text=${encodeURIComponent(CATASTROPHIC)}`),
    ]);
    const [health] = await Promise.all([t.request('/health'), send('sent meanwhile', 'hello')]);
    expect(health.status).toBe(200);
    const [list, wait] = await searches;
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({ total: 0 });
    expect(wait.status).toBe(408);
    expect((await t.messages({ subject: 'sent meanwhile' })).total).toBe(1);
    expect((await t.messages({ text: 're:^a+!\\s*$' })).total).toBe(1);
  });

  it('a pattern RE2 cannot honour is a 400 INVALID_FILTER saying why, on every route', async () => {
    for (const [pattern, reason] of [
      ['re:(a)\\1', /backreferences/],
      ['re:(?=a)', /lookaround/],
      ['re:(?:[a-z]{1,50}){1,20}', /too complex/],
      [`re:${'a'.repeat(1001)}`, /1000/],
    ] as const) {
      for (const [method, path] of [
        ['GET', '/messages'],
        ['GET', '/messages/wait'],
        ['DELETE', '/messages'],
      ] as const) {
        const response = await t.request(`${path}?text=${encodeURIComponent(pattern)}`, { method });
        expect(response.status, `${method} ${path} ${pattern.slice(0, 30)}`).toBe(400);
        const body = (await response.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('INVALID_FILTER');
        expect(body.error.message).toMatch(reason);
      }
    }
    expect((await t.messages()).total).toBe(2);
  });

  it('a stream subscription with a catastrophic pattern does not stall delivery; one RE2 refuses gets an error frame', async () => {
    const socket = new WebSocket(`${t.server.url.replace('http', 'ws')}/api/v1/stream`, STREAM_PROTOCOL);
    const frames: ServerFrame[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(data.toString()) as ServerFrame));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      socket.send(JSON.stringify({ type: 'subscribe', id: 'bad', filter: { subject: CATASTROPHIC } }));
      socket.send(JSON.stringify({ type: 'subscribe', id: 'good', filter: { subject: 'after the long one' } }));
      socket.send(JSON.stringify({ type: 'subscribe', id: 'refused', filter: { subject: 're:(x)\\1' } }));
      await pollFor(() => (frames.filter((frame) => frame.type === 'subscribed').length === 2 ? true : undefined), 'two subscriptions');
      const error = await pollFor(() => frames.find((frame) => frame.type === 'error'), 'an error frame');
      expect(error).toMatchObject({ code: 'INVALID_FILTER', subscription: 'refused', message: expect.stringMatching(/backreferences/) });

      await send(`${'a'.repeat(20_000)}!`, 'x');
      await send('after the long one', 'x');
      const delivered = await pollFor(
        () => frames.find((frame) => frame.type === 'message' && frame.subscription === 'good'),
        'the message after the long subject',
      );
      expect(delivered).toMatchObject({ message: { subject: 'after the long one' } });
      expect(frames.some((frame) => frame.type === 'message' && frame.subscription === 'bad')).toBe(false);
    } finally {
      socket.terminate();
    }
  });
});
