// The SMTP command fuzzer: sessions of random and mutated command lines, deterministic from
// a seed. A session is a plan the driver (smtp-driver.mjs) plays against a server: how to
// connect (plaintext, STARTTLS after EHLO, implicit TLS), then chunks of bytes, each with the
// number of lines it holds. Lines are valid commands, commands with mutated arguments,
// overlong lines, bare LF/CR, NULs, 8-bit bytes, pipelined bursts, AUTH exchanges, STARTTLS
// without a handshake, and DATA with dot-stuffing edge cases.
import { createRandom } from './random.mjs';

const CRLF = '\r\n';
const VERBS = [
  'EHLO',
  'HELO',
  'LHLO',
  'MAIL',
  'RCPT',
  'DATA',
  'RSET',
  'NOOP',
  'VRFY',
  'EXPN',
  'HELP',
  'AUTH',
  'STARTTLS',
  'BDAT',
  'ETRN',
  'TURN',
  'XCLIENT',
  'XFORWARD',
];
const MAIL_PARAMS = [
  'SIZE=1000',
  'SIZE=99999999999999999999',
  'SIZE=-1',
  'BODY=8BITMIME',
  'BODY=7BIT',
  'BODY=BINARYMIME',
  'BODY=',
  'SMTPUTF8',
  'RET=FULL',
  'RET=HDRS',
  'ENVID=abc+2Bdef',
  'AUTH=<>',
  'REQUIRETLS',
  'X=Y',
  '=',
  'SIZE',
];
const RCPT_PARAMS = ['NOTIFY=SUCCESS,FAILURE', 'NOTIFY=NEVER', 'ORCPT=rfc822;a@b.test', 'NOTIFY=', 'FOO=BAR'];
const AUTH_MECHANISMS = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2', 'DIGEST-MD5', 'GSSAPI', 'plain', 'P L A I N', ''];

const b64 = (text) => Buffer.from(text, 'utf8').toString('base64');

/** An address, usually well-formed, sometimes not. */
function address(random) {
  const local = random.pick(['user', 'a', 'test.user', 'x+tag', '"quoted local"', 'ünïcödé', '', '..', 'a'.repeat(random.range(64, 300)), 'postmaster']);
  const domain = random.pick([
    'example.test',
    'fuzz.test',
    'localhost',
    '[127.0.0.1]',
    '[IPv6:::1]',
    '',
    'a..b',
    'xn--bcher-kva.test',
    'ドメイン.test',
    'd'.repeat(random.range(64, 400)) + '.test',
  ]);
  const form = random.int(10);
  if (form === 0) return '';
  if (form === 1) return `${local}`;
  return `${local}@${domain}`;
}

/** A syntactically plausible command line (without its line ending). */
function validCommand(random) {
  switch (random.int(12)) {
    case 0:
      return `${random.pick(['EHLO', 'HELO', 'LHLO'])} ${random.pick(['fuzz.example', 'localhost', '[127.0.0.1]', '', 'a'.repeat(random.range(1, 300)), 'bad name', 'ünï.test'])}`;
    case 1:
    case 2: {
      const params = random.chance(0.4) ? ' ' + Array.from({ length: random.range(1, 4) }, () => random.pick(MAIL_PARAMS)).join(' ') : '';
      return `MAIL FROM:<${address(random)}>${params}`;
    }
    case 3:
    case 4: {
      const params = random.chance(0.3) ? ' ' + random.pick(RCPT_PARAMS) : '';
      return `RCPT TO:<${address(random)}>${params}`;
    }
    case 5:
      return random.pick(['RSET', 'NOOP', 'NOOP hello', 'HELP', 'HELP MAIL', 'QUIT now', 'TURN', 'ETRN example.test']);
    case 6:
      return `${random.pick(['VRFY', 'EXPN'])} ${address(random)}`;
    case 7:
      return `AUTH ${random.pick(AUTH_MECHANISMS)}${random.chance(0.5) ? ' ' + b64(`\0user${random.int(100)}\0secret`) : ''}`;
    case 8:
      return `MAIL FROM: ${address(random)}`; // no angle brackets
    case 9:
      return `RCPT TO:${address(random)}`;
    case 10:
      return `BDAT ${random.range(0, 100)}${random.chance(0.5) ? ' LAST' : ''}`;
    default:
      return `${random.pick(VERBS)}${random.chance(0.5) ? ' ' + random.string(random.range(0, 40), 'abcXYZ:<>@.= 0123') : ''}`;
  }
}

