import net from 'node:net';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FAULT_RULES, type FaultRuleInput, type RegisteredFaultRule, type SmtpSession } from '@mailwright/core';
import { startTestServer, pollFor, type TestServer } from '../test-support/test-server.js';

const HOST = '127.0.0.1';
let counter = 0;
const address = (): string => `r${++counter}-${process.pid}@faults.test`;

interface SendError extends Error {
  code?: string;
  responseCode?: number;
  command?: string;
  rejected?: string[];
}

describe('fault rules', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.close());
  afterEach(async () => {
    await t.request('/faults', { method: 'DELETE' });
  });

  const transport = (options: { pool?: boolean; ignoreTLS?: boolean; requireTLS?: boolean } = {}) => {
    const common = {
      host: HOST,
      port: t.listenerPort('smtp'),
      secure: false,
      ignoreTLS: options.ignoreTLS ?? true,
      requireTLS: options.requireTLS ?? false,
      tls: { rejectUnauthorized: false },
    };
    return options.pool ? nodemailer.createTransport({ ...common, pool: true, maxConnections: 1 }) : nodemailer.createTransport(common);
  };

  async function add(rule: FaultRuleInput): Promise<RegisteredFaultRule> {
    const response = await t.request('/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
    expect(response.status, await response.clone().text()).toBe(201);
    return (await response.json()) as RegisteredFaultRule;
  }

  async function sendError(send: Promise<unknown>): Promise<SendError> {
    const error = await send.then(
      () => null,
      (caught: unknown) => caught as SendError,
    );
    if (error === null) throw new Error('the send was expected to fail');
    return error;
  }

  async function sessionWithFault(rule: string): Promise<SmtpSession> {
    return pollFor(async () => {
      const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>('/sessions?limit=100');
      return sessions.find((session) => session.closedAt !== null && session.faults?.some((fault) => fault.rule === rule));
    }, `a closed session where ${rule} fired`);
  }

  const mail = (to: string | string[], subject = 'fault test') => ({ from: 'app@app.test', to, subject, text: 'hello' });

  it('451 at RCPT once: nodemailer reports EENVELOPE with responseCode 451, the retry is delivered, the session lists the fault', async () => {
    const to = address();
    const rule = await add({ at: 'rcpt', action: { reply: { code: 451, text: '4.7.1 Try again later' } }, match: { recipient: to }, times: 1 });
    const client = transport();
    const error = await sendError(client.sendMail(mail(to)));
    expect(error.code).toBe('EENVELOPE');
    expect(error.responseCode).toBe(451);
    expect(error.message).toMatch(/4\.7\.1 Try again later/);
    const info = await client.sendMail(mail(to));
    expect(info.accepted).toEqual([to]);
    expect((await t.messages({ to })).total).toBe(1);
    const session = await sessionWithFault(rule.id);
    expect(session.faults).toEqual([expect.objectContaining({ rule: rule.id, at: 'rcpt', action: 'reply', code: 451, argument: to })]);
    const note = session.transcript.findIndex((line) => line.fault === rule.id);
    expect(note).toBeGreaterThan(0);
    expect(session.transcript[note + 1]?.line).toBe('451 4.7.1 Try again later');
    const listed = await t.getJson<RegisteredFaultRule>(`/faults/${rule.id}`);
    expect(listed).toMatchObject({ matched: 2, fired: 1 });
  });

  it('one recipient of several failing: the others are accepted and the message carries only them', async () => {
    const [good1, bad, good2] = [address(), address(), address()];
    await add({ at: 'rcpt', action: { reply: { code: 550, text: '5.1.1 User unknown' } }, match: { recipient: bad } });
    const info = await transport().sendMail(mail([good1, bad, good2]));
    expect(info.accepted).toEqual([good1, good2]);
    expect(info.rejected).toEqual([bad]);
    const rejectedError = (info as unknown as { rejectedErrors?: SendError[] }).rejectedErrors?.[0];
    expect(rejectedError?.responseCode).toBe(550);
    const { messages } = await t.messages({ to: good1 });
    expect(messages[0]?.envelope.rcptTo).toEqual([good1, good2]);
  });

  it('pooled: a fault on one message leaves the next message on the same connection unaffected', async () => {
    const [bad, good] = [address(), address()];
    await add({ at: 'rcpt', action: { reply: { code: 452, text: '4.2.2 Mailbox full' } }, match: { recipient: bad } });
    const pool = transport({ pool: true });
    try {
      const [failed, delivered] = await Promise.allSettled([pool.sendMail(mail(bad)), pool.sendMail(mail(good))]);
      expect(failed.status).toBe('rejected');
      expect((failed as PromiseRejectedResult).reason).toMatchObject({ code: 'EENVELOPE', responseCode: 452 });
      expect(delivered).toMatchObject({ status: 'fulfilled', value: { accepted: [good] } });
    } finally {
      pool.close();
    }
  });

  it('552 at end of data: EMESSAGE, nothing is stored', async () => {
    const to = address();
    await add({ at: 'end-of-data', action: { reply: { code: 552 } }, match: { recipient: to } });
    const error = await sendError(transport().sendMail(mail(to)));
    expect(error).toMatchObject({ code: 'EMESSAGE', responseCode: 552 });
    expect(error.message).toMatch(/5\.3\.4 Message too big for system/);
    expect((await t.messages({ to })).total).toBe(0);
  });

  it('disconnect mid-DATA: the message is not kept; the retry is delivered once', async () => {
    const to = address();
    const rule = await add({ at: 'data', action: { disconnectMidData: true }, match: { recipient: to }, times: 1 });
    const error = await sendError(transport().sendMail(mail(to)));
    expect(error).toMatchObject({ code: 'ECONNECTION', message: 'Connection closed unexpectedly' });
    expect((await t.messages({ to })).total).toBe(0);
    await transport().sendMail(mail(to));
    expect((await t.messages({ to })).total).toBe(1);
    const session = await sessionWithFault(rule.id);
    expect(session.error).toMatchObject({ stage: 'smtp', code: 'fault_disconnect' });
    expect(session.transcript.some((line) => line.line.startsWith('354 '))).toBe(true);
  });

  it('disconnect before the reply to MAIL FROM, matched by sender', async () => {
    const sender = `s${++counter}@app.test`;
    await add({ at: 'mail', action: { disconnect: true }, match: { sender } });
    const error = await sendError(transport().sendMail({ ...mail(address()), from: sender }));
    expect(error).toMatchObject({ code: 'ECONNECTION', message: 'Connection closed unexpectedly' });
  });

  it('matched by AUTH user and by client name: only that user and that client are refused', async () => {
    await add({ at: 'auth', action: { reply: { code: 454, text: '4.7.0 Temporary authentication failure' } }, match: { user: 'flaky-user' } });
    await add({ at: 'ehlo', action: { reply: { code: 421 } }, match: { clientName: 'flaky.client.test' } });
    const withAuth = (user: string, name?: string) =>
      nodemailer.createTransport({ host: HOST, port: t.listenerPort('smtp'), ignoreTLS: true, auth: { user, pass: 'secret' }, ...(name ? { name } : {}) });
    const refused = await sendError(withAuth('flaky-user').sendMail(mail(address())));
    expect(refused).toMatchObject({ code: 'EAUTH', responseCode: 454 });
    await withAuth('steady-user').sendMail(mail(address()));
    const ehlo = await sendError(withAuth('steady-user', 'flaky.client.test').sendMail(mail(address())));
    expect(ehlo).toMatchObject({ code: 'ECONNECTION', responseCode: 421 });
    await withAuth('steady-user', 'steady.client.test').sendMail(mail(address()));
  });

  it('greylisting: the first attempt gets 451 4.7.1, the retry after the delay is accepted', async () => {
    const to = address();
    await add({ at: 'rcpt', action: { greylist: { retryAfterMs: 0 } }, match: { recipient: to } });
    const error = await sendError(transport().sendMail(mail(to)));
    expect(error).toMatchObject({ code: 'EENVELOPE', responseCode: 451 });
    expect(error.message).toMatch(/451 4\.7\.1/);
    await transport().sendMail(mail(to));
    expect((await t.messages({ to })).total).toBe(1);
  });

  it('rate limiting: more than max messages per window from one sender get 451', async () => {
    const sender = `limited${++counter}@app.test`;
    await add({ at: 'mail', action: { rateLimit: { max: 2, windowMs: 3_600_000, code: 451 } }, match: { sender } });
    const client = transport();
    await client.sendMail({ ...mail(address()), from: sender });
    await client.sendMail({ ...mail(address()), from: sender });
    const error = await sendError(client.sendMail({ ...mail(address()), from: sender }));
    expect(error).toMatchObject({ code: 'EENVELOPE', responseCode: 451 });
    // Another sender is not counted with this one.
    await client.sendMail(mail(address()));
  });

  it('a 554 greeting refuses the connection', async () => {
    await add({ at: 'connect', action: { reply: { code: 554, text: '5.7.1 No service for you' } }, match: { listener: 'smtp' }, times: 1 });
    const error = await sendError(transport().sendMail(mail(address())));
    expect(error).toMatchObject({ code: 'EPROTOCOL', responseCode: 554 });
  });

  it('a TLS handshake failure at STARTTLS: the client fails, the session records a TLS error', async () => {
    const rule = await add({ at: 'starttls', action: { tlsFailure: true }, times: 1 });
    const error = await sendError(transport({ ignoreTLS: false, requireTLS: true }).sendMail(mail(address())));
    expect(error.code).toBe('ESOCKET');
    expect(error.message).toMatch(/alert handshake failure/);
    const session = await sessionWithFault(rule.id);
    expect(session.error).toMatchObject({ stage: 'tls', code: 'handshake_failure' });
  });

  it('a slow greeting arrives one byte at a time, and the session goes on as usual', async () => {
    const rule = await add({ at: 'connect', action: { slowReply: { byteDelayMs: 1 } }, match: { listener: 'smtp' }, times: 1 });
    const chunks = await new Promise<string[]>((resolve, reject) => {
      const socket = net.connect(t.listenerPort('smtp'), HOST);
      const received: string[] = [];
      socket.on('data', (chunk) => {
        received.push(chunk.toString());
        if (received.join('').endsWith('\r\n')) {
          socket.end('QUIT\r\n');
          resolve(received);
        }
      });
      socket.on('error', reject);
    });
    expect(chunks.join('')).toMatch(/^220 .* ESMTP Mailwright\r\n$/);
    expect(chunks.length).toBeGreaterThan(10);
    expect((await sessionWithFault(rule.id)).faults?.[0]).toMatchObject({ action: 'slowReply', code: null });
  });

  it('a delay at RCPT holds the reply, then the message is delivered', async () => {
    const to = address();
    const rule = await add({ at: 'rcpt', action: { delay: 50 }, match: { recipient: to } });
    await transport().sendMail(mail(to));
    expect((await t.messages({ to })).total).toBe(1);
    expect((await sessionWithFault(rule.id)).transcript.find((line) => line.fault === rule.id)?.line).toBe(`(fault ${rule.id} at rcpt: delay 50 ms)`);
  });

  it('nth and seeded probability fire on the same attempts every run', async () => {
    const to = address();
    const rule = await add({ at: 'rcpt', action: { reply: { code: 450 } }, match: { recipient: to }, nth: 2 });
    const client = transport();
    await client.sendMail(mail(to));
    await expect(client.sendMail(mail(to))).rejects.toMatchObject({ responseCode: 450 });
    await client.sendMail(mail(to));
    expect(await t.getJson<RegisteredFaultRule>(`/faults/${rule.id}`)).toMatchObject({ matched: 3, fired: 1 });

    const outcomes = async (): Promise<boolean[]> => {
      const recipient = address();
      const seeded = await add({ at: 'rcpt', action: { reply: { code: 451 } }, match: { recipient }, probability: 0.5, seed: 99 });
      const results: boolean[] = [];
      for (let attempt = 0; attempt < 8; attempt += 1)
        results.push(
          await client.sendMail(mail(recipient)).then(
            () => true,
            () => false,
          ),
        );
      await t.request(`/faults/${seeded.id}`, { method: 'DELETE' });
      return results;
    };
    const first = await outcomes();
    expect(await outcomes()).toEqual(first);
    expect(first).toContain(true);
    expect(first).toContain(false);
  });

  describe('REST', () => {
    const post = (body: unknown) => t.request('/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    it('lists, gets and deletes rules; DELETE /faults removes every one', async () => {
      const a = await add({ id: 'one', at: 'rcpt', action: { reply: { code: 451 } }, match: { recipient: 'a@x.test' } });
      await add({ at: 'ehlo', action: { delay: 10 } });
      expect(a.id).toBe('one');
      const { faults } = await t.getJson<{ faults: RegisteredFaultRule[] }>('/faults');
      expect(faults.map((fault) => fault.at)).toEqual(['rcpt', 'ehlo']);
      expect(faults[1]?.id).toMatch(/^fault-/);
      expect((await t.request('/faults/one', { method: 'DELETE' })).status).toBe(204);
      expect((await t.request('/faults/one', { method: 'DELETE' })).status).toBe(404);
      expect(await t.getJson('/faults', 200)).toMatchObject({ faults: [{ at: 'ehlo' }] });
      expect(await (await t.request('/faults', { method: 'DELETE' })).json()).toEqual({ deleted: 1 });
    });

    it('refuses bad rules with 400 and a message naming every problem', async () => {
      const response = await post({ at: 'helo', action: { reply: { code: 250 } }, match: { recipient: 'a@x.test' } });
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('INVALID_FAULT');
      expect(error.message).toMatch(/at: /);
      expect(error.message).toMatch(/reject code is 400 to 599/);
      const delay = await post({ at: 'rcpt', action: { delay: 3_600_000 } });
      expect(delay.status).toBe(400);
      expect(((await delay.json()) as { error: { message: string } }).error.message).toMatch(/at most 60000 ms/);
      const duplicate = await post([
        { id: 'twice', at: 'rcpt', action: { disconnect: true } },
        { id: 'twice', at: 'rcpt', action: { disconnect: true } },
      ]);
      expect(duplicate.status).toBe(400);
      expect(((await duplicate.json()) as { error: { message: string } }).error.message).toMatch(/rule #2: id: a fault rule with id "twice" already exists/);
      expect((await post('nonsense')).status).toBe(400);
      expect(await t.getJson('/faults')).toEqual({ faults: [] });
    });

    it('refuses 10,000 rules with 400 TOO_MANY_FAULTS, and takes the cap', async () => {
      const rule = (index: number) => ({ at: 'rcpt', action: { reply: { code: 451 } }, match: { recipient: `n${index}@x.test` } });
      const tooMany = await post(Array.from({ length: 10_000 }, (_, index) => rule(index)));
      expect(tooMany.status).toBe(400);
      const { error } = (await tooMany.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('TOO_MANY_FAULTS');
      expect(error.message).toMatch(`At most ${MAX_FAULT_RULES} fault rules`);
      const full = await post(Array.from({ length: MAX_FAULT_RULES }, (_, index) => rule(index)));
      expect(full.status).toBe(201);
      expect((await post(rule(-1))).status).toBe(400);
      // With the cap reached, mail to other recipients flows as before.
      const to = address();
      await transport().sendMail(mail(to));
      expect((await t.messages({ to })).total).toBe(1);
    });
  });
});
