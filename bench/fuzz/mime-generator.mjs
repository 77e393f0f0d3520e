// The MIME generator: pathological messages, deterministic from a seed. Each case is one of
// a set of shapes (deep nesting, many parts, huge headers, broken boundaries, bad transfer
// encodings, bad charsets, control characters in Content-Type and filenames, `../`
// filenames, very long lines, bare line endings, NULs, 8-bit headers), often combined.
// Every message stays under `maxBytes`.
import { createRandom } from './random.mjs';

const CRLF = '\r\n';

const FILENAMES = [
  '../../etc/passwd',
  '..\\..\\windows\\system32\\drivers\\etc\\hosts',
  '/etc/shadow',
  'C:\\boot.ini',
  'a\x07b\x1bc.txt',
  'new\r\nline.txt',
  'tab\there.pdf',
  'nul\x00byte.bin',
  '.htaccess',
  '',
  ' ',
  '....',
  'ünïcødé ファイル.txt',
  '%2e%2e%2fescape.txt',
  'CON',
  'file.txt\u202Egpj.exe',
];
const CONTENT_TYPES = [
  'text/plain',
  'text/html',
  'application/octet-stream',
  'image/png',
  'application/pdf',
  'message/rfc822',
  'text/plain\x01',
  'application/\x00octet-stream',
  'text/html;\x7f',
  'image/\x1b[31mred',
  'x/y/z',
  '',
  ';;;',
  'text',
  'multipart/mixed',
  'TEXT/PLAIN',
];
const CHARSETS = [
  'utf-8',
  'iso-8859-1',
  'x-unknown-charset',
  'utf-7',
  'utf-16',
  'UTF-32BE',
  '../../etc',
  '',
  '"',
  'ks_c_5601-1987',
  'gb2312',
  'c'.repeat(500),
  'utf-8\x00',
];
const ENCODINGS = ['7bit', '8bit', 'binary', 'base64', 'quoted-printable', 'x-uuencode', 'x-unknown', 'BASE64 ', '', 'quoted-printable; foo'];

function encodedWord(random) {
  return random.pick([
    `=?utf-8?B?${Buffer.from('Grüße ✓').toString('base64')}?=`,
    '=?utf-8?Q?caf=C3=A9?=',
    '=?bogus-charset?B?aGVsbG8=?=',
    '=?utf-8?X?unknown-encoding?=',
    '=?utf-8?B?not*base64!?=',
    '=?utf-8?Q?=ZZ=?=',
    '=?iso-8859-1?q?broken',
    `=?utf-8?B?${'QUFB'.repeat(random.range(10, 300))}?=`,
    '=??B??=',
  ]);
}

/** A part body in a (possibly wrong) transfer encoding. */
function encodedBody(random, encoding, size) {
  switch (encoding.trim().toLowerCase()) {
    case 'base64':
      return random.chance(0.6) ? random.bytes(size).toString('base64').replace(/.{76}/g, `$&${CRLF}`) : random.string(size, 'ABCD!@#$%^&*()=\u00e9');
    case 'quoted-printable':
      return random.pick(['caf=C3=A9 =\r\nsoft break', '=ZZ=Q=', '=', 'a=\r\n=\r\n=', 'x'.repeat(size)]);
    case 'x-uuencode':
      return `begin 644 file.txt${CRLF}M86)C9&5F9VAI:FML;6YO<'%R<W1U=G=X>7H${CRLF}\`${CRLF}end`;
    default:
      return random.pick([
        'plain text body',
        Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3, 0x28]).toString('latin1'),
        '<html><body><script>alert(1)</script><img src=x onerror=alert(2)><p>unclosed',
        random.string(size, 'abc \t\u00e9\x00\x01\x7f'),
      ]);
  }
}

function header(random, name, value) {
  return `${name}: ${value}${CRLF}`;
}

