import { defineConfig } from 'vitest/config';

export default defineConfig({
  // One file at a time: each starts its own server, and the key generation and cryptography of
  // one suite would otherwise eat into the bounded waits of another.
  test: { include: ['examples/vitest/**/*.test.ts'], testTimeout: 20_000, hookTimeout: 30_000, fileParallelism: false },
});
