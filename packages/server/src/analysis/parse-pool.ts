import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ErrorCode, MailwrightError, isMailwrightError } from '@mailwright/core';
import type { MessageContent, MessageSummary } from './parse-message.js';
import type { Authentication } from '@mailwright/core';
import type { ExaminedProtection, ProtectionLimits } from './protection/examine-protection.js';
import type { ProtectionKeys } from './protection/protection-layer.js';
import type { DnsQuestion, DnsReply, ParseRequest, ParseResponse } from './parse-worker.js';
import type { AuthenticationInput } from './compute-authentication.js';
import type { DnsResolver } from '../dns/dns-resolver.js';

const DEFAULT_WORKERS = 2;
const DEFAULT_MAX_QUEUE = 64;
const DEFAULT_PARSE_TIMEOUT_MS = 120_000;
/**
 * The old-generation heap of a worker: a 20 MB HTML message parses within a quarter of it; a
 * message that needs more ends its worker (a new one takes over) and is shown with `parseError`.
 */
export const DEFAULT_WORKER_HEAP_MB = 512;
/**
 * The young generation of a worker, in MB. Small: thousands of verdict computations leave short
 * lived garbage that V8's default semi-spaces let grow to tens of MB per worker before a
 * scavenge (measured: about 65 MB more RSS over 5,000 messages with the default).
 */
export const WORKER_YOUNG_HEAP_MB = 4;

/** Options of {@link createParsePool}. */
export interface ParsePoolOptions {
  /** Worker threads, started on first use. Default 2. */
  workers?: number;
  /** Parses waiting for a worker; more are refused with `BUSY` (503). Default 64. */
  maxQueue?: number;
  /** A parse that takes longer ends its worker and fails. Default 120 s. Read as each parse starts. */
  parseTimeoutMs?: number;
  /** Old-generation heap of each worker, in MB; a parse that needs more ends its worker and fails. Default {@link DEFAULT_WORKER_HEAP_MB}. */
  maxHeapMb?: number;
  /** Called with the thread that parsed, after each parse (for tests and metrics). */
  onParsed?(threadId: number): void;
  /**
   * The nice value (0–19) each worker thread runs at: background work (verdicts) above 0, so
   * that it yields the CPU to SMTP sessions and API calls. Default 0.
   */
  niceness?: number;
  /** A worker idle this many milliseconds is ended (a new one starts with the next job), giving its memory back. Default: kept. */
  idleMs?: number;
}

/** Parses messages in worker threads, so that the event loop stays free for SMTP and HTTP. */
export interface ParsePool {
  /** Parses a message in a worker; the bytes are copied, `raw` is left as it is. */
  readContent(raw: Buffer): Promise<MessageContent>;
  /** Reads the summary of a message with mailparser in a worker; the bytes are copied. */
  summarize(raw: Buffer): Promise<MessageSummary>;
  /**
   * Computes a message's authentication verdicts in a worker (hashing a large body never
   * blocks the event loop); its DNS questions are answered here, by `resolver`.
   */
  authenticate(input: AuthenticationInput, resolver: DnsResolver, timeoutMs: number, dnsCacheKey?: string | null): Promise<Authentication>;
  /**
   * Examines a message's S/MIME or OpenPGP protection in a worker (verifying and decrypting
   * with `keys`); the worker is ended when it takes much over `limits.timeoutMs`.
   */
  examineProtection(raw: Buffer, keys: ProtectionKeys, limits: ProtectionLimits): Promise<ExaminedProtection>;
  /** Ends the workers; parses in flight fail. */
  close(): Promise<void>;
}

/**
 * Whether a parse failed for want of a worker (the queue was full, the pool closed, the worker
 * was ended under it), not because of the message: such a failure is retried, never remembered.
 * A parse that ran out of time or memory, or threw, failed because of its message.
 */
export function isPoolUnavailable(error: unknown): boolean {
  return isMailwrightError(error) && error.statusCode === 503;
}

type Result = MessageContent | MessageSummary | Authentication | ExaminedProtection;

/** What a protection job's worker is given beyond its examination's own time limit, before it is ended. */
const PROTECTION_GRACE_MS = 5_000;

