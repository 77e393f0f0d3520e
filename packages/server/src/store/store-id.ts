import { randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_POOL_BYTES = 6 * 1024;
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

function base32(value: number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++, value = Math.floor(value / 32)) text = CROCKFORD[value % 32] + text;
  return text;
}

/**
 * The id the store gives a message (`CapturedMessage.id`; not its Message-ID header): ULID-style,
 * 10 characters of time, 6 of sequence and 6 random, so that it sorts by arrival.
 */
export function createStoreId(seq: number, now: number): string {
  let random = '';
  for (let i = 0; i < RANDOM_CHARS; i++) random += CROCKFORD[randomByte() % 32];
  return base32(now, 10) + base32(seq, 6) + random;
}
