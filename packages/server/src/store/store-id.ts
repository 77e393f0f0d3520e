import { randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_POOL_BYTES = 6 * 1024;
const TIME_CHARS = 10;
const SEQ_CHARS = 6;
const RANDOM_CHARS = 6;

const pool = new Uint8Array(RANDOM_POOL_BYTES);
let poolOffset = RANDOM_POOL_BYTES;

/** Random bytes from a pool refilled in bulk: one syscall per thousand ids, not one per id. */
function randomByte(): number {
  if (poolOffset >= RANDOM_POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++] as number;
}

/** The id's characters, reused: built into one flat string, not a chain of concatenations. */
const codes: number[] = new Array<number>(TIME_CHARS + SEQ_CHARS + RANDOM_CHARS).fill(0);

/** Writes `value` in `length` base32 digits ending before `end`. */
function base32(value: number, length: number, end: number): void {
  for (let i = end - 1; i >= end - length; i--, value = Math.floor(value / 32)) codes[i] = CROCKFORD.charCodeAt(value % 32);
}

/**
 * The id the store gives a message (`CapturedMessage.id`; not its Message-ID header): ULID-style,
 * 10 characters of time, 6 of sequence and 6 random, so that it sorts by arrival. A flat string:
 * one joined from parts would keep the parts as well, for as long as the message is stored.
 */
export function createStoreId(seq: number, now: number): string {
  base32(now, TIME_CHARS, TIME_CHARS);
  base32(seq, SEQ_CHARS, TIME_CHARS + SEQ_CHARS);
  for (let i = TIME_CHARS + SEQ_CHARS; i < codes.length; i++) codes[i] = CROCKFORD.charCodeAt(randomByte() % 32);
  return String.fromCharCode(...codes);
}
