import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailwright, type RunningMailwright } from '@mailwright/server';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** A whole example suite in a child process, S/MIME and OpenPGP key generation included. */
const SUITE_TIMEOUT_MS = 180_000;

/** Runs a command in the repo root with a clean (non-vitest) environment. */
function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && key !== 'NODE_OPTIONS' && key !== 'TEST'));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('the examples', () => {
  let server: RunningMailwright;
  beforeAll(async () => {
    server = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it(
    'the vitest suite passes against an in-process server',
    async () => {
      const { code, output } = await run('npx', ['vitest', 'run', '--config', 'examples/vitest.config.ts']);
      expect(output).toMatch(/Tests\s+.*16 passed/);
      expect(code).toBe(0);
    },
    SUITE_TIMEOUT_MS,
  );

  it(
    'the same vitest suite passes against a running server (MAILWRIGHT_URL)',
    async () => {
      const { code, output } = await run('npx', ['vitest', 'run', '--config', 'examples/vitest.config.ts'], { MAILWRIGHT_URL: server.url });
      expect(output).toMatch(/Tests\s+.*16 passed/);
      expect(code).toBe(0);
      // Two from the password-reset suite, five from the authentication recipes.
      expect((await server.store.listMessages({ limit: 10, filter: { subject: 'Reset your password' } })).total).toBe(7);
    },
    SUITE_TIMEOUT_MS,
  );

  it(
    'the node:test suite passes with the plain assertions',
    async () => {
      const { code, output } = await run('node', ['--test', 'examples/node-test/']);
      expect(output).toMatch(/# pass 3/);
      expect(code).toBe(0);
    },
    SUITE_TIMEOUT_MS,
  );

  it.each([
    ['authentication', '## End to end over the REST API', 20],
    ['encryption', '## The protection record', 30],
    ['faults', '## Rules', 20],
  ])("the %s guide's recipes are lines of the example suite that runs above", async (name, end, least) => {
    const guide = await readFile(`${root}docs/${name}.md`, 'utf8');
    const suite = new Set((await readFile(`${root}examples/vitest/${name}.test.ts`, 'utf8')).split('\n').map((line) => line.trim()));
    const recipes = guide.slice(guide.indexOf('## Recipes'), guide.indexOf(end));
    const code = [...recipes.matchAll(/```ts\n([\s\S]*?)```/g)].flatMap((block) => (block[1] ?? '').split('\n').map((line) => line.trim()));
    const lines = code.filter((line) => line !== '' && !line.startsWith('//'));
    expect(lines.length).toBeGreaterThan(least);
    expect(lines.filter((line) => !suite.has(line))).toEqual([]);
  });
});
