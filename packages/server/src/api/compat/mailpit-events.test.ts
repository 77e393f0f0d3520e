import nodemailer from 'nodemailer';
import { MailpitClient } from 'mailpit-api';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

interface MailpitEvent {
  Type: string;
  Data: unknown;
}

/** A connected events socket that records every frame, and waits for the first one matching a predicate. */
async function connect(url: string, headers: Record<string, string> = {}) {
  const socket = new WebSocket(url, { headers });
  const events: MailpitEvent[] = [];
  const waiters: { test: (event: MailpitEvent) => boolean; resolve: (event: MailpitEvent) => void }[] = [];
  socket.on('message', (data: Buffer) => {
    const event = JSON.parse(data.toString('utf8')) as MailpitEvent;
    events.push(event);
    for (const waiter of [...waiters]) {
      if (waiter.test(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    events,
    next(test: (event: MailpitEvent) => boolean): Promise<MailpitEvent> {
      const found = events.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}

async function send(t: TestServer, subject: string): Promise<string> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: t.server.smtp.port, secure: false, ignoreTLS: true });
  try {
    const info = await transport.sendMail({ from: 'a@app.test', to: 'b@example.test', subject, text: 'events' });
    const id = /queued as (\S+)/.exec(info.response)?.[1];
    if (!id) throw new Error(`unexpected reply ${info.response}`);
    return id;
  } finally {
    transport.close();
  }
}

describe('Mailpit events WebSocket (/api/events)', () => {
  let t: TestServer;
  let eventsUrl: string;

  beforeAll(async () => {
    t = await startTestServer({ apiToken: 'events-secret' });
    eventsUrl = `${t.server.info().compatibility.mailpit.replace(/^http/, 'ws')}/api/events`;
  });
  afterAll(async () => {
    await t.close();
  });

  it('announces new, update, delete and truncate events with stats after them', async () => {
    const events = await connect(eventsUrl, { Authorization: 'Bearer events-secret' });
    const mailpit = new MailpitClient(t.server.info().compatibility.mailpit, { fetchOptions: { headers: { Authorization: 'Bearer events-secret' } } });
    try {
      const first = await send(t, 'Event one');
      const created = await events.next((event) => event.Type === 'new' && (event.Data as { ID: string }).ID === first);
      expect(created.Data).toMatchObject({ Subject: 'Event one', Read: false, From: { Address: 'a@app.test' } });
      expect((created.Data as { Mailwright: { listener: string } }).Mailwright.listener).toBe('smtp');
      const stats = await events.next((event) => event.Type === 'stats' && (event.Data as { Total: number }).Total === 1);
      expect(stats.Data).toMatchObject({ Total: 1, Unread: 1 });

      const second = await send(t, 'Event two');
      await events.next((event) => event.Type === 'new' && (event.Data as { ID: string }).ID === second);
      await mailpit.getMessageSummary(second);
      expect((await events.next((event) => event.Type === 'update' && 'Read' in (event.Data as object))).Data).toEqual({ ID: second, Read: true });
      await events.next(
        (event) => event.Type === 'stats' && (event.Data as { Total: number; Unread: number }).Total === 2 && (event.Data as { Unread: number }).Unread === 1,
      );
      await mailpit.setTags({ IDs: [second], Tags: ['urgent'] });
      expect((await events.next((event) => event.Type === 'update' && 'Tags' in (event.Data as object))).Data).toEqual({ ID: second, Tags: ['urgent'] });
      await mailpit.deleteMessages({ IDs: [first] });
      expect((await events.next((event) => event.Type === 'delete')).Data).toEqual({ ID: first });
      await mailpit.deleteMessages();
      await events.next((event) => event.Type === 'truncate');
      await events.next((event) => event.Type === 'stats' && (event.Data as { Total: number }).Total === 0);
      // Mailwright's own stream still answers beside it.
      const stream = new WebSocket(`${t.server.url.replace(/^http/, 'ws')}/api/v1/stream`, 'mailwright.v1', {
        headers: { Authorization: 'Bearer events-secret' },
      });
      await new Promise<void>((resolve, reject) => {
        stream.once('open', resolve);
        stream.once('error', reject);
      });
      stream.close();
    } finally {
      events.socket.close();
    }
  });

  it('refuses an upgrade without the API token', async () => {
    const socket = new WebSocket(eventsUrl);
    // terminate() before an upgrade reports an error; the status is what is tested.
    socket.on('error', () => undefined);
    const status = await new Promise<number>((resolve) => {
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('open', () => resolve(101));
    });
    socket.terminate();
    expect(status).toBe(401);
  });
});
