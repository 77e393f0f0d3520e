import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { snippetOf } from './message-text.js';
import { summarizeMessage, summarizeWithMailparser, type MessageSummary } from './parse-message.js';
import { summarizeFast } from './summarize-fast.js';

const FIXTURES_DIR = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
// mailparser reads a Date header it cannot parse as the time of parsing
const NOW = new Date('2026-03-04T05:06:07.000Z');

interface Sample {
  name: string;
  raw: Buffer;
  /** Whether the fast path must read it (true) or leave it to mailparser (false). */
  fast: boolean;
}

const crlf = (text: string): Buffer => Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
const lf = (raw: Buffer): Buffer => Buffer.from(raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
const compose = (options: Mail.Options): Promise<Buffer> => new MailComposer(options).compile().build();
/** A summary as a plain object: the fast path's text is a getter, decoded when read. */
const plain = (summary: MessageSummary): MessageSummary => ({ ...summary, text: summary.text });
const withoutHeader = (raw: Buffer, name: string): Buffer => Buffer.from(raw.toString('latin1').replace(new RegExp(`^${name}:.*\\r?\\n`, 'im'), ''), 'latin1');

const ALICE = 'Alice Sender <alice@sender.test>';
const BOB = 'Bob Receiver <bob@receiver.test>';
const PARAGRAPH = 'Grüße aus Köln — the quick brown fox jumps over the lazy dog, ünïcödé ✉ and €. ';

/** Messages as nodemailer writes them, each also with LF line endings. */
const COMPOSED: { name: string; options: Mail.Options; fast: boolean; edit?: (raw: Buffer) => Buffer }[] = [
  { name: 'text only', options: { from: ALICE, to: BOB, subject: 'Text only', text: 'Hello Bob,\n\nthis is plain text.\n' }, fast: true },
  { name: 'html only', options: { from: ALICE, to: BOB, subject: 'HTML only', html: '<p>Hello <b>Bob</b> &amp; co</p>' }, fast: true },
  { name: 'text and html', options: { from: ALICE, to: BOB, subject: 'Both', text: 'Hello Bob', html: '<p>Hello <b>Bob</b></p>' }, fast: true },
  {
    name: 'encoded words in subject and names',
    options: { from: '"Zoë Ä" <zoe@sender.test>', to: [{ name: 'Jörg Müller', address: 'joerg@receiver.test' }], subject: PARAGRAPH.repeat(3), text: 'x' },
    fast: true,
  },
  {
    name: 'long quoted-printable lines',
    options: { from: ALICE, to: BOB, subject: 'QP', text: PARAGRAPH.repeat(40), textEncoding: 'quoted-printable' },
    fast: true,
  },
  { name: 'base64 body', options: { from: ALICE, to: BOB, subject: 'Base64', text: PARAGRAPH.repeat(20), textEncoding: 'base64' }, fast: true },
  {
    name: 'base64 text and html',
    options: { from: ALICE, to: BOB, subject: 'Base64 both', text: PARAGRAPH, html: `<p>${PARAGRAPH}</p>`, textEncoding: 'base64' },
    fast: true,
  },
  {
    name: 'address groups',
    options: { from: ALICE, to: 'Team: a@receiver.test, "B, Bee" <b@receiver.test>;, c@receiver.test', cc: 'Nobody:;', subject: 'Groups', text: 'x' },
    fast: true,
  },
  {
    name: 'several To and Cc',
    options: {
      from: ALICE,
      to: [BOB, 'carol@receiver.test', { name: 'Dave, Jr.', address: 'dave@receiver.test' }],
      cc: ['erin@receiver.test', 'Frank <frank@receiver.test>'],
      subject: 'Many',
      text: 'x',
    },
    fast: true,
  },
  { name: 'Reply-To', options: { from: ALICE, to: BOB, replyTo: 'Support Desk <support@sender.test>', subject: 'Reply', text: 'x' }, fast: true },
  { name: 'punycode domain', options: { from: ALICE, to: 'user@xn--mnchen-3ya.test', subject: 'IDN', text: 'x' }, fast: true },
  { name: 'missing Date', options: { from: ALICE, to: BOB, subject: 'No date', text: 'x' }, fast: true, edit: (raw) => withoutHeader(raw, 'Date') },
  { name: 'unparsable Date', options: { from: ALICE, to: BOB, subject: 'Bad date', text: 'x', date: 'not a date' }, fast: true },
  { name: 'missing Message-ID', options: { from: ALICE, to: BOB, subject: 'No id', text: 'x' }, fast: true, edit: (raw) => withoutHeader(raw, 'Message-ID') },
  { name: 'empty body', options: { from: ALICE, to: BOB, subject: 'Empty', text: '' }, fast: true },
  {
    name: 'attachment',
    options: { from: ALICE, to: BOB, subject: 'Attached', text: 'x', attachments: [{ filename: 'a.txt', content: 'hello' }] },
    fast: false,
  },
  {
    name: 'text, html and an inline image',
    options: {
      from: ALICE,
      to: BOB,
      subject: 'Related',
      text: 'x',
      html: '<img src="cid:logo">',
      attachments: [{ filename: 'logo.png', content: Buffer.from('89504e47', 'hex'), cid: 'logo' }],
    },
    fast: false,
  },
];

/** Messages written by hand, for shapes nodemailer does not produce. */
const HANDWRITTEN: Sample[] = [
  {
    name: '8-bit UTF-8 body',
    raw: Buffer.from(
      `From: ${ALICE}\r\nTo: ${BOB}\r\nSubject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${PARAGRAPH}\r\n`,
    ),
    fast: true,
  },
  ...['iso-8859-1', 'latin1', 'windows-1252', 'ISO_8859-1'].map((charset) => ({
    name: `${charset} body with every byte from 0x20`,
    raw: Buffer.concat([
      Buffer.from(`From: ${ALICE}\r\nSubject: Latin-1\r\nContent-Type: text/plain; charset="${charset}"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`),
      Buffer.from(Array.from({ length: 0xe0 }, (_, i) => i + 0x20)),
    ]),
    fast: true,
  })),
  {
    name: 'quoted-printable latin1 html',
    raw: crlf(
      `From: ${ALICE}\nSubject: QP latin1\nContent-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n<p>caf=E9 cr=E8me =80 =9F</p>=\n`,
    ),
    fast: true,
  },
  {
    name: 'us-ascii declared, 8-bit sent',
    raw: Buffer.from(`From: ${ALICE}\r\nSubject: ascii\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nnot ascii: ${PARAGRAPH}`),
    fast: true,
  },
  {
    name: 'folded encoded-word subject, bare Message-ID, second Subject',
    raw: crlf(
      `From: alice@sender.test\nSubject:\nSubject: =?utf-8?q?caf=C3=A9?=\n =?utf-8?b?IGNyw6htZQ==?= plain\nSubject: third\nMessage-ID: id-without-brackets@sender.test\nDate: Tue, 03 Mar 2026 10:00:00 +0100 (CET)\n\nbody\n`,
    ),
    fast: true,
  },
  {
    name: 'two To headers, an empty From first',
    raw: crlf(`From:\nFrom: ${ALICE}\nTo: a@receiver.test\nTo: "=?utf-8?q?J=C3=B6rg?=" <b@receiver.test>, c@receiver.test\nSubject: two To\n\nbody\n`),
    fast: true,
  },
  {
    name: 'multipart/alternative with preamble, epilogue, padded delimiters and LF',
    raw: Buffer.from(
      'From: a@sender.test\nContent-Type: multipart/alternative; boundary="b1"\n\npreamble\n--b1 \t\nContent-Type: text/plain\n\nfirst\n--b1x\nnot a delimiter--b1\n--b1\n\nno headers\n\n--b1\nContent-Type: text/html\n\n<p>html</p>\n--b1--  \nepilogue\n--b1\nignored\n',
    ),
    fast: true,
  },
  {
    name: 'multipart/alternative with HTML only',
    raw: crlf(
      'From: a@sender.test\nContent-Type: multipart/alternative; boundary=b2\n\n--b2\nContent-Type: text/html; charset=utf-8\n\n<p>only &lt;html&gt;</p>\n--b2--\n',
    ),
    fast: true,
  },
  {
    name: 'multipart/alternative never closed',
    raw: crlf('From: a@sender.test\nContent-Type: multipart/alternative; boundary=b3\n\n--b3\nContent-Type: text/plain\n\ntext\n'),
    fast: false,
  },
  {
    name: 'multipart/mixed of text',
    raw: crlf('From: a@sender.test\nContent-Type: multipart/mixed; boundary=b4\n\n--b4\nContent-Type: text/plain\n\ntext\n--b4--\n'),
    fast: false,
  },
  {
    name: 'format=flowed',
    raw: crlf('From: a@sender.test\nContent-Type: text/plain; format=flowed\n\nsoft \nwrapped\n'),
    fast: false,
  },
  { name: 'unknown charset', raw: crlf('From: a@sender.test\nContent-Type: text/plain; charset=koi8-r\n\n\xc1\xc2\n'), fast: false },
  { name: 'uuencoded', raw: crlf('From: a@sender.test\nContent-Transfer-Encoding: x-uuencode\n\nbody\n'), fast: false },
  { name: 'base64 with padding in the middle', raw: crlf('From: a@sender.test\nContent-Transfer-Encoding: base64\n\nQQ==\nQkM=\n'), fast: false },
  { name: 'inline text with a filename', raw: crlf('From: a@sender.test\nContent-Type: text/plain; name="notes.txt"\n\nbody\n'), fast: false },
  { name: 'mbox From line', raw: crlf('From alice@sender.test Tue Mar  3 10:00:00 2026\nSubject: mbox\n\nbody\n'), fast: false },
  { name: 'header block never ends', raw: crlf('From: a@sender.test\nSubject: no body'), fast: false },
  { name: 'latin1 header bytes', raw: crlf('From: a@sender.test\nSubject: caf\xe9\n\nbody\n'), fast: false },
];

function fixtures(): Sample[] {
  const fast = new Set(['plain-text.eml', 'dot-stuffing.eml']);
  return readdirSync(FIXTURES_DIR)
    .filter((file) => file.endsWith('.eml'))
    .map((file) => ({
      name: `fixture ${file}`,
      // SMTP carries CRLF, whatever a checkout did to the line endings
      raw: crlf(readFileSync(`${FIXTURES_DIR}${file}`).toString('latin1')),
      fast: fast.has(file),
    }));
}

async function corpus(): Promise<Sample[]> {
  const samples = [...fixtures(), ...HANDWRITTEN];
  for (const { name, options, fast, edit } of COMPOSED) {
    const raw = (edit ?? ((bytes: Buffer) => bytes))(await compose(options));
    samples.push({ name: `${name} (CRLF)`, raw, fast }, { name: `${name} (LF)`, raw: lf(raw), fast });
  }
  return samples;
}

describe('summarizeMessage', () => {
  let samples: Sample[];

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    samples = await corpus();
  });

  afterAll(() => {
    vi.useRealTimers();
  });

  it('reads the common shapes on the fast path exactly as mailparser does', async () => {
    for (const { name, raw, fast } of samples) {
      const expected = await summarizeWithMailparser(raw);
      const summary = summarizeFast(raw);
      expect(summary !== null, `${name} takes the ${fast ? 'fast path' : 'mailparser path'}`).toBe(fast);
      if (summary) expect(plain(summary), name).toStrictEqual(expected);
      expect(plain(await summarizeMessage(raw)), name).toStrictEqual(expected);
    }
    expect(samples.filter((sample) => sample.fast).length).toBeGreaterThanOrEqual(40);
  });

  it('reads headers the way the list shows them', async () => {
    const raw = (name: string) => samples.find((sample) => sample.name === name)!.raw;
    const groups = await summarizeMessage(raw('address groups (CRLF)'));
    expect(groups.to.map((address) => address.address)).toEqual(['a@receiver.test', 'b@receiver.test', 'c@receiver.test']);
    expect(groups.cc).toEqual([]);
    const encoded = await summarizeMessage(raw('encoded words in subject and names (LF)'));
    expect(encoded.subject).toBe(PARAGRAPH.repeat(3));
    expect(encoded.from).toEqual({ name: 'Zoë Ä', address: 'zoe@sender.test' });
    expect((await summarizeMessage(raw('punycode domain (CRLF)'))).to).toEqual([{ name: '', address: 'user@münchen.test' }]);
    const folded = await summarizeMessage(raw('folded encoded-word subject, bare Message-ID, second Subject'));
    expect(folded).toMatchObject({ subject: 'café crème plain', messageId: '<id-without-brackets@sender.test>', date: '2026-03-03T09:00:00.000Z' });
    expect((await summarizeMessage(raw('two To headers, an empty From first'))).from).toBeNull();
    expect((await summarizeMessage(raw('missing Date (CRLF)'))).date).toBeNull();
    expect((await summarizeMessage(raw('unparsable Date (LF)'))).date).toBeNull();
    expect((await summarizeMessage(raw('missing Message-ID (CRLF)'))).messageId).toBeNull();
  });

  it('reads bodies into text and snippet', async () => {
    const raw = (name: string) => samples.find((sample) => sample.name === name)!.raw;
    // an HTML-only message is searched and previewed by the text of its HTML
    const html = await summarizeMessage(raw('html only (CRLF)'));
    expect(html.text.trim()).toBe('Hello  Bob  & co');
    expect(html.snippet).toBe('Hello Bob & co');
    expect((await summarizeMessage(raw('multipart/alternative with HTML only'))).snippet).toBe('only <html>');
    expect((await summarizeMessage(raw('text and html (LF)'))).text).toBe('Hello Bob');
    const alternative = await summarizeMessage(raw('multipart/alternative with preamble, epilogue, padded delimiters and LF'));
    expect(alternative.text).toBe('first\n--b1x\nnot a delimiter--b1\nno headers\n');
    const latin1 = await summarizeMessage(raw('iso-8859-1 body with every byte from 0x20'));
    expect(latin1.text).toContain('€\ufffd‚ƒ„…†‡ˆ‰Š‹Œ\ufffdŽ\ufffd\ufffd‘’“”•–—˜™š›œ\ufffdžŸ\u00a0¡');
    const qp = await summarizeMessage(raw('long quoted-printable lines (LF)'));
    expect(qp.text.trimEnd()).toBe(PARAGRAPH.repeat(40).trimEnd());
    expect(qp.snippet).toBe(`${PARAGRAPH.repeat(3).slice(0, 199)}…`);
  });
});

