import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../dist/bound-young-generation.js', import.meta.url));
const MIB = 1024 * 1024;

/**
 * Allocates objects of which many survive (as stored messages do), then prints the size of V8's
 * young generation ("new_space") in bytes, in a fresh process.
 */
function youngGenerationAfterBurst(bound: boolean, withWorker = false): number {
  const script = `
    ${bound ? `const { boundYoungGeneration } = await import(${JSON.stringify(MODULE)}); boundYoungGeneration();` : ''}
    ${
      withWorker
        ? `const { Worker } = await import('node:worker_threads');
           const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
           await new Promise((resolve) => worker.once('online', resolve));
           worker.unref();`
        : ''
    }
    const { getHeapSpaceStatistics } = await import('node:v8');
    const kept = [];
    for (let i = 0; i < 2_000_000; i++) { const o = { i, s: 'x' + i }; if (i % 50 === 0) kept.push(o); }
    const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    process.stdout.write(String(space.space_size));
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  return Number(result.stdout);
}

describe('boundYoungGeneration', () => {
  // A canary for a Node.js upgrade: the V8 flag it sets must still stop the young generation
  // from growing when set at run time.
  it('keeps the young generation at its initial size through a burst of surviving allocations', () => {
    const grown = youngGenerationAfterBurst(false);
    const bounded = youngGenerationAfterBurst(true);
    expect(grown, 'without the bound V8 grows the young generation for the burst').toBeGreaterThan(8 * MIB);
    expect(bounded, 'V8 no longer honours --semi-space-growth-factor=1 set at run time').toBeLessThanOrEqual(4 * MIB);
  });

  it('still bounds it once a worker thread has started (a worker resets V8’s flags)', () => {
    expect(youngGenerationAfterBurst(false, true)).toBeGreaterThan(8 * MIB);
    expect(youngGenerationAfterBurst(true, true)).toBeLessThanOrEqual(4 * MIB);
  });
});
