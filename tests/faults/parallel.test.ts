// Two vitest files running at once against one server: one fails every message to its inbox,
// the other sends to its own and is unaffected (the files wait for each other, so they overlap).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMailwright, type RunningMailwright } from '@mailwright/server';
import type { SmtpSession } from '@mailwright/core';

const root = fileURLToPath(new URL('../..', import.meta.url));
let server: RunningMailwright;

beforeAll(async () => {
  server = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0 });
});
afterAll(() => server?.close());

function runFixtures(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && key !== 'NODE_OPTIONS' && key !== 'TEST'));
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['vitest', 'run', '--config', 'tests/faults/fixtures/vitest.config.ts'], {
      cwd: root,
      env: { ...clean, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

it("a file failing its inbox and a file beside it: each sees only its own rule's effect", { timeout: 180_000 }, async () => {
  const failing = `failing-${process.pid}@parallel.test`;
  const neutral = `neutral-${process.pid}@parallel.test`;
  const { code, output } = await runFixtures({ MAILWRIGHT_URL: server.url, FAILING_ADDRESS: failing, NEUTRAL_ADDRESS: neutral });
  expect(output).toMatch(/Test Files\s+.*2 passed/);
  expect(code).toBe(0);
  expect((await server.store.listMessages({ limit: 100, filter: { to: failing } })).total).toBe(0);
  expect((await server.store.listMessages({ limit: 100, filter: { to: neutral } })).total).toBe(10);
  const { sessions } = (await server.store.listSessions({ limit: 100 })) as { sessions: SmtpSession[] };
  const faulted = sessions.filter((session) => session.faults !== undefined);
  expect(faulted.length).toBeGreaterThanOrEqual(10);
  expect(faulted.every((session) => session.faults?.every((fault) => fault.recipients.join() === failing))).toBe(true);
  // The rule was removed when its test's scope ended.
  expect(server.faults.size).toBe(0);
});
