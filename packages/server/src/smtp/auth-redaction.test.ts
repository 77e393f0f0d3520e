import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmtpSession } from '@mailwright/core';
import { RawSmtpClient } from '../test-support/raw-smtp-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const USER = 'carol-user';
const PASSWORD = 'hunter2-Secret!';
const SECRETS = [PASSWORD, b64(PASSWORD), b64(USER), b64(`\0${USER}\0${PASSWORD}`), b64(`${USER}\0${USER}\0${PASSWORD}`)];

describe('credentials sent after a refused AUTH', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ auth: 'off' });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('never reach the transcript, whatever the mechanism; the commands around them do', async () => {
    const client = await RawSmtpClient.connect({ host: '127.0.0.1', port: t.server.smtp.port });
    await client.ehlo();
    expect((await client.command(`AUTH PLAIN ${b64(`\0${USER}\0${PASSWORD}`)}`)).code).toBeGreaterThanOrEqual(500);
    // A client that does not wait for 334 sends its continuation lines anyway.
    expect((await client.command('AUTH LOGIN')).code).toBeGreaterThanOrEqual(500);
    await client.command(b64(USER));
    await client.command(b64(PASSWORD));
    expect((await client.command('AUTH PLAIN')).code).toBeGreaterThanOrEqual(500);
    await client.command(b64(`${USER}\0${USER}\0${PASSWORD}`));
    await client.command(PASSWORD);
    expect((await client.command('MAIL FROM:<app@example.test>')).code).toBe(250);
    // After a real command, other lines are unknown commands again and kept as sent.
    await client.command('XYZZY not-a-secret');
    await client.quit();

    const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>('/sessions?limit=1');
    const session = await t.closedSession(sessions[0]?.id ?? '');
    const transcript = JSON.stringify(await (await t.request(`/sessions/${session.id}`)).json());
    for (const secret of SECRETS) expect(transcript).not.toContain(secret);
    const clientLines = session.transcript.filter((entry) => entry.dir === 'client').map((entry) => entry.line);
    expect(clientLines).toEqual([
      'EHLO client.mailwright.test',
      'AUTH PLAIN /* secured */',
      'AUTH LOGIN',
      '/* secured */',
      '/* secured */',
      'AUTH PLAIN',
      '/* secured */',
      '/* secured */',
      'MAIL FROM:<app@example.test>',
      'XYZZY not-a-secret',
      'QUIT',
    ]);
    expect(session.authBeforeTls).toBe(true);
  });
});
