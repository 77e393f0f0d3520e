import { createHmac } from 'node:crypto';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawSmtpClient } from '../test-support/raw-smtp-client.js';
import {
  createSmtpEngine,
  openSmtpConnection,
  REDACTED_CREDENTIALS,
  type SmtpAuthentication,
  type SmtpEngineOptions,
  type SmtpReceivedMessage,
} from './smtp-engine.js';

const HOST = '127.0.0.1';
const SIZE = 4096;
const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** What the engine told the application and wrote to the transcript. */
interface Observed {
  messages: { message: SmtpReceivedMessage; mailFrom: string; rcptTo: string[]; bodyType: string; smtpUtf8: boolean }[];
  auths: SmtpAuthentication[];
  commands: string[];
  replies: string[];
}

let server: net.Server;
let port: number;
let observed: Observed;
/** Answers MAIL FROM on a later tick (as a handler that awaits something would). */
let answerMailLater = false;
const clients = new Set<RawSmtpClient>();

function engineOptions(): SmtpEngineOptions {
  return {
    name: 'mx.engine.test',
    banner: 'Mailwright',
    secure: false,
    disabledCommands: [],
    authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5'],
    authOptional: true,
    size: SIZE,
    socketTimeoutMs: 60_000,
    starttls: null,
    transcript: {
      command: (_id, line) => observed.commands.push(line),
      reply: (_id, payload) => observed.replies.push(payload),
      error: () => undefined,
    },
    onSecure: (_socket, _session, done) => done(),
    onAuth(auth, _session, done) {
      observed.auths.push(auth);
      if (auth.username === 'alice' && auth.validatePassword('secret')) done(null, 'alice');
      else done(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onMailFrom(address, _session, done) {
      if (address.address === 'refused@app.test') return done(Object.assign(new Error('Sender refused'), { responseCode: 550 }));
      if (answerMailLater) setImmediate(() => done());
      else done();
    },
    onRcptTo: (_address, _session, done) => done(),
    onData(message, session, done) {
      const { envelope } = session;
      observed.messages.push({
        message,
        mailFrom: envelope.mailFrom?.address ?? '',
        rcptTo: envelope.rcptTo.map((rcpt) => rcpt.address),
        bodyType: envelope.bodyType,
        smtpUtf8: envelope.smtpUtf8,
      });
      if (message.sizeExceeded) return done(Object.assign(new Error('Too big'), { responseCode: 552 }));
      setImmediate(() => done(null, `Ok: queued as ${observed.messages.length}`));
    },
    onClose: () => undefined,
  };
}

beforeAll(async () => {
  const engine = createSmtpEngine(engineOptions());
  let count = 0;
  server = net.createServer((socket) => {
    count += 1;
    openSmtpConnection(engine, socket, `c${count}`).start();
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  for (const client of clients) client.destroy();
  clients.clear();
  answerMailLater = false;
});

async function connect(): Promise<RawSmtpClient> {
  observed = { messages: [], auths: [], commands: [], replies: [] };
  const client = await RawSmtpClient.connect({ host: HOST, port });
  clients.add(client);
  return client;
}

describe('the SMTP engine', () => {
  it('greets at once and answers EHLO with its extensions', async () => {
    const client = await connect();
    expect(client.greeting.raw).toEqual(['220 mx.engine.test ESMTP Mailwright']);
    const ehlo = await client.ehlo('client.test');
    expect(ehlo.raw).toEqual([
      '250-mx.engine.test Nice to meet you, [127.0.0.1]',
      '250-PIPELINING',
      '250-8BITMIME',
      '250-SMTPUTF8',
      '250-AUTH PLAIN LOGIN CRAM-MD5',
      '250-STARTTLS',
      `250 SIZE ${SIZE}`,
    ]);
    expect((await client.command('HELO client.test')).raw).toEqual(['250 mx.engine.test Nice to meet you, [127.0.0.1]']);
    expect((await client.command('EHLO')).raw).toEqual(['501 Error: syntax: EHLO hostname']);
    expect((await client.command('NOOP')).raw).toEqual(['250 OK']);
    expect((await client.command('RSET')).raw).toEqual(['250 Flushed']);
    expect((await client.command('VRFY someone')).raw).toEqual(['252 Try to send something. No promises though']);
    expect((await client.command('HELP')).raw).toEqual(['214 See https://tools.ietf.org/html/rfc5321 for details']);
    // Without a secure context, STARTTLS is answered but not started.
    expect((await client.command('STARTTLS')).code).toBe(454);
    expect((await client.command('QUIT')).raw).toEqual(['221 Bye']);
    await client.closed;
  });

  it('refuses commands out of sequence with the reply codes clients expect', async () => {
    const client = await connect();
    expect((await client.command('MAIL FROM:<a@app.test>')).raw).toEqual(['503 Error: send HELO/EHLO first']);
    await client.ehlo();
    expect((await client.command('RCPT TO:<b@app.test>')).raw).toEqual(['503 Error: need MAIL command']);
    expect((await client.command('DATA')).raw).toEqual(['503 Error: need RCPT command']);
    expect((await client.command('MAIL FROM:a@app.test')).raw).toEqual(['501 Error: Bad sender address syntax']);
    expect((await client.command('MAIL FROM:<refused@app.test>')).raw).toEqual(['550 Sender refused']);
    expect((await client.command('MAIL FROM:<a@app.test> BODY=9BIT')).code).toBe(501);
    expect((await client.command(`MAIL FROM:<a@app.test> SIZE=${SIZE + 1}`)).raw).toEqual([`552 Error: message exceeds fixed maximum message size ${SIZE}`]);
    expect((await client.command('MAIL FROM:<a@app.test> REQUIRETLS')).code).toBe(530);
    expect((await client.command('MAIL FROM:<a@app.test>')).raw).toEqual(['250 Accepted']);
    expect((await client.command('MAIL FROM:<a@app.test>')).raw).toEqual(['503 Error: nested MAIL command']);
    expect((await client.command('RCPT TO:<>')).raw).toEqual(['501 Error: Bad recipient address syntax']);
    for (let count = 1; count < 10; count++) expect((await client.command('XYZZY')).raw).toEqual(['500 Error: command not recognized']);
    expect((await client.command('XYZZY')).raw).toEqual(['421 Error: too many unrecognized commands']);
    await client.closed;
  });

  it('answers a whole pipelined transaction in order, with a handler that answers later', async () => {
    answerMailLater = true;
    const client = await connect();
    const body = 'Subject: pipelined\r\n\r\n.leading dot\r\nlast\r\n';
    const stuffed = body.replace(/^\./gm, '..');
    client.write(
      `EHLO client.test\r\nMAIL FROM:<a@app.test> BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<b@app.test>\r\nRCPT TO:<B@app.test>\r\nRCPT TO:<c@app.test>\r\nDATA\r\n${stuffed}.\r\nNOOP\r\nQUIT\r\n`,
    );
    const codes: number[] = [];
    for (let index = 0; index < 8; index++) codes.push((await client.readReply()).code);
    expect(codes).toEqual([250, 250, 250, 250, 250, 354, 250, 250]);
    expect((await client.readReply()).code).toBe(221);
    await client.closed;
    expect(observed.messages).toHaveLength(1);
    const [received] = observed.messages;
    expect(received?.message.raw.toString()).toBe(body);
    expect(received?.mailFrom).toBe('a@app.test');
    // A repeated recipient (any case) replaces the earlier one.
    expect(received?.rcptTo).toEqual(['B@app.test', 'c@app.test']);
    expect(received?.bodyType).toBe('8bitmime');
    expect(received?.smtpUtf8).toBe(true);
  });

  it('answers a thousand commands pipelined in one write, in order, none lost', async () => {
    const client = await connect();
    await client.ehlo();
    client.write(`${Array.from({ length: 1000 }, (_, index) => `VRFY user${index}`).join('\r\n')}\r\nQUIT\r\n`);
    for (let index = 0; index < 1000; index++) expect((await client.readReply()).code).toBe(252);
    expect((await client.readReply()).code).toBe(221);
    expect(observed.commands.slice(1, 4)).toEqual(['VRFY user0', 'VRFY user1', 'VRFY user2']);
    expect(observed.commands.at(-2)).toBe('VRFY user999');
  });

  it('answers a message over the size limit with the handler reply and stays usable', async () => {
    const client = await connect();
    await client.ehlo();
    const replies = await client.sendMessage({ from: 'a@app.test', to: ['b@app.test'], data: Buffer.from(`${'x'.repeat(SIZE)}\r\n`) });
    expect(replies.final?.code).toBe(552);
    expect(observed.messages[0]?.message).toMatchObject({ sizeExceeded: true, size: SIZE + 2 });
    const fits = await client.sendMessage({ from: 'a@app.test', to: ['b@app.test'], data: Buffer.from('Subject: small\r\n\r\nok\r\n') });
    expect(fits.final?.code).toBe(250);
  });

  it('authenticates with PLAIN, LOGIN and CRAM-MD5, and redacts credentials in the transcript', async () => {
    const plain = await connect();
    await plain.ehlo();
    expect((await plain.command(`AUTH PLAIN ${b64('\0alice\0wrong')}`)).raw).toEqual(['535 5.7.8 Authentication credentials invalid']);
    expect((await plain.command(`AUTH PLAIN ${b64('\0alice\0secret')}`)).raw).toEqual(['235 Authentication successful']);
    expect((await plain.command(`AUTH PLAIN ${b64('\0alice\0secret')}`)).raw).toEqual(['503 Error: No identity changes permitted']);
    expect(observed.commands).toContain(`AUTH PLAIN ${REDACTED_CREDENTIALS}`);
    expect(observed.auths.map((auth) => [auth.method, auth.username, auth.password])).toEqual([
      ['PLAIN', 'alice', 'wrong'],
      ['PLAIN', 'alice', 'secret'],
    ]);
    // Authenticated, the EHLO reply no longer offers AUTH.
    expect((await plain.ehlo()).raw.some((line) => line.includes('AUTH'))).toBe(false);

    const login = await connect();
    await login.ehlo();
    expect((await login.command('AUTH LOGIN')).raw).toEqual(['334 VXNlcm5hbWU6']);
    expect((await login.command(b64('alice'))).raw).toEqual(['334 UGFzc3dvcmQ6']);
    expect((await login.command(b64('secret'))).code).toBe(235);
    expect(observed.commands).toEqual(['EHLO client.mailwright.test', 'AUTH LOGIN', REDACTED_CREDENTIALS, REDACTED_CREDENTIALS]);

    const cram = await connect();
    await cram.ehlo();
    const challenge = await cram.command('AUTH CRAM-MD5');
    expect(challenge.code).toBe(334);
    const nonce = Buffer.from(challenge.lines[0] ?? '', 'base64').toString();
    expect(nonce).toMatch(/^<[0-9a-f]{32}\.\d+@mx\.engine\.test>$/);
    const digest = createHmac('md5', 'secret').update(nonce).digest('hex');
    expect((await cram.command(b64(`alice ${digest}`))).code).toBe(235);
    expect(observed.auths[0]?.method).toBe('CRAM-MD5');
    expect(observed.auths[0]?.password).toBeNull();

    const aborted = await connect();
    await aborted.ehlo();
    expect((await aborted.command('AUTH PLAIN')).raw).toEqual(['334 ']);
    expect((await aborted.command('*')).raw).toEqual(['501 Authentication aborted']);
    expect((await aborted.command('AUTH XOAUTH2')).raw).toEqual(['504 Error: Unrecognized authentication type']);
  });

  it('closes a command line that grows beyond 16 KiB with 421', async () => {
    const client = await connect();
    client.write(Buffer.alloc(17 * 1024, 'x'));
    expect((await client.readReply()).raw).toEqual(['421 Error: Command line too long']);
    await client.closed;
  });

  it('refuses what looks like an HTTP request with 421', async () => {
    const client = await connect();
    expect((await client.command('GET / HTTP/1.1')).raw).toEqual(['421 HTTP requests not allowed']);
    await client.closed;
  });
});
