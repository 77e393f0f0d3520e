import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ErrorCode, MailwrightError } from '@mailwright/core';
import type { MessageContent, MessageSummary } from './parse-message.js';
import type { ParseRequest, ParseResponse } from './parse-worker.js';

const DEFAULT_WORKERS = 2;
const DEFAULT_MAX_QUEUE = 64;
const DEFAULT_PARSE_TIMEOUT_MS = 120_000;

/** Options of {@link createParsePool}. */
export interface ParsePoolOptions {
  /** Worker threads, started on first use. Default 2. */
  workers?: number;
  /** Parses waiting for a worker; more are refused with `BUSY` (503). Default 64. */
  maxQueue?: number;
  /** A parse that takes longer ends its worker and fails. Default 120 s. */
  parseTimeoutMs?: number;
  /** Called with the thread that parsed, after each parse (for tests and metrics). */
  onParsed?(threadId: number): void;
}

/** Parses messages in worker threads, so that the event loop stays free for SMTP and HTTP. */
export interface ParsePool {
  /** Parses a message in a worker; the bytes are copied, `raw` is left as it is. */
  readContent(raw: Buffer): Promise<MessageContent>;
  /** Reads the summary of a message with mailparser in a worker; the bytes are copied. */
  summarize(raw: Buffer): Promise<MessageSummary>;
  /** Ends the workers; parses in flight fail. */
  close(): Promise<void>;
}

interface Job {
  id: number;
  kind: 'content' | 'summary';
  raw: Buffer;
  resolve(result: MessageContent | MessageSummary): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  timer: NodeJS.Timeout | null;
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
  const timeoutMs = options.parseTimeoutMs ?? DEFAULT_PARSE_TIMEOUT_MS;
  const slots: Slot[] = [];
  const queue: Job[] = [];
  let nextId = 0;
  let closed = false;
  let file: URL | undefined;

  function spawn(): Slot {
    file ??= workerFile();
    const worker = new Worker(file);
    // Idle workers do not keep the process alive.
    worker.unref();
    const slot: Slot = { worker, job: null, timer: null };
    worker.on('message', (response: ParseResponse) => {
      const job = slot.job;
      if (!job || job.id !== response.id) return;
      finish(slot);
      if ('error' in response) job.reject(new Error(response.error));
      else if ('summary' in response) {
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
      const index = slots.indexOf(slot);
      if (index >= 0) slots.splice(index, 1);
      const job = slot.job;
      finish(slot);
      job?.reject(error);
      next();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`The parse worker exited (code ${code})`)));
    slots.push(slot);
    return slot;
  }

  function finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
  }

  function run(slot: Slot, job: Job): void {
    slot.job = job;
    slot.timer = setTimeout(() => {
      slot.timer = null;
      job.reject(new MailwrightError(ErrorCode.INTERNAL, `Parsing the message took over ${timeoutMs} ms`, { statusCode: 500 }));
      slot.job = null;
      void slot.worker.terminate();
    }, timeoutMs);
    slot.timer.unref();
    // A copy, transferred: the stored bytes stay where they are.
    const raw = new Uint8Array(job.raw);
    const request: ParseRequest = { id: job.id, kind: job.kind, raw };
    slot.worker.ref();
    slot.worker.postMessage(request, [raw.buffer]);
  }

  function next(): void {
    for (const slot of slots) if (slot.job === null) slot.worker.unref();
    while (queue.length > 0 && !closed) {
      const idle = slots.find((slot) => slot.job === null) ?? (slots.length < size ? spawn() : undefined);
      if (!idle) return;
      run(idle, queue.shift() as Job);
    }
  }

  function submit<T extends MessageContent | MessageSummary>(kind: Job['kind'], raw: Buffer): Promise<T> {
    if (closed) return Promise.reject(new MailwrightError(ErrorCode.INTERNAL, 'The parse pool is closed', { statusCode: 503 }));
    if (queue.length >= maxQueue) {
      return Promise.reject(new MailwrightError(ErrorCode.BUSY, `${maxQueue} messages are waiting to be parsed; try again shortly`, { statusCode: 503 }));
    }
    return new Promise<T>((resolve, reject) => {
      nextId += 1;
      queue.push({ id: nextId, kind, raw, resolve: resolve as Job['resolve'], reject });
      next();
    });
  }

  return {
    readContent: (raw) => submit<MessageContent>('content', raw),
    summarize: (raw) => submit<MessageSummary>('summary', raw),
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new MailwrightError(ErrorCode.INTERNAL, 'The parse pool is closed', { statusCode: 503 }));
      await Promise.all(slots.splice(0).map((slot) => slot.worker.terminate()));
    },
  };
}
