/**
 * A copy of a string that owns its characters. V8 represents slices and concatenations of
 * strings as references to their parents, so a 200-character snippet cut from a decoded body
 * keeps the whole body alive, and a header value keeps the whole header block: ~1.3 KB per
 * stored message that nobody can see.
 */
export function ownString(value: string): string {
  return value.length === 0 ? value : Buffer.from(value, 'utf8').toString('utf8');
}
