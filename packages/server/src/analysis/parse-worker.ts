// The entry of a parse worker thread: parses messages with mailparser off the main event loop.
import { parentPort, threadId } from 'node:worker_threads';
import { readMessageContent, summarizeWithMailparser, type MessageContent, type MessageSummary } from './parse-message.js';

/** A request to a parse worker: the whole content, or the summary of a message. */
export interface ParseRequest {
  id: number;
  kind: 'content' | 'summary';
  raw: Uint8Array;
}

/** A parse worker's answer: the content (attachment bytes transferred), the summary, or why it failed. */
export type ParseResponse =
  | { id: number; threadId: number; content: MessageContent }
  | { id: number; threadId: number; summary: MessageSummary }
  | { id: number; threadId: number; error: string };

const port = parentPort;
if (port) {
  port.on('message', (request: ParseRequest) => {
    const raw = Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength);
    const failed = (error: unknown): void => {
      const response: ParseResponse = { id: request.id, threadId, error: error instanceof Error ? error.message : String(error) };
      port.postMessage(response);
    };
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