/** Mutates a command line: byte flips, NULs, bare CR/LF inside, 8-bit bytes, case, truncation. */
function mutate(random, line) {
  const bytes = [...Buffer.from(line, 'utf8')];
  const edits = random.range(1, 4);
  for (let i = 0; i < edits; i++) {
    const at = random.int(bytes.length + 1);
    switch (random.int(9)) {
      case 0:
        bytes.splice(at, 0, 0);
        break;
      case 1:
        bytes.splice(at, 0, 0x0d);
        break;
      case 2:
        bytes.splice(at, 0, 0x0a);
        break;
      case 3:
        bytes.splice(at, 0, random.range(0x80, 0xff));
        break;
      case 4:
        if (bytes.length) bytes[at % bytes.length] = random.int(256);
        break;
      case 5:
        bytes.splice(at);
        break;
      case 6:
        bytes.splice(at, 0, ...Buffer.from(random.pick([' ', '\t', ':', '<', '>', '%', '\\', '"', '\x1b[31m', '\u2028', '\uFEFF']), 'utf8'));
        break;
      case 7:
        for (let j = 0; j < bytes.length; j++) if (bytes[j] >= 0x61 && bytes[j] <= 0x7a && random.chance(0.5)) bytes[j] -= 0x20;
        break;
      default:
        bytes.splice(at, 0, ...bytes.slice(0, random.range(0, 20)));
    }
  }
  return Buffer.from(bytes);
}

/** One "line" unit: bytes plus how many lines it counts as. */
function unit(bytes, lines = 1) {
  return { bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8'), lines };
}

function terminator(random) {
  return random.pick([CRLF, CRLF, CRLF, CRLF, CRLF, CRLF, '\n', '\r', '\r\r\n', '\n\r']);
}

/** A DATA transaction whose body probes dot-stuffing and end-of-data recognition. */
function dataTransaction(random, sessionIndex) {
  const lines = [
    `MAIL FROM:<fuzz-${sessionIndex}@fuzz.test>`,
    `RCPT TO:<${random.pick(['inbox', 'user', 'x+y'])}@example.test>`,
    'DATA',
    `Subject: fuzz ${sessionIndex}`,
    `From: <fuzz-${sessionIndex}@fuzz.test>`,
    '',
  ];
  const bodyLines = random.range(1, 30);
  for (let i = 0; i < bodyLines; i++) {
    lines.push(
      random.pick([
        'plain body line',
        '.',
        '..',
        '...',
        '.leading dot',
        '..double leading dot',
        ' .',
        '.\r',
        '.\n',
        'x\n.\nstill data after a bare-LF dot',
        'x\r.\rstill data after a bare-CR dot',
        '.\t',
        'QUIT',
        'RSET',
        'MAIL FROM:<in-data@fuzz.test>',
        '\0\0\0',
        Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xff, 0xfe]).toString('latin1'),
        'a'.repeat(random.range(900, 1100)),
        '=?utf-8?B?' + b64('héllo') + '?=',
        '',
      ]),
    );
  }
  const end = random.pick(['.', '.', '.', '.', ' .', '.. ', '.\r\n.', 'x\r\n.']);
  lines.push(end);
  return unit(lines.join(CRLF) + CRLF, lines.length);
}

