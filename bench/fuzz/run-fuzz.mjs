// One fuzz run: a real Mailwright in its own process, the SMTP command fuzzer and the MIME
// generator against it, then every captured message and session read back through the API,
// with /health sampled from a worker thread the whole time. Resolves with a summary and the
// list of problems found (an empty list is a pass); `npm run fuzz` and tests/fuzz use it.
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { forkPeer, stopChild } from '../lib/processes.mjs';
import { summarize } from '../lib/stats.mjs';
import { sweepApi } from './api-sweep.mjs';
import { startHealthSampler } from './health-sampler.mjs';
import { mimeMessages } from './mime-generator.mjs';
import { createSmtpStats, playSession, sendMessages } from './smtp-driver.mjs';
import { smtpSessions } from './smtp-fuzzer.mjs';

const PEER = fileURLToPath(new URL('../peers/mailwright.mjs', import.meta.url));
const MESSAGES_PER_CONNECTION = 10;
/** /health must answer within this at the 99th percentile. */
export const HEALTH_P99_LIMIT_MS = 100;
/** Fewer samples than this say nothing about a percentile. */
export const HEALTH_MIN_SAMPLES = 50;

/**
 * @typedef {object} FuzzOptions
 * @property {number} seed
 * @property {number} lines           SMTP command lines to write (at least)
 * @property {number} messages        MIME messages to send
 * @property {number} [concurrency]   sessions at a time (default 8)
 * @property {number} [maxLineBytes]  longest overlong command line (default 70,000)
 * @property {number} [maxMessageBytes] largest generated message (default 256 KiB)
 * @property {number} [timeLimitMs]   every phase stops here, and that is a problem (default 5 min)
 * @property {(message: string) => void} [log]
 */

/**
 * @typedef {object} FuzzSummary
 * @property {number} seed
 * @property {object} options
 * @property {ReturnType<typeof createSmtpStats> & { seconds: number }} [smtp]
 * @property {{ generated: number, bytes: number, accepted: number, rejected: { index: number, shape: string | undefined, code: number, text: string }[], shapes: Record<string, number>, seconds: number }} [mime]
 * @property {{ messages: number, swept: number, sessions: number, requests: number, status: Record<string, number>, serverErrors: { path: string, status: number, body: string }[], slowest: { path: string | null, ms: number }, mimeMissing: number[], seconds: number }} [api]
 * @property {{ samples: number, p50: number, p99: number, max: number, byPhase: Record<string, { samples: number, p99: number, max: number }>, serverLoopDelay: Record<string, { p50: number, p99: number, max: number, count: number } | null>, failures: string[] }} [health]
 * @property {number} [rssMb]
 * @property {number} [seconds]
 */

/**
 * @param {FuzzOptions} options
 * @returns {Promise<{ summary: FuzzSummary, problems: string[] }>}
 */
