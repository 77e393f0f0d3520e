import { describe, expect, it } from 'vitest';
import { rememberSuccess } from './remember-success.js';

describe('rememberSuccess', () => {
  it('makes the value once for concurrent and later callers', async () => {
    let made = 0;
    const value = rememberSuccess(async () => ++made);
    expect(await Promise.all([value(), value()])).toEqual([1, 1]);
    expect(await value()).toBe(1);
    expect(made).toBe(1);
  });

  it('tries again after a failure instead of keeping it', async () => {
    let attempts = 0;
    const value = rememberSuccess(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('first attempt fails');
      return 'made';
    });
    await expect(value()).rejects.toThrow('first attempt fails');
    expect(await value()).toBe('made');
    expect(await value()).toBe('made');
    expect(attempts).toBe(2);
  });
});
