import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCode, type CapturedMessage } from '@mailwright/core';
import type { Following, MessageStore } from '../../store/message-store.js';
import type { Logger } from '../../logger.js';
import { hasValidToken, isHostAllowed, isOriginAllowed, type AccessPolicy } from '../access-control.js';

/** A client whose unsent events exceed this is closed (1008): events are never queued without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Stats follow a burst of changes once, this long after its first change. */
const STATS_DELAY_MS = 250;
/** At most this many event clients at once. */
const MAX_CLIENTS = 256;

/** What the events need from the Mailpit layer. */
export interface MailpitEventsSource {
  store: MessageStore;
  version: string;
  /** A message as Mailpit lists it. */
  listItem(message: CapturedMessage): unknown;
  /** Messages in the mailbox, and those not read. */
  stats(): Promise<{ total: number; unread: number }>;
  /** Sets who hears of changed read flags and tags. */
  onUpdate(listener: (update: { ID: string; Read: boolean } | { ID: string; Tags: string[] }) => void): void;
}

/** A running events endpoint. */
export interface MailpitEvents {
  /** Whether this endpoint answers WebSocket upgrades at a path (so that no other one refuses them). */
  handles(path: string): boolean;
  close(): void;
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Service Unavailable';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Mailpit's `/api/events` WebSocket at `path`: `{ Type, Data }` frames for a new message
 * (`new`, its list entry), a deleted one (`delete`, `{ ID }`, also when retention drops it), a
 * changed read flag or tags (`update`, `{ ID, Read }` or `{ ID, Tags }`),
 * every message deleted at once (`truncate`) and the mailbox totals after a change (`stats`,
 * `{ Total, Unread, Version }`). The same access policy as Mailwright's own stream: host,
 * origin and token. While a client is connected the store is followed, so new messages are
 * announced as they arrive.
 */
export function attachMailpitEvents(server: Server, path: string, source: MailpitEventsSource, policy: AccessPolicy, logger: Logger): MailpitEvents {
  const { store } = source;
  const clients = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  let following: Following | null = null;
  let statsTimer: NodeJS.Timeout | null = null;

  const broadcast = (type: string, data: unknown): void => {
    if (clients.size === 0) return;
    const frame = JSON.stringify({ Type: type, Data: data });
    for (const client of clients) {
      if (client.readyState !== client.OPEN) continue;
      if (client.bufferedAmount > MAX_BUFFERED_BYTES) {
        client.close(1008, 'too slow: events were not read');
        continue;
      }
      client.send(frame);
    }
  };

  const sendStats = (): void => {
    statsTimer = null;
    if (clients.size === 0) return;
    source.stats().then(
      ({ total, unread }) => broadcast('stats', { Total: total, Unread: unread, Version: source.version }),
      (error: unknown) => logger.warn({ err: error }, 'mailpit events: cannot count messages'),
    );
  };
  const statsSoon = (): void => {
    if (clients.size === 0 || statsTimer !== null) return;
    statsTimer = setTimeout(sendStats, STATS_DELAY_MS);
    statsTimer.unref();
  };

  const onMessage = (message: CapturedMessage): void => {
    broadcast('new', source.listItem(message));
    statsSoon();
  };
  const onDeleted = (ids: string[]): void => {
    for (const id of ids) broadcast('delete', { ID: id });
    statsSoon();
  };
  const onCleared = (): void => {
    broadcast('truncate', '');
    statsSoon();
  };

  source.onUpdate((update) => {
    broadcast('update', update);
    if ('Read' in update) statsSoon();
  });

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== path) return;
    if (!isHostAllowed(request, policy)) return refuse(socket, 403, ErrorCode.HOST_NOT_ALLOWED, 'This server does not answer to that host name');
    if (!isOriginAllowed(request, policy)) return refuse(socket, 403, ErrorCode.FORBIDDEN_ORIGIN, `Origin ${request.headers.origin} is not allowed`);
    if (!hasValidToken(request, policy)) return refuse(socket, 401, ErrorCode.UNAUTHORIZED, 'A valid API token is required');
    if (clients.size >= MAX_CLIENTS) return refuse(socket, 503, ErrorCode.BUSY, `At most ${MAX_CLIENTS} event clients at once`);
    wss.handleUpgrade(request, socket, head, (ws) => {
      if (clients.size === 0) {
        following = store.follow();
        store.on('message', onMessage);
        store.on('deleted', onDeleted);
        store.on('cleared', onCleared);
      }
      clients.add(ws);
      ws.on('error', () => ws.terminate());
      ws.on('close', () => {
        clients.delete(ws);
        if (clients.size > 0) return;
        store.off('message', onMessage);
        store.off('deleted', onDeleted);
        store.off('cleared', onCleared);
        following?.close();
        following = null;
      });
    });
  };
  server.on('upgrade', onUpgrade);

  return {
    handles: (candidate) => candidate === path,
    close() {
      server.off('upgrade', onUpgrade);
      if (statsTimer) clearTimeout(statsTimer);
      for (const client of clients) client.terminate();
      wss.close();
    },
  };
}
