import { afterEach, describe, expect, it } from 'vitest';
import type { CapturedMessage, SmtpSession } from '@mailwright/core';
import { RawSmtpClient } from '../test-support/raw-smtp-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const HOST = '127.0.0.1';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

function message(index: number): Buffer {
  return Buffer.from(`From: app@app.test\r\nTo: user@inbox.test\r\nSubject: retained ${index}\r\n\r\nbody ${index}\r\n`);
}

describe('retention', () => {
  it('maxMessages drops the oldest messages, and only those', async () => {
    t = await startTestServer({ maxMessages: 3 });
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    await client.ehlo();
    const ids: string[] = [];
    for (let index = 1; index <= 5; index++) {
      const replies = await client.sendMessage({ from: 'app@app.test', to: ['user@inbox.test'], data: message(index) });
      const id = /queued as (\S+)/.exec(replies.final?.lines.join(' ') ?? '')?.[1];
      if (!id) throw new Error(`message ${index} not accepted`);
      ids.push(id);
    }
    await client.quit();

    const list = await t.getJson<{ messages: CapturedMessage[]; total: number }>('/messages');
    expect(list.total).toBe(3);
    expect(list.messages.map((stored) => stored.subject)).toEqual(['retained 5', 'retained 4', 'retained 3']);
    expect(list.messages.map((stored) => stored.seq)).toEqual([5, 4, 3]);
    for (const dropped of ids.slice(0, 2)) {
      expect((await t.request(`/messages/${dropped}`)).status).toBe(404);
      expect((await t.request(`/messages/${dropped}/raw`)).status).toBe(404);
    }
    for (const [offset, kept] of ids.slice(2).entries()) expect((await t.raw(kept)).equals(message(offset + 3))).toBe(true);

    // One more arrival drops exactly one more.
    const again = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    await again.ehlo();
    expect((await again.sendMessage({ from: 'app@app.test', to: ['user@inbox.test'], data: message(6) })).final?.code).toBe(250);
    await again.quit();
    const after = await t.getJson<{ messages: CapturedMessage[]; total: number }>('/messages');
    expect(after.messages.map((stored) => stored.subject)).toEqual(['retained 6', 'retained 5', 'retained 4']);
  });

  it('maxSessions keeps the newest sessions', async () => {
    t = await startTestServer({ maxSessions: 2 });
    for (let index = 0; index < 4; index++) {
      const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
      await client.ehlo(`client-${index}.test`);
      await client.quit();
      const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>('/sessions?limit=1');
      await t.closedSession(sessions[0]?.id ?? '');
    }
    // Saving the next session is what evicts closed ones: open one more and look.
    const last = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    await last.ehlo('client-last.test');
    const { sessions, total } = await t.getJson<{ sessions: SmtpSession[]; total: number }>('/sessions');
    expect(total).toBeLessThanOrEqual(2);
    expect(sessions.map((session) => session.clientName)).toContain('client-last.test');
    expect(sessions.map((session) => session.clientName)).not.toContain('client-0.test');
    await last.quit();
  });
});
