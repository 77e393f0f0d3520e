// The servers a scenario measures, each in its own process, behind one small interface:
// { name, label, host, port, pid, stats(), clear(), stop() } (+ ca and memory() for Mailwright).
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuTimeMs, forkPeer, requireExecutable, spawnTracked, stopChild } from './processes.mjs';
import { LOOPBACK, freePort, waitForGreeting } from './net.mjs';

const SMTP_SINK = '/usr/sbin/smtp-sink';
const SMTP_SINK_BACKLOG = 1000;
const SMTP_SINK_START_ATTEMPTS = 3;
const SMTP_SINK_READY_TIMEOUT_MS = 5_000;

const MAILDEV_START_ATTEMPTS = 3;
const MAILDEV_READY_TIMEOUT_MS = 30_000;
const MAILDEV_REQUEST_TIMEOUT_MS = 60_000;

const peerScript = (name) => fileURLToPath(new URL(`../peers/${name}`, import.meta.url));

/**
 * Runs `measure` with the V8 CPU profiler on in every Node.js peer given (with --cpu-prof;
 * otherwise it just runs `measure`). Profiles cover the measured part only, not start-up
 * or warm-up, and land in bench/profiles/<scenario>-<peer>-<time>.cpuprofile.
 */
export async function profiled(ctx, scenario, peers, measure) {
  const profiling = ctx.cpuProfileDir ? peers.filter((peer) => peer.profile) : [];
  await Promise.all(profiling.map((peer) => peer.profile.start()));
  try {
    return await measure();
  } finally {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const files = await Promise.all(
      profiling.map((peer) => peer.profile.stop(join(ctx.cpuProfileDir, `${scenario}-${peer.name}-${stamp}.cpuprofile`)).catch(() => null)),
    );
    for (const file of files) if (file) ctx.log(`CPU profile: ${relative(process.cwd(), file)}`);
  }
}

function nodePeerHandle(name, label, peer) {
  return {
    name,
    label,
    host: peer.ready.smtp.host,
    port: peer.ready.smtp.port,
    pid: peer.pid,
    ready: peer.ready,
    cpuTimeMs: () => cpuTimeMs(peer.pid),
    stats: (args) => peer.request('stats', args),
    clear: () => peer.request('clear'),
    request: (cmd, args, timeoutMs) => peer.request(cmd, args, timeoutMs),
    profile: {
      start: () => peer.request('profile-start'),
      stop: async (file) => (await peer.request('profile-stop', { file })).file,
    },
    stop: () => peer.stop(),
  };
}

/** Mailwright in its own process. `options` go to createMailwright; `execArgv` to node (e.g. --expose-gc). */
export async function startMailwright(ctx, { options = {}, execArgv = [], label = 'Mailwright', name = 'mailwright', watched = false } = {}) {
  const peer = await forkPeer(label, peerScript('mailwright.mjs'), { args: [JSON.stringify({ options, watched })], execArgv });
  const handle = nodePeerHandle(name, label, peer);
  return { ...handle, ca: peer.ready.ca, smtps: peer.ready.smtps, memory: () => peer.request('memory') };
}

/**
 * A bare smtp-server that discards every message, in its own process. With
 * `greetingDelay: false` it skips smtp-server's 100 ms wait before the greeting.
 */
export async function startSmtpServerSink(ctx, { label = 'bare smtp-server sink', greetingDelay = true } = {}) {
  const peer = await forkPeer(label, peerScript('smtp-server-sink.mjs'), { args: greetingDelay ? [] : ['--no-greeting-delay'] });
  return nodePeerHandle(greetingDelay ? 'smtp-server' : 'smtp-server-no-delay', label, peer);
}

/**
 * A minimal Node.js SMTP responder (fixed replies, no SMTP library) in its own process: the floor
 * of any Node.js server's per-connection latency on this machine.
 */
export async function startNodeResponder(ctx, { label = 'minimal Node.js responder' } = {}) {
  const peer = await forkPeer(label, peerScript('node-responder.mjs'));
  return nodePeerHandle('node-responder', label, peer);
}

/**
 * Postfix's smtp-sink (C, single process, discards mail) on a free loopback port. It
 * takes the port on its command line, so the port is picked first; when another
 * process takes it in between, smtp-sink exits and we try again with another one.
 */
