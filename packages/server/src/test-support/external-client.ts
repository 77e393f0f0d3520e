import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, type TestContext } from 'vitest';

const DEFAULT_PROCESS_TIMEOUT_MS = 15_000;

/** Whether a prerequisite that is missing must fail the run rather than skip (`CI=true`). */
const PREREQUISITES_REQUIRED = process.env.CI === 'true' || process.env.CI === '1';

/** The absolute path of an executable on PATH, or null. */
export function findExecutable(name: string): string | null {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory === '') continue;
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The one place that decides what a missing prerequisite (a client binary, Chromium, a Docker
 * engine, Postfix) does to a test: given why it is unavailable, returns that reason to skip with;
 * under CI=true it throws instead, so that CI cannot pass without running the test.
 */
export function skipReason(unavailable: string): string {
  if (PREREQUISITES_REQUIRED) throw new Error(`${unavailable}; it is required when CI=true`);
  return unavailable;
}

/**
 * `describe` for a suite that needs a prerequisite: `unavailable` says why it is missing (null
 * when it is there); the suite is then skipped with the reason in its name, or fails under CI=true
 * (see {@link skipReason}).
 */
export function describeWithPrerequisite(name: string, unavailable: string | null, body: () => void): void {
  const reason = unavailable === null ? null : skipReason(unavailable);
  describe.skipIf(reason !== null)(reason === null ? name : `${name} (skipped: ${reason})`, body);
}

/**
 * The path of a client binary. Missing, the test is skipped with the reason shown; under
 * CI=true a missing client fails the test instead, so CI cannot pass without running it.
 */
export function requireExecutable(name: string, context: TestContext): string {
  const path = findExecutable(name);
  if (path) return path;
  return context.skip(`${skipReason(`${name} is not installed (not found on PATH)`)}; install it to run this test`);
}

/** The result of a finished process. */
export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a process to completion (bounded by `timeoutMs`), feeding it `input` on stdin. */
export function runProcess(command: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not finish within ${options.timeoutMs ?? DEFAULT_PROCESS_TIMEOUT_MS} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? DEFAULT_PROCESS_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Drives an interactive process (such as `openssl s_client`) line by line: write a line,
 * wait for the output to match. Every wait is bounded.
 */
export class InteractiveProcess {
  output = '';
  errors = '';
  private readonly child;
  private readonly exited: Promise<ProcessResult>;
  private notify: (() => void) | null = null;

  constructor(command: string, args: readonly string[]) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.output += chunk;
      this.notify?.();
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.errors += chunk;
      this.notify?.();
    });
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        this.notify?.();
        resolve({ code, signal, stdout: this.output, stderr: this.errors });
      });
    });
    this.exited.catch(() => undefined);
  }

  /** Writes one line (CRLF-terminated). */
  writeLine(line: string): void {
    this.child.stdin.write(`${line}\r\n`);
  }

  /** Waits until stdout, from `fromIndex` on, matches `pattern`; returns the match. */
  async waitFor(pattern: RegExp, fromIndex = 0, timeoutMs = DEFAULT_PROCESS_TIMEOUT_MS): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.output.slice(fromIndex));
      if (match) return match;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`process exited before ${pattern} appeared\nstdout:\n${this.output}\nstderr:\n${this.errors}`);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${pattern}\nstdout:\n${this.output}\nstderr:\n${this.errors}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.notify = () => {
          clearTimeout(timer);
          this.notify = null;
          resolve();
        };
      });
    }
  }

  /** Closes stdin and waits for the process to exit (killed after `timeoutMs`). */
  async finish(timeoutMs = DEFAULT_PROCESS_TIMEOUT_MS): Promise<ProcessResult> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process if it is still running. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
