import type { Authentication, CapturedMessage, FilterSubject, MessageFilter, Protection, SmtpSession } from '@mailwright/core';
import type { MessageContent, MessageSummary } from '../analysis/parse-message.js';

/** The fields of a CapturedMessage that its own bytes tell: what `summarizeMessage` reads. */
export type SummaryField = Exclude<keyof MessageSummary, 'text'>;

/** A message on its way into the store: how it travelled, and its bytes. */
export interface NewMessage extends Omit<CapturedMessage, 'id' | 'seq' | SummaryField> {
  /** The exact bytes received (after dot-unstuffing). */
  raw: Buffer;
  /**
   * What the message says, when it has been read already. Otherwise the store reads it from
   * `raw` as its {@link ReadPolicy} says.
   */
  summary?: MessageSummary;
}

/**
 * When a store reads what a message says (the summary fields of a CapturedMessage and its text
 * body) from its bytes. It is the store's own setting, chosen when the store is created; who
 * listens to its events changes nothing.
 *
 * - `'on-arrival'`: every message is read before `addMessage` resolves (before the SMTP side
 *   answers `250`) and announced with `message`. What a backend that indexes the summary
 *   (SQLite, PostgreSQL) does.
 * - `'when-followed'`: a message is read on arrival and announced only while the store is
 *   followed ({@link MessageStore.follow}), which is how a stream subscription or a waiting
 *   request states that it needs new messages as they come. Otherwise it is stored with its
 *   bytes alone, is not announced, and is read when it is first asked for (a query, a filter,
 *   a replay) or in the background once mail pauses: a burst of mail that nobody follows is
 *   taken at the speed of storing its bytes.
 *
 * Whatever the policy, queries answer the same: a message is read before anyone outside the
 * store sees it.
 */
export type ReadPolicy = 'on-arrival' | 'when-followed';

/** A statement that new messages are needed as they arrive; `close()` withdraws it (once). */
export interface Following extends Disposable {
  close(): void;
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
  /**
   * A message was stored and read on arrival (see {@link ReadPolicy}); `subject` is what filters
   * match, its text body decoded only when a filter reads it.
   */
  message: [message: CapturedMessage, subject: FilterSubject];
  /** Messages were deleted (explicitly or by retention). */
  deleted: [ids: string[]];
  /** Every message was deleted. */
  cleared: [];
  /** A session opened, changed or closed. */
  session: [session: SmtpSession];
  /** A message's verdicts were recorded; `first` on the first record after it arrived pending. */
  authentication: [message: CapturedMessage, first: boolean];
  /** A message's protection was examined (or examined again); `first` on the first record after it arrived pending. */
  protection: [message: CapturedMessage, first: boolean];
}

/**
 * Where captured messages and SMTP sessions live. The SMTP side writes, the API reads
 * and subscribes; neither knows the other.
 */
export interface MessageStore {
  /** How this store reads messages; see {@link ReadPolicy}. */
  readonly readPolicy: ReadPolicy;
  /**
   * Stores a message, assigning `id` and `seq`. When it is read on arrival (see
   * {@link ReadPolicy}), it is announced with `message` before this resolves.
   */
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
  /** Names this store's seq numbering; a store whose numbering starts over has another. */
  readonly epoch: string;
  /** Records a new or changed session and emits `session`. */
  saveSession(session: SmtpSession): Promise<void>;
  getSession(id: string): Promise<SmtpSession | null>;
  /** Newest first, in pages. */
  listSessions(query: SessionQuery): Promise<SessionPage>;
  /** The parsed content of a message (headers, bodies, attachments), parsed once and cached; null when it is gone. */
  getContent(id: string): Promise<MessageContent | null>;
  /**
   * Records a message's authentication verdicts (computed after its `250`): the whole record is
   * kept for the detail, its verdicts go into the message. Emits `authentication` for a message
   * that was announced or while the store is followed (as {@link ReadPolicy} says for `message`);
   * resolves false when the message is gone.
   */
  setAuthentication(id: string, authentication: Authentication): Promise<boolean>;
  /** The whole authentication record of a message; null while pending, when not computed, or when gone. */
  getAuthentication(id: string): Promise<Authentication | null>;
  /**
   * Records a message's protection (examined after its `250`) and the decrypted inner message,
   * if any (counted against the memory budget, replacing what was kept before); the summary goes
   * into the message. Emits `protection` as {@link setAuthentication} emits `authentication`;
   * resolves false when the message is gone.
   */
  setProtection(id: string, protection: Protection, decrypted: Buffer | null): Promise<boolean>;
  /** The whole protection record of a message; null while pending, for mail with none, or when gone. */
  getProtection(id: string): Promise<Protection | null>;
  /**
   * The decrypted inner message, read: what it says (its summary) and its parsed content (parsed
   * once and cached); null when nothing was decrypted or the message is gone.
   */
  getDecrypted(id: string): Promise<{ summary: MessageSummary; content: MessageContent } | null>;
  /** The bytes held, against the memory budget. */
  memoryUsage(): MemoryUsage;
  /**
   * States that new messages are needed as they arrive, until the returned handle is closed:
   * with the `'when-followed'` policy each one is then read on arrival and announced with
   * `message`; with `'on-arrival'` they are anyway. Listening to `message` alone states nothing.
   */
  follow(): Following;
  on<E extends keyof MessageStoreEvents>(event: E, listener: (...args: MessageStoreEvents[E]) => void): this;
  off<E extends keyof MessageStoreEvents>(event: E, listener: (...args: MessageStoreEvents[E]) => void): this;
}
