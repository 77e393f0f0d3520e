/**
 * One MIME entity read from its exact bytes: what the protection layers need to find a
 * signature, an encrypted body or the parts of a `multipart/signed`, without decoding or
 * re-serializing anything (a signature covers bytes, not a parsed tree).
 */
export interface MimeEntity {
  /** Header fields by lower-case name: the first occurrence, unfolded. */
  headers: ReadonlyMap<string, string>;
  /** `type/subtype`, lower case; `text/plain` when absent. */
  contentType: string;
  /** Parameters of Content-Type, names lower case, values unquoted. */
  params: Readonly<Record<string, string>>;
  /** The header block as received, up to and including the blank line's line ending. */
  headerBytes: Buffer;
  /** The body as received (still transfer-encoded). */
  body: Buffer;
}

const CR = 13;
const LF = 10;

/** Where the blank line that ends the header block ends (index of the body), or -1. */
function bodyStart(bytes: Buffer): number {
  if (bytes[0] === LF) return 1;
  if (bytes[0] === CR && bytes[1] === LF) return 2;
  for (let i = bytes.indexOf(LF); i !== -1 && i < bytes.length - 1; i = bytes.indexOf(LF, i + 1)) {
    if (bytes[i + 1] === LF) return i + 2;
    if (bytes[i + 1] === CR && bytes[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** `value; a=1; b="x y"` → the value (lower case) and its parameters (RFC 2231 continuations joined). */
export function parseHeaderParams(field: string): { value: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  const semicolon = field.indexOf(';');
  const value = (semicolon === -1 ? field : field.slice(0, semicolon)).trim().toLowerCase();
  const pattern = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (let match = pattern.exec(field); match; match = pattern.exec(field)) {
    const name = match[1]!.toLowerCase().replace(/\*\d*\*?$/, '');
    let text = match[2]!.trim();
    if (text.startsWith('"')) text = text.slice(1, -1).replace(/\\(.)/g, '$1');
    params[name] = name in params ? params[name] + text : text;
  }
  return { value, params };
}

/** Reads an entity's header block; a message without a blank line is all header. */
export function readMimeEntity(bytes: Buffer): MimeEntity {
  const start = bodyStart(bytes);
  const headerBytes = start === -1 ? bytes : bytes.subarray(0, start);
  const body = start === -1 ? Buffer.alloc(0) : bytes.subarray(start);
  const headers = new Map<string, string>();
  const unfolded = headerBytes.toString('latin1').replace(/\r?\n[ \t]/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  const { value, params } = parseHeaderParams(headers.get('content-type') ?? 'text/plain');
  return { headers, contentType: value.includes('/') ? value : 'text/plain', params, headerBytes, body };
}

/**
 * The parts of a multipart body, each exactly as received: from after the delimiter line's
 * line ending to before the line ending that precedes the next delimiter (RFC 2046 5.1.1:
 * that line ending belongs to the delimiter). Text before the first and after the closing
 * delimiter is left out. An unclosed last part runs to the end.
 */
export function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Buffer[] = [];
  let partStart = -1;
  let at = 0;
  while (at <= body.length) {
    const found = body.indexOf(delimiter, at);
    if (found === -1) break;
    const atLineStart = found === 0 || body[found - 1] === LF;
    if (!atLineStart) {
      at = found + 1;
      continue;
    }
    const lineEnd = body.indexOf(LF, found);
    const closing = body[found + delimiter.length] === 45 && body[found + delimiter.length + 1] === 45;
    if (partStart !== -1) {
      let end = found;
      if (end > 0 && body[end - 1] === LF) end -= 1;
      if (end > 0 && body[end - 1] === CR) end -= 1;
      parts.push(body.subarray(partStart, Math.max(end, partStart)));
    }
    if (closing || lineEnd === -1) return parts;
    partStart = lineEnd + 1;
    at = partStart;
  }
  if (partStart !== -1 && partStart < body.length) parts.push(body.subarray(partStart));
  return parts;
}

/** The body with its Content-Transfer-Encoding undone (base64 and quoted-printable; others as they are). */
export function decodeBody(entity: MimeEntity): Buffer {
  const encoding = (entity.headers.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  if (encoding === 'base64') {
    // Node's decoder skips what is not base64 (line breaks, garbage) by itself, but reads the
    // URL-safe `-` and `_` as digits: only a body with those is cleaned first (a regex over a
    // 30 MB body costs most of a second).
    const text = entity.body.toString('latin1');
    return Buffer.from(/[-_]/.test(text) ? text.replace(/[^A-Za-z0-9+/=]/g, '') : text, 'base64');
  }
  if (encoding === 'quoted-printable') {
    const text = entity.body.toString('latin1').replace(/=\r?\n/g, '');
    return Buffer.from(
      text.replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    );
  }
  return entity.body;
}