function leafPart(random, depthBudget, sizeBudget) {
  const type = random.pick(CONTENT_TYPES);
  const charset = random.chance(0.5) ? `; charset="${random.pick(CHARSETS)}"` : '';
  const encoding = random.pick(ENCODINGS);
  let headers = header(random, 'Content-Type', `${type}${charset}`);
  if (random.chance(0.8)) headers += header(random, 'Content-Transfer-Encoding', encoding);
  if (random.chance(0.5)) {
    const filename = random.pick(FILENAMES);
    headers += header(
      random,
      'Content-Disposition',
      random.pick([
        `attachment; filename="${filename}"`,
        `attachment; filename=${filename}`,
        `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`,
        `attachment; filename*=UTF-8''%00%2e%2e%2f${random.string(10)}`,
        `inline; filename*0="../"; filename*1="../x"`,
        `attachment; filename="${'n'.repeat(random.range(300, 5000))}.txt"`,
        'attachment; filename=',
        'attachment;;;',
        `${random.string(5)}\x01; name="${filename}"`,
      ]),
    );
  }
  if (random.chance(0.2)) headers += header(random, 'Content-ID', random.pick(['<a@b>', '<>', 'no-brackets', '<../../x>']));
  if (type === 'message/rfc822' && depthBudget > 0) return `${headers}${CRLF}${message(random, depthBudget - 1, Math.floor(sizeBudget / 2))}`;
  return `${headers}${CRLF}${encodedBody(random, encoding, random.range(10, Math.max(10, Math.min(sizeBudget, 4000))))}`;
}

function boundaryOf(random, depth) {
  return random.pick([`b${depth}-${random.string(12)}`, `=_${depth}`, `"quoted ${depth}"`, `${depth}`, '', ' ', `x${depth}`.repeat(random.range(1, 40))]);
}

/** A multipart entity; `broken` decides whether its boundaries are malformed. */
function multipart(random, depthBudget, sizeBudget, { parts, nested }) {
  const subtype = random.pick(['mixed', 'alternative', 'related', 'digest', 'signed', 'encrypted', 'x-weird', '']);
  const boundary = boundaryOf(random, depthBudget).replace(/^"|"$/g, '');
  const declared = random.chance(0.15) ? random.pick(['', 'other', `${boundary}x`]) : boundary;
  let out = `Content-Type: multipart/${subtype}; boundary="${declared}"${CRLF}${CRLF}`;
  if (random.chance(0.3)) out += `preamble with -- dashes${CRLF}--${boundary}notreally${CRLF}`;
  for (let i = 0; i < parts; i++) {
    out += `--${boundary}${random.chance(0.05) ? '  trailing' : ''}${CRLF}`;
    out +=
      nested && depthBudget > 0 && i === 0
        ? multipart(random, depthBudget - 1, sizeBudget, { parts: random.range(1, 2), nested })
        : leafPart(random, depthBudget, Math.floor(sizeBudget / Math.max(1, parts)));
    out += CRLF;
  }
  const closing = random.int(10);
  if (closing < 7) out += `--${boundary}--${CRLF}`;
  else if (closing === 7)
    out += `--${boundary}-${CRLF}`; // half a closing delimiter
  else if (closing === 8) out += `--${boundary}`; // no line ending
  // else: no closing delimiter at all
  if (random.chance(0.2)) out += `epilogue${CRLF}--${boundary}--${CRLF}`;
  return out;
}

function topHeaders(random) {
  let out = '';
  out += header(
    random,
    'From',
    random.pick(['Fuzz <fuzz@fuzz.test>', '<>', 'no address', `${encodedWord(random)} <a@b.test>`, '"unterminated <x@y.test>', 'a@b.test, c@d.test']),
  );
  out += header(
    random,
    'To',
    random.pick([
      'mime@example.test',
      'undisclosed-recipients:;',
      'group: a@b.test, c@d.test;',
      '<<<>>>',
      `${'r@example.test, '.repeat(random.range(1, 200))}end@example.test`,
    ]),
  );
  out += header(
    random,
    'Subject',
    random.pick([
      'plain subject',
      encodedWord(random),
      'Sübjéct in raw 8-bit',
      'tab\there',
      '\x00\x01\x02',
      `${encodedWord(random)} ${encodedWord(random)}`,
      '',
    ]),
  );
  if (random.chance(0.7)) out += header(random, 'Date', random.pick(['Tue, 1 Dec 2026 10:00:00 +0000', 'not a date', '31 Feb 2026 25:61:61 +9999', '']));
  if (random.chance(0.7)) out += header(random, 'Message-ID', random.pick(['<id@fuzz.test>', 'no-brackets', '<>', `<${'m'.repeat(2000)}@x>`]));
  if (random.chance(0.6)) out += header(random, 'MIME-Version', random.pick(['1.0', '2.0', '', '1.0 (comment)']));
  return out;
}

