import type { CapturedMessage, MessageFilter, ServerFrame, SmtpSession, SubscribeFrame } from '@mailwright/core';
import { API_BASE, apiToken, filterQuery } from './client';

/** The WebSocket subprotocol of the stream (DESIGN.md). */
const STREAM_PROTOCOL = 'mailwright.v1';
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

/** Whether the viewer is receiving live updates. */
export type StreamStatus = 'connecting' | 'live' | 'offline';

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
  onStatus?(status: StreamStatus): void;
  /**
   * The connection came back after a drop. Subscriptions resume from their last seq on
   * their own; deletions missed meanwhile are not replayed, so views reload what they show.
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

interface ActiveSubscription {
  id: string;
  options: SubscriptionOptions;
  /** The highest seq delivered; where a reconnect resumes. */
  cursor: number | undefined;
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
 * Connects to the stream and keeps it connected: on a drop it reconnects with exponential
 * backoff and jitter, and every subscription resumes from the last seq it saw, so nothing
 * is missed and nothing is delivered twice.
 */
export function createMailStream(url: () => string = streamUrl): MailStream {
  const subscriptions = new Map<string, ActiveSubscription>();
  const listeners = new Set<StreamListener>();
  let socket: WebSocket | null = null;
  let state: StreamStatus = 'connecting';
  let attempt = 0;
  let wasLive = false;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let nextId = 1;

  const each = (notify: (listener: StreamListener) => void): void => listeners.forEach(notify);

  const setStatus = (next: StreamStatus): void => {
    if (state === next) return;
    state = next;
    each((listener) => listener.onStatus?.(next));
  };

  const send = (subscription: ActiveSubscription): void => {
    if (socket?.readyState !== WebSocket.OPEN || state !== 'live') return;
    const frame: SubscribeFrame = {
      type: 'subscribe',
      id: subscription.id,
      filter: cleanFilter(subscription.options.filter),
      since: subscription.cursor,
      events: subscription.options.events,
    };
    socket.send(JSON.stringify(frame));
  };

  const onFrame = (frame: ServerFrame): void => {
    switch (frame.type) {
      case 'hello': {
        attempt = 0;
        setStatus('live');
        for (const subscription of subscriptions.values()) send(subscription);
        if (wasLive) each((listener) => listener.onReconnected?.());
        wasLive = true;
        break;
      }
      case 'subscribed': {
        const subscription = subscriptions.get(frame.subscription);
        if (subscription && (subscription.cursor === undefined || frame.seq > subscription.cursor)) subscription.cursor = frame.seq;
        break;
      }
      case 'message': {
        const subscription = subscriptions.get(frame.subscription);
        if (!subscription || (subscription.cursor !== undefined && frame.message.seq <= subscription.cursor)) return;
        subscription.cursor = frame.message.seq;
        subscription.options.onMessage?.(frame.message);
        break;
      }
      case 'session':
        subscriptions.get(frame.subscription)?.options.onSession?.(frame.session);
        break;
      case 'deleted':
        each((listener) => listener.onDeleted?.(frame.ids));
        break;
      case 'cleared':
        each((listener) => listener.onCleared?.());
        break;
      case 'error':
        // A refused subscription (e.g. an invalid regular expression in a filter) stays
        // quiet; the REST request with the same filter reports the problem to the user.
        break;
    }
  };

  const scheduleReconnect = (): void => {
    if (closed) return;
    const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
    attempt += 1;
    retryTimer = setTimeout(connect, ceiling / 2 + Math.random() * (ceiling / 2));
  };

  function connect(): void {
    if (closed) return;
    setStatus(wasLive ? 'offline' : 'connecting');
    const current = new WebSocket(url(), STREAM_PROTOCOL);
    socket = current;
    current.onmessage = (event) => {
      if (socket !== current || typeof event.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(event.data) as ServerFrame;
      } catch {
        return;
      }
      onFrame(frame);
    };
    current.onclose = () => {
      if (socket !== current) return;
      socket = null;
      setStatus('offline');
      scheduleReconnect();
    };
  }

  connect();

  return {
    subscribe(options) {
      const subscription: ActiveSubscription = { id: `s${nextId++}`, options, cursor: options.since };
      subscriptions.set(subscription.id, subscription);
      send(subscription);
      return {
        close() {
          if (!subscriptions.delete(subscription.id)) return;
          if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'unsubscribe', id: subscription.id }));
        },
      };
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    status: () => state,
    close() {
      closed = true;
      clearTimeout(retryTimer);
      socket?.close(1000);
      socket = null;
    },
  };
}
