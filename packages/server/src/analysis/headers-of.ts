import type { TruncatedPart } from './parse-message.js';

/** As much of a header block as is read when the parser gives up (its own limit is 1 MiB). */
const MAX_HEADER_BLOCK_BYTES = 1024 * 1024;
const MAX_HEADER_VALUE_LENGTH = 64 * 1024;
const MAX_HEADERS = 1000;

/**
 * The top-level headers of a message the parser could not read, read leniently and within
 * bounds: a header block over 1 MiB, more than 1,000 fields or a value over 64 Ki characters
 * are cut, and the cut is reported. Values are unfolded, not decoded.
 */
export function headersOf(raw: Buffer): { headers: Record<string, string[]>; truncated: TruncatedPart[] } {
  const window = raw.subarray(0, MAX_HEADER_BLOCK_BYTES);
  const crlf = window.indexOf('\r\n\r\n');
  const lf = window.indexOf('\n\n');
  const ends = [crlf, lf].filter((at) => at >= 0);
  const reasons: string[] = [];
  let block: string;
  if (ends.length > 0) block = window.subarray(0, Math.min(...ends)).toString('utf8');
  else if (raw.length <= MAX_HEADER_BLOCK_BYTES) block = window.toString('utf8');
  else {
    // The block goes on past the window: its last field is cut.
    block = window.toString('utf8');
    reasons.push(`the header block is over ${MAX_HEADER_BLOCK_BYTES} bytes`);
  }
  const headers: Record<string, string[]> = {};
  let count = 0;
  for (const field of block.split(/\r?\n(?![ \t])/)) {
    const colon = field.indexOf(':');
    if (colon <= 0) continue;
    if (count === MAX_HEADERS) {
      reasons.push(`more than ${MAX_HEADERS} header fields`);
      break;
    }
    count += 1;
    const key = field.slice(0, colon).trim().toLowerCase();
    let value = field
      .slice(colon + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    if (value.length > MAX_HEADER_VALUE_LENGTH) {
      reasons.push(`the value of "${key}" has ${value.length} characters, cut to ${MAX_HEADER_VALUE_LENGTH}`);
      value = value.slice(0, MAX_HEADER_VALUE_LENGTH);
    }
    (headers[key] ??= []).push(value);
  }
  return { headers, truncated: reasons.length > 0 ? [{ part: 'headers', reason: reasons.join('; ') }] : [] };
}
