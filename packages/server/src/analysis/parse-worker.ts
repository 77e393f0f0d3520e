// The entry of a parse worker thread: parses messages with mailparser off the main event loop.
import { setPriority } from 'node:os';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { Authentication, Protection } from '@mailwright/core';
import type * as ParseMessageModule from './parse-message.js';
import type { MessageContent, MessageSummary } from './parse-message.js';
import { computeAuthentication, type AuthenticationInput } from './compute-authentication.js';
import type { DnsAnswer, DnsResolver } from '../dns/dns-resolver.js';
import type * as ExamineProtectionModule from './protection/examine-protection.js';
import type { ProtectionLimits } from './protection/examine-protection.js';
import type { ProtectionKeys } from './protection/protection-layer.js';

/** A request to a parse worker: the whole content, the summary, the authentication verdicts or the protection of a message. */
export type ParseRequest =
  | { id: number; kind: 'content' | 'summary'; raw: Uint8Array }
  | { id: number; kind: 'protection'; raw: Uint8Array; keys: ProtectionKeys; limits: ProtectionLimits }
  | {
      id: number;
      kind: 'authentication';
      raw: Uint8Array;
      input: Omit<AuthenticationInput, 'raw'>;
      timeoutMs: number;
      /** Answers may be remembered for as long as this stays the same (the mock zone's revision); null: never. */
      dnsCacheKey: string | null;
    };

/**
 * A DNS question of a worker's authentication checks, asked of the main thread (which holds
 * the mock zone, or the live resolver with its timeouts).
 */
export interface DnsQuestion {
  id: number;
  dns: { query: number; name: string; type: string };
}

/** The main thread's answer to a {@link DnsQuestion}. */
export interface DnsReply {
  dnsReply: { query: number; answer: DnsAnswer } | { query: number; error: { message: string; code?: string; hostname?: string; syscall?: string } };
}

/** A parse worker's answer: the content (attachment bytes transferred), the summary, or why it failed. */
export type ParseResponse =
  | { id: number; threadId: number; content: MessageContent }
  | { id: number; threadId: number; summary: MessageSummary }
  | { id: number; threadId: number; authentication: Authentication }
  | { id: number; threadId: number; protection: Protection; decrypted: Uint8Array | null }
  | { id: number; threadId: number; error: string };

const port = parentPort;

let parseModule: Promise<typeof ParseMessageModule> | undefined;
/** mailparser and its kin, loaded on first use: a worker that only computes verdicts never holds them. */
const parseMessage = (): Promise<typeof ParseMessageModule> => (parseModule ??= import('./parse-message.js'));
let protectionModule: Promise<typeof ExamineProtectionModule> | undefined;
/** pkijs and openpgp, loaded on first use: only a worker that examines protected mail holds them. */
const examineModule = (): Promise<typeof ExamineProtectionModule> => (protectionModule ??= import('./protection/examine-protection.js'));

// On Linux the nice value is a thread's own: a pool of background work lowers this thread's.
// Elsewhere it would lower the whole process, so it is left alone there.
const niceness = (workerData as { niceness?: unknown } | null)?.niceness;
if (process.platform === 'linux' && typeof niceness === 'number' && niceness > 0) {
  try {
    setPriority(0, niceness);
  } catch {
    // Not allowed here: the worker runs at the process's priority.
  }
}
/** DNS questions in flight, by query number. */
const questions = new Map<number, { resolve(answer: DnsAnswer): void; reject(error: Error): void }>();
let nextQuery = 0;
/** The most answers remembered from one revision of the mock zone. */
const MAX_CACHED_ANSWERS = 10_000;
/** Answers of the mock zone at one revision: the same questions come with every message of a sender. */
let cache: { key: string; answers: Map<string, Promise<DnsAnswer>> } | null = null;

function cloneAnswer(answer: DnsAnswer): DnsAnswer {
  return structuredClone(answer);
}

if (port) {
  port.on('message', (request: ParseRequest | DnsReply) => {
    if ('dnsReply' in request) {
      const reply = request.dnsReply;
      const question = questions.get(reply.query);
      questions.delete(reply.query);
      if (!question) return;
      if ('answer' in reply) question.resolve(reply.answer);
      else {
        // DNS failures keep their code (ENOTFOUND, ENODATA, ETIMEOUT…): that is what the checks read.
        const { message, ...fields } = reply.error;
        question.reject(Object.assign(new Error(message), fields));
      }
      return;
    }
    const raw = Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength);
    const failed = (error: unknown): void => {
      const response: ParseResponse = { id: request.id, threadId, error: error instanceof Error ? error.message : String(error) };
      port.postMessage(response);
    };
    if (request.kind === 'authentication') {
      const askId = request.id;
      const ask = (name: string, type: string): Promise<DnsAnswer> =>
        new Promise<DnsAnswer>((resolve, reject) => {
          nextQuery += 1;
          questions.set(nextQuery, { resolve, reject });
          port.postMessage({ id: askId, dns: { query: nextQuery, name, type } } satisfies DnsQuestion);
        });
      const key = request.dnsCacheKey;
      if (key === null) cache = null;
      else if (cache?.key !== key || cache.answers.size >= MAX_CACHED_ANSWERS) cache = { key, answers: new Map() };
      const answers = cache?.answers ?? null;
      const resolver = (name: string, rrtype = 'A'): Promise<DnsAnswer> => {
        const type = String(rrtype).toUpperCase();
        if (!answers) return ask(String(name), type);
        const question = `${String(name).toLowerCase()} ${type}`;
        let answer = answers.get(question);
        if (!answer) {
          answer = ask(String(name), type);
          answers.set(question, answer);
        }
        // A fresh copy each time: mailauth sorts MX answers in place.
        return answer.then(cloneAnswer);
      };
      computeAuthentication({ ...request.input, raw }, { resolver: resolver as DnsResolver, timeoutMs: request.timeoutMs }).then(
        (authentication) => port.postMessage({ id: request.id, threadId, authentication } satisfies ParseResponse),
        failed,
      );
      return;
    }
    if (request.kind === 'protection') {
      examineModule()
        .then(({ examineProtection }) => examineProtection(raw, request.keys, request.limits))
        .then(({ protection, decrypted }) => {
          // Its own buffer, transferred: the decrypted bytes may be a view of a larger one.
          const copy = decrypted ? new Uint8Array(decrypted) : null;
          port.postMessage({ id: request.id, threadId, protection, decrypted: copy } satisfies ParseResponse, copy ? [copy.buffer] : []);
        }, failed);
      return;
    }
    if (request.kind === 'summary') {
      parseMessage()
        .then(({ summarizeWithMailparser }) => summarizeWithMailparser(raw))
        .then((summary) => port.postMessage({ id: request.id, threadId, summary } satisfies ParseResponse), failed);
      return;
    }
    parseMessage()
      .then(({ readMessageContent }) => readMessageContent(raw))
      .then((content) => {
        // Attachments may be views of shared pool memory: each gets its own buffer to transfer.
        const transfer: ArrayBuffer[] = [];
        const attachments = content.attachments.map((attachment) => {
          const copy = new Uint8Array(attachment.content.length);
          copy.set(attachment.content);
          transfer.push(copy.buffer);
          return { ...attachment, content: copy as Buffer };
        });
        const response: ParseResponse = { id: request.id, threadId, content: { ...content, attachments } };
        port.postMessage(response, transfer);
      }, failed);
  });
}
