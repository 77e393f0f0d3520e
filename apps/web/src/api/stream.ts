import {
  StreamStateMachine,
  type AuthenticationSummary,
  type CapturedMessage,
  type MessageFilter,
  type ProtectionSummary,
  type SmtpSession,
  type StreamCommand,
  type StreamStatus,
} from '@mailwright/core';
import { API_BASE, apiToken, filterQuery } from './client';

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

export type { StreamStatus };

/** What one subscription wants and where its events go. */
export interface SubscriptionOptions {
  filter?: MessageFilter;
  /** Default `['message']`. */
  events?: ('message' | 'session')[];
  /** Replay every matching message with `seq` above this first; undefined = live only. */
  since?: number;
  onMessage?(message: CapturedMessage): void;
  onSession?(session: SmtpSession): void;
}

/** Events of the connection as a whole. */
export interface StreamListener {
  onDeleted?(ids: string[]): void;
  onCleared?(): void;
  /** A message's verdicts were computed (or recomputed). */
  onAuthentication?(id: string, authentication: AuthenticationSummary): void;
  /** A message's protection was examined (or re-examined). */
  onProtection?(id: string, protection: ProtectionSummary): void;
  onStatus?(status: StreamStatus): void;
  /**
   * The connection came back after a drop. Subscriptions resume from their last seq on
   * their own (from the start when the server restarted with another store); deletions
   * missed meanwhile are not replayed, so views reload what they show.
   */
  onReconnected?(): void;
}

/** A live subscription; `close()` ends it. */
export interface StreamSubscription {
  close(): void;
}

/** One WebSocket to `/api/v1/stream`, shared by every subscription of the page. */
export interface MailStream {
  subscribe(options: SubscriptionOptions): StreamSubscription;
  listen(listener: StreamListener): () => void;
  status(): StreamStatus;
  close(): void;
}

function streamUrl(): string {
  const query = new URLSearchParams();
  const token = apiToken();
  if (token) query.set('token', token);
  const search = query.toString();
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${API_BASE}/stream${search ? `?${search}` : ''}`;
}

/** The filter as the server's strict schema wants it: no empty fields. */
function cleanFilter(filter: MessageFilter | undefined): MessageFilter | undefined {
  if (!filter) return undefined;
  const query = filterQuery(filter);
  return query.size === 0 ? undefined : (Object.fromEntries(query) as MessageFilter);
}

/**
 * Connects to the stream and keeps it connected, driving core's {@link StreamStateMachine}
 * with the browser's WebSocket: on a drop it reconnects with exponential backoff and jitter,
 * and every subscription resumes from the last seq it saw (or from the start when the server
 * restarted with another store), so nothing is missed and nothing is delivered twice.
 */
export function createMailStream(url: () => string = streamUrl): MailStream {
  const machine = new StreamStateMachine({ url, persistent: true, reconnectMinMs: RECONNECT_MIN_MS, reconnectMaxMs: RECONNECT_MAX_MS });
  const subscriptions = new Map<string, SubscriptionOptions>();
  const listeners = new Set<StreamListener>();
  let socket: WebSocket | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const each = (notify: (listener: StreamListener) => void): void => listeners.forEach(notify);

  const run = (commands: StreamCommand[]): void => {
    for (const command of commands) {
      switch (command.type) {
        case 'connect':
          connect(command.url, command.protocol);
          break;
        case 'send':
          if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(command.frame));
          break;
        case 'disconnect':
          socket?.close(command.code);
          socket = null;
          break;
        case 'wait':
          retryTimer = setTimeout(() => run(machine.elapsed()), command.ms);
          break;
        case 'cancel-wait':
          clearTimeout(retryTimer);
          break;
        case 'message':
          // The viewer subscribes without `detail`: frames carry summaries.
          subscriptions.get(command.subscription)?.onMessage?.(command.message);
          break;
        case 'session':
          subscriptions.get(command.subscription)?.onSession?.(command.session);
          break;
        case 'deleted':
          each((listener) => listener.onDeleted?.(command.ids));
          break;
        case 'cleared':
          each((listener) => listener.onCleared?.());
          break;
        case 'authentication':
          each((listener) => listener.onAuthentication?.(command.id, command.authentication));
          break;
        case 'protection':
          each((listener) => listener.onProtection?.(command.id, command.protection));
          break;
        case 'status':
          each((listener) => listener.onStatus?.(command.status));
          break;
        case 'reconnected':
          each((listener) => listener.onReconnected?.());
          break;
        default:
          // A refused subscription (e.g. an invalid regular expression in a filter) stays
          // quiet: the REST request with the same filter reports the problem to the user.
          break;
      }
    }
  };

  function connect(address: string, protocol: string): void {
    const current = new WebSocket(address, protocol);
    socket = current;
    current.onopen = () => socket === current && run(machine.opened());
    current.onmessage = (event) => {
      if (socket === current && typeof event.data === 'string') run(machine.received(event.data));
    };
    current.onclose = (event) => {
      if (socket !== current) return;
      socket = null;
      run(machine.closed(event.code, event.reason));
    };
  }

  run(machine.start());

  return {
    subscribe(options) {
      const { subscription, commands } = machine.subscribe({ filter: cleanFilter(options.filter), since: options.since, events: options.events });
      subscriptions.set(subscription, options);
      run(commands);
      return {
        close() {
          if (subscriptions.delete(subscription)) run(machine.unsubscribe(subscription));
        },
      };
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    status: () => machine.status,
    close() {
      run(machine.dispose());
      subscriptions.clear();
    },
  };
}