interface Job {
  id: number;
  kind: 'content' | 'summary' | 'authentication' | 'protection';
  raw: Buffer;
  protection?: { keys: ProtectionKeys; limits: ProtectionLimits };
  /** Overrides the pool's parse timeout. */
  timeoutMs?: number;
  authentication?: { input: Omit<AuthenticationInput, 'raw'>; resolver: DnsResolver; timeoutMs: number; dnsCacheKey: string | null };
  resolve(result: Result): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  timer: NodeJS.Timeout | null;
  /** Ends the worker once it has been idle for `idleMs`. */
  idleTimer: NodeJS.Timeout | null;
}

/**
 * The worker's file: next to this module once built (and in the bundle of the Docker image),
 * or in `dist` when this module runs from its TypeScript source (tests): workers cannot load
 * TypeScript on Node 20.
 */
function workerFile(): URL {
  const beside = new URL('./parse-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL(beside.href.replace(/\/src\/analysis\/parse-worker\.js$/, '/dist/analysis/parse-worker.js'));
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`The parse worker ${fileURLToPath(beside)} is missing; build the package first`);
}

/** Creates a pool of parse workers. */
export function createParsePool(options: ParsePoolOptions = {}): ParsePool {
  const size = options.workers ?? DEFAULT_WORKERS;
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
  const slots: Slot[] = [];
  const queue: Job[] = [];
  let nextId = 0;
  let closed = false;
  let file: URL | undefined;

  function spawn(): Slot {
    file ??= workerFile();
    const worker = new Worker(file, {
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? DEFAULT_WORKER_HEAP_MB, maxYoungGenerationSizeMb: WORKER_YOUNG_HEAP_MB },
      workerData: { niceness: options.niceness ?? 0 },
    });
    // Idle workers do not keep the process alive.
    worker.unref();
    const slot: Slot = { worker, job: null, timer: null, idleTimer: null };
    worker.on('message', (response: ParseResponse | DnsQuestion) => {
      const job = slot.job;
      if (!job || job.id !== response.id) return;
      if ('dns' in response) {
        answerDns(worker, job, response.dns);
        return;
      }
      finish(slot);
      if ('error' in response) job.reject(new Error(response.error));
      else if ('authentication' in response) job.resolve(response.authentication);
      else if ('protection' in response) {
        const { decrypted } = response;
        job.resolve({
          protection: response.protection,
          decrypted: decrypted ? Buffer.from(decrypted.buffer, decrypted.byteOffset, decrypted.byteLength) : null,
        });
      } else if ('summary' in response) {
        options.onParsed?.(response.threadId);
        job.resolve(response.summary);
      } else {
        const attachments = response.content.attachments.map((attachment) => ({
          ...attachment,
          content: Buffer.from(attachment.content.buffer, attachment.content.byteOffset, attachment.content.byteLength),
        }));
        options.onParsed?.(response.threadId);
        job.resolve({ ...response.content, attachments });
      }
      next();
    });
    const fail = (error: Error): void => {
      retire(slot);
      const job = slot.job;
      finish(slot);
      job?.reject(error);
      next();
    };
    // An error while parsing (out of memory, an exception thrown outside the parse's promise) is the message's.
    worker.on('error', (error: Error & { code?: string }) =>
      fail(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new Error(`The parser ran out of memory (its heap is ${options.maxHeapMb ?? DEFAULT_WORKER_HEAP_MB} MB)`)
          : error,
      ),
    );
    worker.on('exit', (code) => fail(new MailwrightError(ErrorCode.INTERNAL, `The parse worker exited (code ${code}); try again`, { statusCode: 503 })));
    slots.push(slot);
    return slot;
  }

  /** Answers a worker's DNS question with the job's resolver; the answer goes back as plain data. */
  function answerDns(worker: Worker, job: Job, question: DnsQuestion['dns']): void {
    const resolver = job.authentication?.resolver;
    const reply = (dnsReply: DnsReply['dnsReply']): void => {
      // A worker ended meanwhile (timeout) has nobody to read the answer.
      if (slots.some((slot) => slot.worker === worker && slot.job === job)) worker.postMessage({ dnsReply } satisfies DnsReply);
    };
    if (!resolver) return reply({ query: question.query, error: { message: 'no resolver', code: 'ESERVFAIL' } });
    Promise.resolve()
      .then(() => resolver(question.name, question.type))
      .then(
        (answer) => reply({ query: question.query, answer }),
        (error: unknown) => {
          const { code, hostname, syscall } = (error ?? {}) as { code?: unknown; hostname?: unknown; syscall?: unknown };
          reply({
            query: question.query,
            error: {
              message: error instanceof Error ? error.message : String(error),
              ...(typeof code === 'string' ? { code } : {}),
              ...(typeof hostname === 'string' ? { hostname } : {}),
              ...(typeof syscall === 'string' ? { syscall } : {}),
            },
          });
        },
      );
  }

  /** Takes a slot out of the pool: no job goes to its worker any more. */
  function retire(slot: Slot): void {
    const index = slots.indexOf(slot);
    if (index >= 0) slots.splice(index, 1);
  }

  function finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
  }

  function run(slot: Slot, job: Job): void {
    const timeoutMs = job.timeoutMs ?? options.parseTimeoutMs ?? DEFAULT_PARSE_TIMEOUT_MS;
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    slot.job = job;
    slot.timer = setTimeout(() => {
      // The worker is ended: it leaves the pool first, so that the next job goes to a new one.
      retire(slot);
      finish(slot);
      job.reject(new MailwrightError(ErrorCode.INTERNAL, `Parsing the message took over ${timeoutMs} ms`, { statusCode: 500 }));
      void slot.worker.terminate();
      next();
    }, timeoutMs);
    slot.timer.unref();
    // A copy, transferred: the stored bytes stay where they are.
    const raw = new Uint8Array(job.raw);
    const request: ParseRequest =
      job.kind === 'protection' && job.protection
        ? { id: job.id, kind: 'protection', raw, keys: job.protection.keys, limits: job.protection.limits }
        : job.kind === 'authentication' && job.authentication
          ? {
              id: job.id,
              kind: 'authentication',
              raw,
              input: job.authentication.input,
              timeoutMs: job.authentication.timeoutMs,
              dnsCacheKey: job.authentication.dnsCacheKey,
            }
          : { id: job.id, kind: job.kind === 'content' ? 'content' : 'summary', raw };
    slot.worker.ref();
    slot.worker.postMessage(request, [raw.buffer]);
  }

  /** Ends a worker left idle for `idleMs` (it leaves the pool first: no job goes to it meanwhile). */
  function retireWhenIdle(slot: Slot): void {
    const idleMs = options.idleMs;
    if (idleMs === undefined || slot.idleTimer !== null) return;
    slot.idleTimer = setTimeout(() => {
      slot.idleTimer = null;
      if (slot.job !== null || !slots.includes(slot)) return;
      retire(slot);
      void slot.worker.terminate();
    }, idleMs);
    slot.idleTimer.unref();
  }

  function next(): void {
    for (const slot of slots) if (slot.job === null) slot.worker.unref();
    while (queue.length > 0 && !closed) {
      const idle = slots.find((slot) => slot.job === null) ?? (slots.length < size ? spawn() : undefined);
      if (!idle) return;
      run(idle, queue.shift() as Job);
    }
    for (const slot of slots) if (slot.job === null) retireWhenIdle(slot);
  }

  function submit<T extends Result>(
    kind: Job['kind'],
    raw: Buffer,
    authentication?: Job['authentication'],
    extra?: Pick<Job, 'protection' | 'timeoutMs'>,
  ): Promise<T> {
    if (closed) return Promise.reject(new MailwrightError(ErrorCode.INTERNAL, 'The parse pool is closed', { statusCode: 503 }));
    if (queue.length >= maxQueue) {
      return Promise.reject(new MailwrightError(ErrorCode.BUSY, `${maxQueue} messages are waiting to be parsed; try again shortly`, { statusCode: 503 }));
    }
    return new Promise<T>((resolve, reject) => {
      nextId += 1;
      queue.push({ id: nextId, kind, raw, ...(authentication ? { authentication } : {}), ...extra, resolve: resolve as Job['resolve'], reject });
      next();
    });
  }

  return {
    readContent: (raw) => submit<MessageContent>('content', raw),
    summarize: (raw) => submit<MessageSummary>('summary', raw),
    authenticate: ({ raw, ...input }, resolver, timeoutMs, dnsCacheKey = null) =>
      submit<Authentication>('authentication', raw, { input, resolver, timeoutMs, dnsCacheKey }),
    examineProtection: (raw, keys, limits) =>
      submit<ExaminedProtection>('protection', raw, undefined, { protection: { keys, limits }, timeoutMs: limits.timeoutMs + PROTECTION_GRACE_MS }),
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new MailwrightError(ErrorCode.INTERNAL, 'The parse pool is closed', { statusCode: 503 }));
      await Promise.all(
        slots.splice(0).map((slot) => {
          if (slot.idleTimer) clearTimeout(slot.idleTimer);
          return slot.worker.terminate();
        }),
      );
    },
  };
}
