// A small seeded pseudo-random generator (mulberry32): the same seed gives the same
// sequence on every machine, so a fuzz run that finds a problem can be replayed exactly.

/**
 * A deterministic random source.
 * @param {number} seed any 32-bit integer
 */
export function createRandom(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const random = {
    /** A float in [0, 1). */
    next,
    /** An integer in [0, n). */
    int: (n) => Math.floor(next() * n),
    /** An integer in [min, max]. */
    range: (min, max) => min + Math.floor(next() * (max - min + 1)),
    /** True with probability p. */
    chance: (p) => next() < p,
    /** One element of a non-empty array. */
    pick: (items) => items[Math.floor(next() * items.length)],
    /** n random bytes. */
    bytes: (n) => {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
    /** A string of n characters drawn from `alphabet`. */
    string: (n, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789') => {
      let out = '';
      for (let i = 0; i < n; i++) out += alphabet[Math.floor(next() * alphabet.length)];
      return out;
    },
    /** A child generator with its own sequence (stable however much the parent is used later). */
    fork: () => createRandom(Math.floor(next() * 4294967296)),
  };
  return random;
}
