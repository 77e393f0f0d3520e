/**
 * A copy of a string that owns its characters. V8 represents slices and concatenations of
 * strings as references to their parents, so a 200-character snippet cut from a decoded body
 * keeps the whole body alive, and a header value keeps the whole header block: ~1.3 KB per
 * stored message that nobody can see.
 */
export function ownString(value: string): string {
  return value.length === 0 ? value : Buffer.from(value, 'utf8').toString('utf8');
}

const SHARED_STRINGS = 1024;
const MAX_SHARED_LENGTH = 256;
const shared = new Map<string, string>();

/**
 * {@link ownString}, shared with every other stored message that has the same value while it
 * is among the last {@link SHARED_STRINGS} different values kept: test mail repeats a few
 * senders, recipients and subjects thousands of times, and each copy takes ~40 bytes.
 */
export function sharedString(value: string): string {
  if (value.length === 0 || value.length > MAX_SHARED_LENGTH) return ownString(value);
  let kept = shared.get(value);
  if (kept === undefined) {
    kept = ownString(value);
    if (shared.size >= SHARED_STRINGS) shared.delete(shared.keys().next().value as string);
    shared.set(kept, kept);
  }
  return kept;
}
