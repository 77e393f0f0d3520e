// The entry of a parse worker thread: parses messages with mailparser off the main event loop.
import { parentPort, threadId } from 'node:worker_threads';
import type { Authentication } from '@mailwright/core';
import { readMessageContent, summarizeWithMailparser, type MessageContent, type MessageSummary } from './parse-message.js';
import { computeAuthentication, type AuthenticationInput } from './compute-authentication.js';
import type { DnsAnswer } from '../dns/dns-resolver.js';

/** A request to a parse worker: the whole content, the summary, or the authentication verdicts of a message. */
export type ParseRequest =
  | { id: number; kind: 'content' | 'summary'; raw: Uint8Array }
  | { id: number; kind: 'authentication'; raw: Uint8Array; input: Omit<AuthenticationInput, 'raw'>; timeoutMs: number };

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
  | { id: number; threadId: number; error: string };

const port = parentPort;
/** DNS questions in flight, by query number. */
const questions = new Map<number, { resolve(answer: DnsAnswer): void; reject(error: Error): void }>();
let nextQuery = 0;

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
      const resolver = (name: string, rrtype = 'A'): Promise<DnsAnswer> =>
        new Promise<DnsAnswer>((resolve, reject) => {
          nextQuery += 1;
          questions.set(nextQuery, { resolve, reject });
          port.postMessage({ id: askId, dns: { query: nextQuery, name: String(name), type: String(rrtype) } } satisfies DnsQuestion);
        });
      computeAuthentication({ ...request.input, raw }, { resolver, timeoutMs: request.timeoutMs }).then(
        (authentication) => port.postMessage({ id: request.id, threadId, authentication } satisfies ParseResponse),
        failed,
      );
      return;
    }
    if (request.kind === 'summary') {
      summarizeWithMailparser(raw).then((summary) => port.postMessage({ id: request.id, threadId, summary } satisfies ParseResponse), failed);
      return;
    }
    readMessageContent(raw).then((content) => {
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
