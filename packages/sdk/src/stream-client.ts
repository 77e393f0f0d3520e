import WebSocket from 'ws';
import { STREAM_PROTOCOL, type CapturedMessage, type MessageDetail, type MessageFilter, type ServerFrame, type SmtpSession } from '@mailwright/core';

const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 2_000;

/** What a subscription receives. */
export interface SubscriptionHandlers {
  /** A MessageDetail when the subscription asked for `detail`. */
  onMessage?(message: CapturedMessage | MessageDetail): void;
  onSession?(session: SmtpSession): void;
  onError?(error: { code: string; message: string }): void;
  /** The client was closed while the subscription was active. */
  onClosed?(): void;
}

/** A live subscription; `ready` resolves once the replay is complete. */
export interface StreamSubscription {
  readonly ready: Promise<void>;
  /** The last seq delivered to this subscription. */
  readonly cursor: number;
  close(): void;
}

interface Entry {
  id: string;
  filter: MessageFilter;
  events: ('message' | 'session')[];
  detail: boolean;
  cursor: number | undefined;
  handlers: SubscriptionHandlers;
  resolveReady: () => void;
}

/**
 * One WebSocket multiplexing every subscription of a client. It reconnects on its own
 * and resumes each subscription from its last seq, so nothing is lost or repeated.
 */
export class StreamClient {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #entries = new Map<string, Entry>();
  #socket: WebSocket | null = null;
  /** Whether the server said hello on the current connection. */
  #open = false;
  #latestSeq = 0;
  #closed = false;
  #nextId = 0;
  #attempt = 0;
  #timer: NodeJS.Timeout | null = null;
  /** The newest seq this client has heard of (0 before the first hello). */
  get latestSeq(): number {
    return this.#latestSeq;
  }

  /** The last connection problem, for error messages. */
  lastError: string | null = null;

  constructor(httpUrl: string, headers: Record<string, string>) {
    this.#url = `${httpUrl.replace(/^http/, 'ws').replace(/\/+$/, '')}/api/v1/stream`;
    this.#headers = headers;
  }

  subscribe(
    options: { filter?: MessageFilter; since?: number; events?: ('message' | 'session')[]; detail?: boolean },
    handlers: SubscriptionHandlers,
  ): StreamSubscription {
    this.#nextId += 1;
    let resolveReady!: () => void;
    const ready = new Promise<void>((resolve) => (resolveReady = resolve));
    const entry: Entry = {
      id: `s${this.#nextId}`,
      filter: options.filter ?? {},
      events: options.events ?? ['message'],
      detail: options.detail === true,
      cursor: options.since,
      handlers,
      resolveReady,
    };
    this.#entries.set(entry.id, entry);
    if (this.#open) this.#sendSubscribe(entry);
    else this.#connect();
    return {
      ready,
      get cursor() {
        return entry.cursor ?? 0;
      },
      close: () => {
        if (!this.#entries.delete(entry.id)) return;
        if (this.#open) this.#socket?.send(JSON.stringify({ type: 'unsubscribe', id: entry.id }));
      },
    };
  }

  #sendSubscribe(entry: Entry): void {
    this.#socket?.send(
      JSON.stringify({
        type: 'subscribe',
        id: entry.id,
        filter: entry.filter,
        events: entry.events,
        ...(entry.detail ? { detail: true } : {}),
        ...(entry.cursor === undefined ? {} : { since: entry.cursor }),
      }),
    );
  }

  #connect(): void {
    if (this.#socket || this.#closed) return;
    const socket = new WebSocket(this.#url, STREAM_PROTOCOL, { headers: this.#headers });
    this.#socket = socket;
    // Subscriptions go out once the server has said hello: its seq tells whether our cursors still apply.
    socket.on('open', () => {
      this.#attempt = 0;
      this.lastError = null;
    });
    socket.on('message', (data) => this.#onFrame(JSON.parse(data.toString()) as ServerFrame));
    socket.on('error', (error) => {
      this.lastError = error.message;
    });
    socket.on('close', (code, reason) => {
      this.#socket = null;
      this.#open = false;
      if (code !== 1000 && code !== 1005) this.lastError = `stream closed with ${code}${reason.length ? ` (${reason.toString()})` : ''}`;
      if (this.#closed || this.#entries.size === 0) return;
      const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.#attempt);
      this.#attempt += 1;
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#connect();
      }, delay);
      this.#timer.unref();
    });
  }

  #onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'hello': {
        if (frame.seq < this.#latestSeq) {
          // The server's seq went back: it restarted with an empty store. Cursors from before
          // would skip the new messages, so every subscription starts from the beginning.
          for (const entry of this.#entries.values()) if (entry.cursor !== undefined) entry.cursor = 0;
        }
        this.#latestSeq = frame.seq;
        this.#open = true;
        for (const entry of this.#entries.values()) this.#sendSubscribe(entry);
        return;
      }
      case 'message': {
        const entry = this.#entries.get(frame.subscription);
        if (!entry || (entry.cursor !== undefined && frame.message.seq <= entry.cursor)) return;
        entry.cursor = frame.message.seq;
        this.#latestSeq = Math.max(this.#latestSeq, frame.message.seq);
        entry.handlers.onMessage?.(frame.message);
        return;
      }
      case 'session':
        this.#entries.get(frame.subscription)?.handlers.onSession?.(frame.session);
        return;
      case 'subscribed': {
        const entry = this.#entries.get(frame.subscription);
        if (!entry) return;
        // Live from here on: resume after this point on a reconnect.
        if (entry.cursor === undefined || entry.cursor < frame.seq) entry.cursor = frame.seq;
        this.#latestSeq = Math.max(this.#latestSeq, frame.seq);
        entry.resolveReady();
        return;
      }
      case 'error':
        if (frame.subscription) this.#entries.get(frame.subscription)?.handlers.onError?.(frame);
        else this.lastError = `${frame.code}: ${frame.message}`;
        return;
      default:
        return;
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) entry.handlers.onClosed?.();
    this.#socket?.close(1000);
    this.#socket = null;
  }
}