/** An AUTH exchange: mechanism line and its continuations, sometimes cancelled or garbled. */
function authExchange(random) {
  const user = `user${random.int(50)}`;
  const options = [
    [`AUTH PLAIN`, b64(`\0${user}\0secret`)],
    [`AUTH PLAIN ${b64(`${user}\0${user}\0secret`)}`],
    [`AUTH PLAIN ${random.pick(['====', '!!!!', 'AAAA', b64('\0\0\0'), b64('no separators'), ''])}`],
    ['AUTH LOGIN', b64(user), b64('secret')],
    [`AUTH LOGIN ${b64(user)}`, b64('secret')],
    ['AUTH LOGIN', '*'],
    ['AUTH LOGIN', 'not base64 at all', 'again'],
    ['AUTH CRAM-MD5', b64(`${user} 0123456789abcdef0123456789abcdef`)],
    ['AUTH CRAM-MD5', '*'],
    ['AUTH XOAUTH2', b64(`user=${user}\x01auth=Bearer token\x01\x01`)],
    ['AUTH PLAIN', ''],
    ['AUTH PLAIN', 'A'.repeat(random.range(1000, 20000))],
  ];
  const lines = random.pick(options);
  return unit(lines.join(CRLF) + CRLF, lines.length);
}

/**
 * The plan of one session.
 * @returns {{ index: number, transport: 'plain' | 'starttls' | 'implicit', servername: string | null, chunks: { bytes: Buffer, lines: number }[], lines: number }}
 */
function session(random, index, { maxLineBytes }) {
  const transport = random.pick(['plain', 'plain', 'plain', 'plain', 'starttls', 'starttls', 'implicit']);
  const servername = transport === 'plain' ? null : random.pick([null, 'localhost', 'mail.example.test', 'x'.repeat(200), 'ünï.test']);
  const chunks = [];
  const target = random.range(5, 60);
  let lines = 0;
  const push = (chunk) => {
    chunks.push(chunk);
    lines += chunk.lines;
  };
  if (random.chance(0.8)) push(unit(`EHLO fuzz-${index}.example${CRLF}`));
  while (lines < target) {
    const kind = random.int(100);
    if (kind < 30) push(unit(validCommand(random) + terminator(random)));
    else if (kind < 55) push(unit(Buffer.concat([mutate(random, validCommand(random)), Buffer.from(terminator(random))])));
    else if (kind < 62) push(dataTransaction(random, index));
    else if (kind < 70) push(authExchange(random));
    else if (kind < 78) {
      // A pipelined burst in one write.
      const n = random.range(5, 80);
      const burst = Array.from({ length: n }, () => validCommand(random)).join(CRLF) + CRLF;
      push(unit(burst, n));
    } else if (kind < 83) {
      // An overlong line, sometimes without an ending.
      const length = random.range(1_000, maxLineBytes);
      push(unit(random.pick(['NOOP ', 'MAIL FROM:<', 'EHLO ', '']) + random.string(length, 'abcdefghij<>@.') + (random.chance(0.8) ? CRLF : ''), 1));
    } else if (kind < 88) push(unit(Buffer.concat([random.bytes(random.range(1, 200)), Buffer.from(CRLF)])));
    else if (kind < 92) push(unit(random.pick(['\n', '\r', '\r\n', '\0\r\n', '\r\n\r\n', ' \r\n', '\t\r\n']), 1));
    else if (kind < 95)
      push(
        unit(Buffer.concat([Buffer.from('EHLO '), Buffer.from([0xe9, 0xe8, 0xff, 0x80]), Buffer.from(` ${'ü'.repeat(random.range(1, 50))}${CRLF}`, 'utf8')])),
      );
    else if (kind < 97)
      push(unit(random.pick(['STARTTLS', 'STARTTLS extra', 'starttls']) + CRLF)); // no handshake follows
    else if (kind < 99) push(unit(`RSET${CRLF}`));
    else push(unit(`QUIT${CRLF}`));
  }
  return { index, transport, servername, chunks, lines };
}

/**
 * Session plans, deterministic from `seed`, without end: the driver takes sessions until the
 * lines it could write reach its target (a server may close a session early).
 * @param {{ seed: number, maxLineBytes?: number }} options
 */
export function* smtpSessions({ seed, maxLineBytes = 70_000 }) {
  const random = createRandom(seed);
  for (let index = 0; ; index++) yield session(random.fork(), index, { maxLineBytes });
}