describe('summarizeFast on long text bodies', () => {
  // The snippet is told from a prefix of the body (1 KiB, then 4 KiB, …): these put multi-byte
  // characters, escapes, quartets and whitespace runs across the cuts, at four offsets each.
  const BODIES = [
    PARAGRAPH.repeat(100),
    `${'x'.repeat(1010)}${' '.repeat(30)}${'y'.repeat(3000)}`,
    `${' \n'.repeat(700)}${PARAGRAPH.repeat(20)}`,
    '€'.repeat(3000),
    'word   \n'.repeat(600),
    '='.repeat(2000),
    `${'é'.repeat(5000)}\n`,
  ];
  const LATIN1 = Array.from({ length: 4000 }, (_, i) => String.fromCharCode(0x20 + (i % 0xe0))).join('');

  it('reads them exactly as mailparser does, the text decoded when it is asked for', async () => {
    const samples: [string, Buffer][] = [];
    for (const [index, body] of BODIES.entries()) {
      for (let shift = 0; shift < 4; shift++) {
        const text = `${'a'.repeat(shift)}${body}`;
        for (const textEncoding of ['quoted-printable', 'base64'] as const) {
          samples.push([`body ${index}+${shift} ${textEncoding}`, await compose({ from: ALICE, to: BOB, subject: 'long', text, textEncoding })]);
        }
        samples.push([`body ${index}+${shift} alternative`, await compose({ from: ALICE, to: BOB, subject: 'long', text, html: '<p>html</p>' })]);
        const header = crlf(`From: ${ALICE}\nContent-Type: text/plain; charset=utf-8\n\n`);
        samples.push([`body ${index}+${shift} 8bit`, Buffer.concat([header, Buffer.from(text.replace(/\n/g, '\r\n'))])]);
      }
    }
    for (let shift = 0; shift < 4; shift++) {
      samples.push([
        `latin1+${shift}`,
        crlf(`From: ${ALICE}\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n${'a'.repeat(shift)}${LATIN1}`),
      ]);
    }
    for (const [name, raw] of samples) {
      const summary = summarizeFast(raw);
      expect(summary, `${name} takes the fast path`).not.toBeNull();
      expect(plain(summary!), name).toStrictEqual(await summarizeWithMailparser(raw));
    }
  });

  it('leaves a long body that only its end makes undecodable to mailparser', async () => {
    const base64 = Buffer.from(PARAGRAPH.repeat(60)).toString('base64').replace(/.{76}/g, '$&\n');
    const raw = crlf(`From: ${ALICE}\nContent-Transfer-Encoding: base64\n\n${base64}\nQQ==\nQkM=\n`);
    expect(summarizeFast(raw)).toBeNull();
    expect(plain(await summarizeMessage(raw))).toStrictEqual(await summarizeWithMailparser(raw));
  });
});

describe('snippetOf', () => {
  const naive = (text: string): string => {
    const flat = text.replace(/\s+/g, ' ').trim();
    return flat.length <= 200 ? flat : `${flat.slice(0, 199)}…`;
  };

  it('collapses whitespace and cuts at 200 characters, however much whitespace leads', () => {
    const texts = [
      '',
      '  short  text \n',
      'word '.repeat(1000),
      `${' \n\t'.repeat(5000)}${'word '.repeat(100)}`,
      `${'x'.repeat(150)}${' '.repeat(5000)}${'y'.repeat(49)}`,
      `${'x'.repeat(150)}${' '.repeat(5000)}${'y'.repeat(50)}`,
      `${'x'.repeat(150)}${' '.repeat(5000)}${'y'.repeat(51)}  `,
    ];
    for (const text of texts) expect(snippetOf(text)).toBe(naive(text));
    expect(snippetOf(`${' '.repeat(3000)}${'y'.repeat(300)}`)).toBe(`${'y'.repeat(199)}…`);
  });
});
