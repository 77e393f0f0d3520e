#!/usr/bin/env node
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { CliContext } from './cli-context.js';
import { formatProblems } from './cli-problem.js';
import { boundYoungGeneration } from './bound-young-generation.js';
import { EXIT_FAILURE, EXIT_INVALID_CONFIG, EXIT_OK } from './exit-codes.js';
import { checkHealth } from './healthcheck.js';
import { resolveHealthcheckConfig } from './healthcheck-config.js';
import { CLI_VERSION } from './version.js';

const output = {
  stdout: (text: string): void => void process.stdout.write(text),
  stderr: (text: string): void => void process.stderr.write(text),
};

/** Where the built inbox viewer sits: copied next to the package, or in the monorepo's apps/web. */
const WEB_ROOT_CANDIDATES = [new URL('../web/', import.meta.url), new URL('../../web/dist/', import.meta.url)].map((url) => fileURLToPath(url));

const context: CliContext = {
  env: process.env,
  cwd: process.cwd(),
  homedir: homedir(),
  stdoutIsTTY: Boolean(process.stdout.isTTY),
  readTextFile: (path) => readFileSync(path, 'utf8'),
  isDirectory: (path) => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false,
  defaultWebRoot: WEB_ROOT_CANDIDATES.find((dir) => existsSync(`${dir}index.html`)),
};

/** Runs the command; `exitNow` when sockets or timers may linger and must not hold the exit. */
async function main(argv: readonly string[]): Promise<{ code: number; exitNow: boolean }> {
  // Before anything is loaded: the young generation would grow for the modules alone.
  boundYoungGeneration();
  // The health check runs every few seconds in containers: keep it off the engine's imports.
  const result =
    argv[0] === 'healthcheck' ? resolveHealthcheckConfig(argv.slice(1), context) : (await import('./cli-config.js')).resolveCliConfig(argv, context);
  if (!result.ok) {
    output.stderr(formatProblems(result.problems, result.topic));
    return { code: EXIT_INVALID_CONFIG, exitNow: false };
  }
  const { config } = result;
  switch (config.command) {
    case 'help':
      // Loaded on demand: the help derives the flags from the options schema, which the health check does not load.
      output.stdout((await import('./help.js')).formatHelp(config.topic));
      return { code: EXIT_OK, exitNow: false };
    case 'version':
      output.stdout(`${CLI_VERSION}\n`);
      return { code: EXIT_OK, exitNow: false };
    case 'healthcheck': {
      const health = await checkHealth(config.url, config.timeoutMs);
      if (health.healthy) output.stdout(`healthy: ${health.detail}\n`);
      else output.stderr(`unhealthy: ${health.detail}\n`);
      return { code: health.healthy ? EXIT_OK : EXIT_FAILURE, exitNow: true };
    }
    case 'serve': {
      const { serve } = await import('./serve.js');
      return { code: await serve(config, output), exitNow: true };
    }
  }
}

main(process.argv.slice(2)).then(
  ({ code, exitNow }) => {
    if (exitNow) process.exit(code);
    // Let pending stdout/stderr writes drain (pipes are asynchronous on some platforms).
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('mailwright: unexpected error:', error);
    process.exit(EXIT_FAILURE);
  },
);