export async function runFuzz(options) {
  const {
    seed,
    lines,
    messages,
    concurrency = 8,
    maxLineBytes = 70_000,
    maxMessageBytes = 256 * 1024,
    timeLimitMs = 5 * 60_000,
    log = () => undefined,
  } = options;
  const started = performance.now();
  const deadline = Date.now() + timeLimitMs;
  const problems = [];
  /** @type {FuzzSummary} */
  const summary = { seed, options: { lines, messages, concurrency, maxLineBytes, maxMessageBytes } };

  // Retention above anything a run sends, so that every accepted message can be checked.
  const peer = await forkPeer('Mailwright (fuzz target)', PEER, { args: [JSON.stringify({ options: { maxMessages: 1_000_000 } })], execArgv: ['--expose-gc'] });
  let crashed = null;
  peer.child.once('exit', (code, signal) => (crashed = { code, signal }));
  const target = { host: peer.ready.smtp.host, port: peer.ready.smtp.port, smtpsPort: peer.ready.smtps.port };
  const apiUrl = `${peer.ready.url}/api/v1`;
  /** When each phase began, to tell which one slowed /health. */
  const phases = [];
  /** The server's own event-loop delay per phase: its stalls, without the machine's scheduling noise of the client side. */
  const loopDelay = {};
  const sampler = startHealthSampler(`${apiUrl}/health`);
  try {
    // Phase 1: the command fuzzer.
    const smtp = createSmtpStats();
    const plans = smtpSessions({ seed, maxLineBytes });
    const phase1 = performance.now();
    phases.push({ name: 'smtp', from: Date.now() });
    await peer.request('loop-delay', { reset: true });
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (smtp.linesWritten < lines && !crashed) {
          if (Date.now() > deadline) return;
          const plan = plans.next().value;
          await playSession(target, plan, smtp);
          if (smtp.sessions % 500 === 0) log(`smtp: ${smtp.sessions} sessions, ${smtp.linesWritten} lines`);
        }
      }),
    );
    summary.smtp = { ...smtp, seconds: (performance.now() - phase1) / 1000 };
    loopDelay.smtp = await peer.request('loop-delay', { reset: true }).catch(() => null);
    if (smtp.linesWritten < lines) problems.push(`SMTP fuzzer wrote ${smtp.linesWritten} of ${lines} lines${crashed ? '' : ' within the time limit'}`);
    log(`smtp: done, ${smtp.sessions} sessions, ${smtp.linesWritten} lines`);

    // Phase 2: the MIME generator, every message in a well-formed transaction.
    const phase2 = performance.now();
    phases.push({ name: 'mime', from: Date.now() });
    await peer.request('loop-delay', { reset: true }).catch(() => null);
    const generated = [...mimeMessages({ seed, count: messages, maxBytes: maxMessageBytes })];
    const batches = [];
    for (let i = 0; i < generated.length; i += MESSAGES_PER_CONNECTION) batches.push(generated.slice(i, i + MESSAGES_PER_CONNECTION));
    const accepted = [];
    const rejected = [];
    let nextBatch = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (nextBatch < batches.length && !crashed && Date.now() <= deadline) {
          const result = await sendMessages(target, batches[nextBatch++]);
          accepted.push(...result.accepted);
          rejected.push(...result.rejected);
          if (accepted.length % 500 < MESSAGES_PER_CONNECTION) log(`mime: ${accepted.length + rejected.length} messages sent`);
        }
      }),
    );
    const shapes = {};
    for (const message of generated) shapes[message.shape] = (shapes[message.shape] ?? 0) + 1;
    summary.mime = {
      generated: generated.length,
      bytes: generated.reduce((sum, message) => sum + message.raw.length, 0),
      accepted: accepted.length,
      rejected: rejected.map((entry) => ({ index: entry.index, shape: generated[entry.index]?.shape, code: entry.code, text: entry.text.slice(0, 200) })),
      shapes,
      seconds: (performance.now() - phase2) / 1000,
    };
    if (accepted.length + rejected.length < generated.length)
      problems.push(`MIME: only ${accepted.length + rejected.length} of ${generated.length} messages were sent within the time limit`);
    // A well-formed transaction is refused only for a reason the server states (size): any
    // other refusal, or a lost connection, is a problem.
    for (const entry of rejected)
      if (entry.code !== 552) problems.push(`MIME case ${entry.index} (${generated[entry.index]?.shape}) refused: ${entry.code} ${entry.text.slice(0, 200)}`);
    log(`mime: ${accepted.length} accepted, ${rejected.length} refused`);
    loopDelay.mime = await peer.request('loop-delay', { reset: true }).catch(() => null);

    // Phase 3: read everything back.
    if (!crashed) {
      const phase3 = performance.now();
      phases.push({ name: 'api', from: Date.now() });
      const sweep = await sweepApi(apiUrl, { deadline });
      loopDelay.api = await peer.request('loop-delay', { reset: true }).catch(() => null);
      const stored = new Set();
      for (const message of sweep.messages) {
        const match = /^mime-(\d+)@fuzz\.test$/.exec(message.envelope?.mailFrom ?? '');
        if (match) stored.add(Number(match[1]));
      }
      const missing = accepted.filter((index) => !stored.has(index));
      summary.api = {
        messages: sweep.messages.length,
        swept: sweep.swept,
        sessions: sweep.sessions,
        requests: sweep.requests,
        status: sweep.status,
        serverErrors: sweep.serverErrors,
        slowest: { path: sweep.slowest.path, ms: Math.round(sweep.slowest.ms) },
        mimeMissing: missing,
        seconds: (performance.now() - phase3) / 1000,
      };
      if (sweep.swept < sweep.messages.length)
        problems.push(`API: only ${sweep.swept} of ${sweep.messages.length} messages were read back within the time limit`);
      for (const error of sweep.serverErrors) problems.push(`API ${error.status || 'request failed'} on ${error.path}: ${error.body}`);
      if (missing.length > 0) problems.push(`${missing.length} accepted MIME messages are not in the store (cases ${missing.slice(0, 20).join(', ')})`);
    }
  } finally {
    const health = await sampler.stop();
    const stats = summarize(health.samples);
    const byPhase = {};
    for (const [i, phase] of phases.entries()) {
      const until = phases[i + 1]?.from ?? Infinity;
      const inPhase = summarize(health.samples.filter((_, j) => health.times[j] >= phase.from && health.times[j] < until));
      byPhase[phase.name] = { samples: inPhase.n, p99: inPhase.p99, max: inPhase.max };
    }
    summary.health = {
      samples: stats.n,
      p50: stats.p50,
      p99: stats.p99,
      max: stats.max,
      byPhase,
      serverLoopDelay: loopDelay,
      failures: health.failures.slice(0, 20),
    };
    if (stats.n < HEALTH_MIN_SAMPLES) problems.push(`/health was sampled only ${stats.n} times (at least ${HEALTH_MIN_SAMPLES} needed)`);
    else if (!(stats.p99 <= HEALTH_P99_LIMIT_MS))
      problems.push(`/health p99 ${stats.p99.toFixed(1)} ms over ${stats.n} samples (limit ${HEALTH_P99_LIMIT_MS} ms; max ${stats.max.toFixed(1)} ms)`);
    for (const failure of health.failures.slice(0, 20)) problems.push(`/health failed: ${failure}`);
    if (crashed) problems.push(`the server process exited during the run (${crashed.code ?? crashed.signal})`);
    else {
      const memory = await peer.request('memory').catch(() => null);
      if (memory) summary.rssMb = Math.round(memory.rss / 1024 / 1024);
    }
    await stopChild(peer.child);
    summary.seconds = (performance.now() - started) / 1000;
  }
  return { summary, problems };
}
