import type { CapturedMessage, MessageFilter, SmtpSession } from '@mailwright/core';
import type { MessageContent, MessageSummary } from '../analysis/parse-message.js';

/** The fields of a CapturedMessage that its own bytes tell: what `summarizeMessage` reads. */
export type SummaryField = Exclude<keyof MessageSummary, 'text'>;

/** A message on its way into the store: how it travelled, and its bytes. */
export interface NewMessage extends Omit<CapturedMessage, 'id' | 'seq' | SummaryField> {
  /** The exact bytes received (after dot-unstuffing). */
  raw: Buffer;
  /**
   * What the message says, when it has been read already. Otherwise the store reads it from
   * `raw`: at once when someone listens for new messages, else when it is first asked for.
   */
  summary?: MessageSummary;
}

/** A page query over messages, newest first. */
export interface MessageQuery {
  filter?: MessageFilter;
  /** At most this many (the API caps it). */
  limit: number;
  /** Only messages with `seq < before`. */
  before?: number;
  /** Only messages with `seq > after`. */
  after?: number;
}

/** A page query over sessions, newest first. */
export interface SessionQuery {
  /** At most this many (the API caps it). */
  limit: number;
  /** Only sessions of this listener. */
  listener?: string;
  /** Only sessions older than the one with this id: the `nextCursor` of the previous page. */
  cursor?: string;
  /** Stop adding sessions once their transcripts and records reach about this many bytes (at least one is returned). */
  maxBytes?: number;
}

/** A page of sessions. */
export interface SessionPage {
  sessions: SmtpSession[];
  /** Sessions matching the query (without `cursor`). */
  total: number;
  /** The cursor of the next page, or null when this one reaches the oldest. */
  nextCursor: string | null;
}

/** The bytes the store accounts for, against its budget. */
export interface MemoryUsage {
  /** Raw messages with their records. */
  messages: number;
  /** Session records with their transcripts. */
  sessions: number;
  /** Caches of parsed message content and text bodies. */
  caches: number;
  /** Everything above. */
  total: number;
  /** The budget (`maxMemory`); `total` stays within it. */
  budget: number;
}

/** What the store tells its listeners. */
export interface MessageStoreEvents {
  /** A message was stored; `text` is its text body. */
  message: [message: CapturedMessage, text: string];
  /** Messages were deleted (explicitly or by retention). */
  deleted: [ids: string[]];
  /** Every message was deleted. */
  cleared: [];
  /** A session opened, changed or closed. */
  session: [session: SmtpSession];
}

/**
 * Where captured messages and SMTP sessions live. The SMTP side writes, the API reads
 * and subscribes; neither knows the other.
 */
export interface MessageStore {
  /** Stores a message, assigning `id` and `seq`, and emits `message` when anyone listens. */
  addMessage(message: NewMessage): Promise<{ id: string; seq: number }>;
  getMessage(id: string): Promise<CapturedMessage | null>;
  /** The exact bytes received. */
  getRaw(id: string): Promise<Buffer | null>;
  /** Newest first, with the total number of matches. */
  listMessages(query: MessageQuery): Promise<{ messages: CapturedMessage[]; total: number }>;
  /** Matching messages with `seq > after`, oldest first: the replay of a stream. */
  messagesAfter(after: number, filter: MessageFilter | undefined, limit: number): Promise<CapturedMessage[]>;
  /** Deletes one message; false when there was none. */
  deleteMessage(id: string): Promise<boolean>;
  /** Deletes the matching messages (all of them for an empty filter) and returns their ids. */
  deleteMessages(filter: MessageFilter): Promise<string[]>;
  /** The seq of the latest message stored so far (0 before the first). */
  latestSeq(): number;
  /** Records a new or changed session and emits `session`. */
  saveSession(session: SmtpSession): Promise<void>;
  getSession(id: string): Promise<SmtpSession | null>;
  /** Newest first, in pages. */
  listSessions(query: SessionQuery): Promise<SessionPage>;
  /** The parsed content of a message (headers, bodies, attachments), parsed once and cached; null when it is gone. */
  getContent(id: string): Promise<MessageContent | null>;
  /** The bytes held, against the memory budget. */
  memoryUsage(): MemoryUsage;
  on<E extends keyof MessageStoreEvents>(event: E, listener: (...args: MessageStoreEvents[E]) => void): this;
  off<E extends keyof MessageStoreEvents>(event: E, listener: (...args: MessageStoreEvents[E]) => void): this;
  /** Number of listeners of an event, so that nobody builds frames for nobody. */
  listenerCount(event: keyof MessageStoreEvents): number;
}
