import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sendUntilClosed, startCli, type StartedCli } from './cli-process.js';

const ROUNDS = 20;
const CONNECTIONS = 4;
/** A round is killed after between 1 and this many acknowledgements, at a random one. */
const MAX_ACKS_PER_ROUND = 40;
const TEST_TIMEOUT_MS = 240_000;

/** A small seeded generator, so that a failing run can be repeated with its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** Every subject stored, read page by page from the REST API. */
async function storedSubjects(apiUrl: string): Promise<string[]> {
  const subjects: string[] = [];
  let before: number | undefined;
  for (;;) {
    const response = await fetch(`${apiUrl}/messages?limit=1000${before === undefined ? '' : `&before=${before}`}`);
    const page = (await response.json()) as { messages: { seq: number; subject: string }[] };
    subjects.push(...page.messages.map((message) => message.subject));
    const last = page.messages[page.messages.length - 1];
    if (page.messages.length < 1000 || !last) return subjects;
    before = last.seq;
  }
}

describe('SQLite storage under kill -9', () => {
  const dirs: string[] = [];
  const running: StartedCli[] = [];
  afterAll(async () => {
    for (const cli of running) cli.child.kill('SIGKILL');
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it(
    `keeps every message acknowledged with 250, exactly once, across ${ROUNDS} kills at random points`,
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'mailwright-crash-'));
      dirs.push(dataDir);
      const seed = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);
      const next = random(seed);
      const acknowledged = new Set<string>();
      let attempted = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const cli = await startCli(dataDir);
        running.push(cli);
        const killAt = 1 + Math.floor(next() * MAX_ACKS_PER_ROUND);
        let acks = 0;
        const senders = Array.from({ length: CONNECTIONS }, (_, connection) =>
          sendUntilClosed(cli.smtpPort, `r${round}c${connection}`, (subject) => {
            acknowledged.add(subject);
            // Killed the moment the chosen acknowledgement arrives: the other connections are
            // wherever they happen to be (in DATA, waiting for their commit, between messages).
            if (++acks === killAt) cli.child.kill('SIGKILL');
          }),
        );
        const results = await Promise.all(senders);
        attempted += results.reduce((sum, result) => sum + result.sent, 0);
        expect((await cli.exited).signal, `round ${round} (seed ${seed}): ${cli.stderr()}`).toBe('SIGKILL');
        running.splice(running.indexOf(cli), 1);
        // Every refusal would be a message the client knows was not stored: none are expected.
        expect(results.flatMap((result) => result.refusals)).toEqual([]);
      }

      const cli = await startCli(dataDir);
      running.push(cli);
      const subjects = await storedSubjects(cli.apiUrl);
      const counts = new Map<string, number>();
      for (const subject of subjects) counts.set(subject, (counts.get(subject) ?? 0) + 1);
      const missing = [...acknowledged].filter((subject) => !counts.has(subject));
      const twice = [...counts].filter(([, count]) => count > 1).map(([subject]) => subject);
      expect({ seed, missing, twice }).toEqual({ seed, missing: [], twice: [] });
      expect(acknowledged.size).toBeGreaterThanOrEqual(ROUNDS);
      // Stored but not acknowledged: only messages in flight when the process died.
      expect(subjects.length - acknowledged.size).toBeLessThanOrEqual(ROUNDS * CONNECTIONS);
      expect(subjects.length).toBeLessThanOrEqual(attempted);
      cli.child.kill('SIGTERM');
      expect((await cli.exited).code).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
