import WebSocket from 'ws';
import { StreamStateMachine, type CapturedMessage, type MessageDetail, type MessageFilter, type SmtpSession, type StreamCommand } from '@mailwright/core';

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
  handlers: SubscriptionHandlers;
  resolveReady: () => void;
}

/**
 * One WebSocket multiplexing every subscription of a client, driving core's
 * {@link StreamStateMachine}: it reconnects on its own (backoff with jitter) and resumes each
 * subscription from its last seq, so nothing is lost or repeated, and starts over when the
 * server restarted with another store.
 */
export class StreamClient {
  readonly #headers: Record<string, string>;
  readonly #machine: StreamStateMachine;
  readonly #entries = new Map<string, Entry>();
  #socket: WebSocket | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(httpUrl: string, headers: Record<string, string>) {
    this.#machine = new StreamStateMachine({ url: `${httpUrl.replace(/^http/, 'ws').replace(/\/+$/, '')}/api/v1/stream` });
    this.#headers = headers;
  }

  /** The newest seq this client has heard of (0 before the first hello). */
  get latestSeq(): number {
    return this.#machine.latestSeq;
  }

  /** The last connection problem, for error messages. */
  get lastError(): string | null {
    return this.#machine.lastError;
  }

  /** Adds a subscription; it is sent once the server has said hello, and resent after every reconnect. */
  subscribe(
    options: { filter?: MessageFilter; since?: number; events?: ('message' | 'session')[]; detail?: boolean },
    handlers: SubscriptionHandlers,
  ): StreamSubscription {
    let resolveReady!: () => void;
    const ready = new Promise<void>((resolve) => (resolveReady = resolve));
    const { subscription, commands } = this.#machine.subscribe({
      filter: options.filter ?? {},
      events: options.events ?? ['message'],
      detail: options.detail === true,
      since: options.since,
    });
    this.#entries.set(subscription, { handlers, resolveReady });
    let cursor = options.since ?? 0;
    this.#run(commands);
    const machine = this.#machine;
    return {
      ready,
      get cursor() {
        cursor = machine.cursorOf(subscription) ?? cursor;
        return cursor;
      },
      close: () => {
        cursor = machine.cursorOf(subscription) ?? cursor;
        if (this.#entries.delete(subscription)) this.#run(machine.unsubscribe(subscription));
      },
    };
  }

  /** Closes the socket for good; active subscriptions get `onClosed`. */
  close(): void {
    this.#run(this.#machine.dispose());
    this.#entries.clear();
  }

  #run(commands: StreamCommand[]): void {
    for (const command of commands) {
      switch (command.type) {
        case 'connect':
          this.#connect(command.url, command.protocol);
          break;
        case 'send':
          this.#socket?.send(JSON.stringify(command.frame));
          break;
        case 'disconnect':
          this.#socket?.close(command.code);
          this.#socket = null;
          break;
        case 'wait':
          this.#timer = setTimeout(() => {
            this.#timer = null;
            this.#run(this.#machine.elapsed());
          }, command.ms);
          this.#timer.unref();
          break;
        case 'cancel-wait':
          if (this.#timer) clearTimeout(this.#timer);
          this.#timer = null;
          break;
        case 'message':
          this.#entries.get(command.subscription)?.handlers.onMessage?.(command.message);
          break;
        case 'session':
          this.#entries.get(command.subscription)?.handlers.onSession?.(command.session);
          break;
        case 'ready':
          this.#entries.get(command.subscription)?.resolveReady();
          break;
        case 'subscription-error':
          this.#entries.get(command.subscription)?.handlers.onError?.({ code: command.code, message: command.message });
          break;
        case 'subscription-closed':
          this.#entries.get(command.subscription)?.handlers.onClosed?.();
          break;
        default:
          // deletions, clears, status and resets concern views, not waits
          break;
      }
    }
  }

  #connect(url: string, protocol: string): void {
    const socket = new WebSocket(url, protocol, { headers: this.#headers });
    this.#socket = socket;
    socket.on('open', () => this.#socket === socket && this.#run(this.#machine.opened()));
    socket.on('message', (data) => this.#socket === socket && this.#run(this.#machine.received(data.toString())));
    socket.on('error', (error) => this.#socket === socket && this.#run(this.#machine.errored(error.message)));
    socket.on('close', (code, reason) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#run(this.#machine.closed(code, reason.toString()));
    });
  }
}