export async function startSmtpSink(ctx, { label = 'Postfix smtp-sink' } = {}) {
  await requireExecutable(SMTP_SINK);
  let lastError = null;
  for (let attempt = 0; attempt < SMTP_SINK_START_ATTEMPTS; attempt++) {
    const port = await freePort();
    // smtp-sink refuses to run as root unless told which user to switch to.
    const args = [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), `${LOOPBACK}:${port}`, String(SMTP_SINK_BACKLOG)];
    const child = spawnTracked(SMTP_SINK, args);
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.resume();
    try {
      await waitForGreeting(LOOPBACK, port, SMTP_SINK_READY_TIMEOUT_MS, () => child.exitCode === null);
      if (child.exitCode !== null) throw new Error(`smtp-sink exited: ${stderr.trim()}`);
      return {
        name: 'smtp-sink',
        label,
        host: LOOPBACK,
        port,
        pid: child.pid,
        cpuTimeMs: () => cpuTimeMs(child.pid),
        stats: async () => null,
        clear: async () => undefined,
        stop: () => stopChild(child),
      };
    } catch (error) {
      lastError = new Error(`${error.message}${stderr ? `; smtp-sink said: ${stderr.trim()}` : ''}`);
      await stopChild(child);
    }
  }
  throw lastError;
}

/** Where MailDev (the root devDependency `maildev`) is installed: its CLI and version, or why not. */
export function locateMailDev() {
  let entry;
  try {
    entry = fileURLToPath(import.meta.resolve('maildev'));
  } catch (error) {
    return { error: `the maildev package is not installed (${error.code ?? error.message}); it is a root devDependency: run npm ci` };
  }
  // dist/index.js → the package root.
  const root = dirname(dirname(entry));
  try {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    return { bin: join(root, 'dist', 'bin', 'maildev.js'), version };
  } catch (error) {
    return { error: `cannot read the maildev package at ${root}: ${error.message}` };
  }
}

/**
 * MailDev with its defaults (messages in memory, each also written as an .eml file to
 * <tmpdir>/maildev) in its own process: SMTP and web/REST API on free loopback ports,
 * TMPDIR pointed at a temporary directory that is removed when it stops. Like
 * smtp-sink it takes its ports on its command line, so they are picked first and the
 * start is retried when another process took one in between.
 */
export async function startMailDev(ctx, { label = 'MailDev' } = {}) {
  const found = locateMailDev();
  if (found.error) throw new Error(found.error);
  const tmp = await mkdtemp(join(os.tmpdir(), 'mailwright-bench-maildev-'));
  const mailDir = join(tmp, 'maildev');
  // Settings from the environment or a config file in the working directory would change what is measured.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('MAILDEV_')));
  let lastError = null;
  for (let attempt = 0; attempt < MAILDEV_START_ATTEMPTS; attempt++) {
    const smtpPort = await freePort();
    const webPort = await freePort();
    const args = [found.bin, '--smtp', String(smtpPort), '--ip', LOOPBACK, '--web', String(webPort), '--web-ip', LOOPBACK, '--silent'];
    const child = spawnTracked(process.execPath, args, { cwd: tmp, env: { ...env, TMPDIR: tmp } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const api = `http://${LOOPBACK}:${webPort}/api`;
    const request = async (method, path) => {
      const response = await globalThis.fetch(`${api}${path}`, { method, signal: globalThis.AbortSignal.timeout(MAILDEV_REQUEST_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`MailDev: ${method} ${path} answered ${response.status}`);
      return response.json();
    };
    try {
      await waitForGreeting(LOOPBACK, smtpPort, MAILDEV_READY_TIMEOUT_MS, () => child.exitCode === null);
      if (child.exitCode !== null) throw new Error(`MailDev exited (${child.exitCode})`);
      await request('GET', '/healthz');
      return {
        name: 'maildev',
        label: `${label} ${found.version}`,
        version: found.version,
        host: LOOPBACK,
        port: smtpPort,
        pid: child.pid,
        cpuTimeMs: () => cpuTimeMs(child.pid),
        /** Messages as its REST API counts them, and the .eml files in its mail directory with their sizes. */
        async stats() {
          const { total } = await request('GET', '/email/summary?limit=1');
          const files = (await readdir(mailDir)).filter((file) => file.endsWith('.eml'));
          let bytes = 0;
          let minSize = files.length ? Infinity : 0;
          for (const file of files) {
            const { size } = await stat(join(mailDir, file));
            bytes += size;
            minSize = Math.min(minSize, size);
          }
          return { total, files: files.length, bytes, minSize };
        },
        async clear() {
          await request('DELETE', '/email/all');
        },
        async stop() {
          await stopChild(child);
          await rm(tmp, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = new Error(`${error.message}${output.trim() ? `; MailDev said: ${output.trim().slice(0, 500)}` : ''}`);
      await stopChild(child);
    }
  }
  await rm(tmp, { recursive: true, force: true });
  throw lastError;
}
