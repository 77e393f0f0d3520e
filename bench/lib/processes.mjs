// Child processes of a bench run: every peer and load generator is started through here,
// so that each one is stopped again at the end, on error and on Ctrl-C.
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';

const STOP_TIMEOUT_MS = 5_000;
const READY_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 60_000;
// sysconf(_SC_CLK_TCK) is 100 on every Linux architecture Node.js runs on.
const CLOCK_TICKS_PER_S = 100;

/** @type {Set<import('node:child_process').ChildProcess>} */
const running = new Set();

function track(child) {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child, timeoutMs) {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Stops one child: SIGTERM, then SIGKILL when it has not exited in time. */
export async function stopChild(child, timeoutMs = STOP_TIMEOUT_MS) {
  if (exited(child)) return;
  child.kill('SIGTERM');
  if (!(await waitForExit(child, timeoutMs))) {
    child.kill('SIGKILL');
    await waitForExit(child, timeoutMs);
  }
}

/** Stops every child still running. */
export async function stopAll() {
  await Promise.all([...running].map((child) => stopChild(child)));
}

/** Makes Ctrl-C, SIGTERM and a crash of the driver stop every child first. */
export function installCleanupHandlers(onInterrupt) {
  const interrupt = (signal) => {
    onInterrupt?.(signal);
    stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  // Last resort when the driver exits without having cleaned up.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/**
 * A Node.js peer in its own process, spoken to over IPC. The child announces
 * `{ type: 'ready', ... }` once it listens, and answers `{ id, cmd }` requests with
 * `{ id, ok, result | error }`.
 */
export class NodePeer {
  /** @param {import('node:child_process').ChildProcess} child */
  constructor(label, child, ready) {
    this.label = label;
    this.child = child;
    this.ready = ready;
    this.pid = child.pid;
    this.nextId = 1;
    /** @type {Map<number, { resolve: Function, reject: Function, timer: NodeJS.Timeout }>} */
    this.pending = new Map();
    child.on('message', (message) => {
      const request = this.pending.get(message?.id);
      if (!request) return;
      this.pending.delete(message.id);
      clearTimeout(request.timer);
      if (message.ok) request.resolve(message.result);
      else request.reject(new Error(`${label}: ${message.error}`));
    });
    child.once('exit', (code, signal) => {
      for (const request of this.pending.values()) {
        clearTimeout(request.timer);
        request.reject(new Error(`${label} exited (${code ?? signal}) during a request`));
      }
      this.pending.clear();
    });
  }

  /** Sends a command to the child and waits for its answer. */
  request(cmd, args = {}, timeoutMs = REQUEST_TIMEOUT_MS) {
    if (exited(this.child)) return Promise.reject(new Error(`${this.label} is not running`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: no answer to "${cmd}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ id, cmd, args });
    });
  }

  /** Asks the child to close its servers and exit, then makes sure it did. */
  async stop() {
    if (exited(this.child)) return;
    await this.request('close', {}, STOP_TIMEOUT_MS).catch(() => undefined);
    if (!(await waitForExit(this.child, STOP_TIMEOUT_MS))) await stopChild(this.child);
  }
}

/** Forks a Node.js peer script and waits until it reports ready. */
export async function forkPeer(label, script, { args = [], execArgv = [], readyTimeoutMs = READY_TIMEOUT_MS } = {}) {
  const child = track(fork(script, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    const ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label}: not ready within ${readyTimeoutMs} ms`)), readyTimeoutMs);
      const onExit = (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${label} exited (${code ?? signal}) before it was ready`));
      };
      child.once('exit', onExit);
      child.once('message', (message) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        if (message?.type === 'ready') resolve(message);
        else reject(new Error(`${label}: ${message?.error ?? 'unexpected first message'}`));
      });
    });
    return new NodePeer(label, child, ready);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** Spawns an executable (a C peer or load generator) that is stopped with the others. */
export function spawnTracked(command, args, options = {}) {
  return track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options }));
}

/**
 * CPU time (user + system) a process has used so far, in milliseconds, from
 * /proc/<pid>/stat. Works for any peer, C or Node.js; null where /proc is missing.
 */
export function cpuTimeMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces: split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

/** Fails with a clear message when a Postfix test tool is missing. */
export async function requireExecutable(path) {
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new Error(`${path} is missing: install Postfix (Debian/Ubuntu: apt-get install postfix), which ships smtp-sink and smtp-source`);
  }
}
