import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as ExternalClient from './external-client.js';

/** The helper module as a process with this CI variable loads it. */
async function loadWithCi(ci: string): Promise<typeof ExternalClient> {
  vi.stubEnv('CI', ci);
  vi.resetModules();
  return import('./external-client.js');
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('a missing prerequisite', () => {
  it.each(['true', '1'])('fails the test under CI=%s, naming what is missing', async (ci) => {
    const { skipReason } = await loadWithCi(ci);
    expect(() => skipReason('sslscan is not installed')).toThrow('sslscan is not installed; it is required when CI=true');
  });

  it.each(['', 'false'])('skips it with the reason otherwise (CI=%j)', async (ci) => {
    const { skipReason } = await loadWithCi(ci);
    expect(skipReason('sslscan is not installed')).toBe('sslscan is not installed');
  });

  it('is decided the same way for a client binary', async () => {
    const { requireExecutable } = await loadWithCi('true');
    const context = { skip: vi.fn() } as unknown as Parameters<typeof requireExecutable>[1];
    expect(() => requireExecutable('mailwright-no-such-client', context)).toThrow(/mailwright-no-such-client is not installed.*required when CI=true/);
    expect(context.skip).not.toHaveBeenCalled();
  });
});
