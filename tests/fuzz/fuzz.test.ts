// A deterministic slice of the fuzzers of bench/fuzz (`npm run fuzz` runs the full size): SMTP
// command lines and pathological MIME messages against a real Mailwright in its own process,
// then every capture read back through the REST API, with /health sampled throughout.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mimeMessages } from '../../bench/fuzz/mime-generator.mjs';
import { HEALTH_MIN_SAMPLES, HEALTH_P99_LIMIT_MS, runFuzz } from '../../bench/fuzz/run-fuzz.mjs';
import { smtpSessions } from '../../bench/fuzz/smtp-fuzzer.mjs';

const SEED = 20_261_202;
const SMTP_LINES = 5_000;
const MIME_MESSAGES = 300;
// The run stops itself (and fails) at its time limit; the test's timeout leaves room to clean up.
const RUN_TIME_LIMIT_MS = 150_000;
const TEST_TIMEOUT_MS = 240_000;

/** A digest of the first `count` session plans of a seed. */
function planDigest(seed: number, count: number): string {
  const hash = createHash('sha256');
  let taken = 0;
  for (const plan of smtpSessions({ seed })) {
    hash.update(plan.transport);
    for (const chunk of plan.chunks) hash.update(chunk.bytes);
    if (++taken === count) break;
  }
  return hash.digest('hex');
}

function mimeDigest(seed: number, count: number): string {
  const hash = createHash('sha256');
  for (const message of mimeMessages({ seed, count })) hash.update(message.raw);
  return hash.digest('hex');
}

describe('fuzzing the SMTP listener and the API', () => {
  it('the generators are deterministic: the same seed gives the same bytes, another seed others', () => {
    expect(planDigest(SEED, 50)).toBe(planDigest(SEED, 50));
    expect(planDigest(SEED, 50)).not.toBe(planDigest(SEED + 1, 50));
    expect(mimeDigest(SEED, 40)).toBe(mimeDigest(SEED, 40));
    expect(mimeDigest(SEED, 40)).not.toBe(mimeDigest(SEED + 1, 40));
  });

  it(
    `${SMTP_LINES} fuzzed command lines and ${MIME_MESSAGES} pathological messages: no crash, no 5xx, /health fast throughout`,
    async () => {
      const { summary, problems } = await runFuzz({
        seed: SEED,
        lines: SMTP_LINES,
        messages: MIME_MESSAGES,
        maxMessageBytes: 128 * 1024,
        // Half the default: the slice shares the machine with the other suites.
        concurrency: 4,
        timeLimitMs: RUN_TIME_LIMIT_MS,
      });
      const { health } = summary;
      console.log(
        `fuzz slice (seed ${SEED}): ${summary.smtp?.linesWritten} lines in ${summary.smtp?.sessions} sessions, ` +
          `${summary.mime?.accepted}/${summary.mime?.generated} messages accepted, ${summary.api?.requests} API requests; ` +
          `/health p99 ${health?.p99.toFixed(1)} ms, max ${health?.max.toFixed(1)} ms over ${health?.samples} samples ${JSON.stringify(health?.byPhase)}`,
      );
      expect(summary.smtp?.linesWritten).toBeGreaterThanOrEqual(SMTP_LINES);
      expect(summary.mime?.generated).toBe(MIME_MESSAGES);
      expect(summary.api?.status['5xx']).toBe(0);
      expect(health?.samples).toBeGreaterThanOrEqual(HEALTH_MIN_SAMPLES);
      expect(health?.p99).toBeLessThanOrEqual(HEALTH_P99_LIMIT_MS);
      // Everything above and more (the process stayed up, every accepted message was stored):
      expect(problems).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