function message(random, depthBudget, sizeBudget) {
  let out = topHeaders(random);
  const shape = random.int(8);
  if (shape === 0) return out + leafPart(random, depthBudget, sizeBudget);
  if (shape <= 3) return out + multipart(random, depthBudget, sizeBudget, { parts: random.range(1, 6), nested: true });
  if (shape <= 5) return out + multipart(random, 0, sizeBudget, { parts: random.range(1, 12), nested: false });
  return out + leafPart(random, depthBudget, sizeBudget);
}

/** The special shapes, each pushing one limit; `size` is the byte budget. */
const SHAPES = {
  deepNesting(random, size) {
    const depth = random.range(20, Math.min(400, Math.max(20, Math.floor(size / 120))));
    let body = 'innermost';
    for (let i = depth; i > 0; i--) {
      const boundary = `d${i}`;
      body = `Content-Type: multipart/mixed; boundary="${boundary}"${CRLF}${CRLF}--${boundary}${CRLF}${body}${CRLF}--${boundary}--${CRLF}`;
    }
    return topHeaders(random) + body;
  },
  deepRfc822(random, size) {
    const depth = random.range(10, Math.min(150, Math.max(10, Math.floor(size / 200))));
    let body = `Subject: innermost${CRLF}${CRLF}core`;
    for (let i = 0; i < depth; i++) body = `Subject: level ${i}${CRLF}Content-Type: message/rfc822${CRLF}${CRLF}${body}`;
    return topHeaders(random) + body;
  },
  manyParts(random, size) {
    const parts = random.range(100, Math.max(100, Math.min(3000, Math.floor(size / 90))));
    let out = `${topHeaders(random)}Content-Type: multipart/mixed; boundary="many"${CRLF}${CRLF}`;
    for (let i = 0; i < parts; i++)
      out += `--many${CRLF}Content-Type: text/plain${CRLF}Content-Disposition: attachment; filename="p${i}.txt"${CRLF}${CRLF}part ${i}${CRLF}`;
    return `${out}--many--${CRLF}`;
  },
  hugeHeader(random, size) {
    const length = random.range(Math.floor(size / 4), Math.floor(size * 0.9));
    return `${topHeaders(random)}X-Huge: ${random.string(length, 'abcdef ')}${CRLF}${CRLF}body`;
  },
  manyHeaders(random, size) {
    const count = Math.max(100, Math.floor(size / 40));
    let out = topHeaders(random);
    for (let i = 0; i < count; i++) out += `X-H${i % 50}: value ${i}${CRLF}`;
    return `${out}${CRLF}body`;
  },
  foldedHeader(random, size) {
    const folds = Math.max(50, Math.floor(size / 20));
    return `${topHeaders(random)}Subject: start${`${CRLF} fold`.repeat(folds)}${CRLF}${CRLF}body`;
  },
  longLine(random, size) {
    return `${topHeaders(random)}Content-Type: text/${random.pick(['plain', 'html'])}${CRLF}${CRLF}${random.string(Math.floor(size * 0.9), 'abcdefgh <>&;')}`;
  },
  bareLineEndings(random) {
    return topHeaders(random).replace(/\r\n/g, random.pick(['\n', '\r'])) + random.pick(['\n', '\r']) + 'body\nwith\rbare\n.\nline endings\n';
  },
  noBody(random) {
    return random.pick([
      '',
      CRLF,
      'Subject: only headers',
      `Subject: x${CRLF}No-Separator-Body-Follows`,
      'not a header line at all',
      ':empty name',
      `${'\x00'.repeat(100)}`,
    ]);
  },
  binary(random, size) {
    return topHeaders(random) + CRLF + random.bytes(Math.min(size, 20_000)).toString('latin1');
  },
};

/**
 * Generated messages, deterministic from `seed`: `{ index, shape, raw: Buffer }`.
 * @param {{ seed: number, count: number, maxBytes?: number }} options
 */
export function* mimeMessages({ seed, count, maxBytes = 256 * 1024 }) {
  const random = createRandom(seed);
  const shapes = Object.keys(SHAPES);
  for (let index = 0; index < count; index++) {
    const local = random.fork();
    const size = local.range(1_000, maxBytes);
    let shape;
    let text;
    if (local.chance(0.5)) {
      shape = 'random';
      text = message(local, local.range(0, 6), size);
    } else {
      shape = local.pick(shapes);
      text = SHAPES[shape](local, size);
    }
    let raw = Buffer.from(text, local.chance(0.8) ? 'utf8' : 'latin1');
    if (raw.length > maxBytes) raw = raw.subarray(0, maxBytes);
    yield { index, shape, raw };
  }
}
