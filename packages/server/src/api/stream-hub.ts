import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  ClientFrameSchema,
  ErrorCode,
  STREAM_CLOSE_SLOW_CLIENT,
  STREAM_PROTOCOL,
  compileFilter,
  hasVerdictFilter,
  isEmptyFilter,
  summarizeAuthentication,
  summarizeProtection,
  type CapturedMessage,
  type FilterSubject,
  type MessageDetail,
  type MessageMatcher,
  type ServerFrame,
  type SmtpSession,
  type SubscribeFrame,
} from '@mailwright/core';
import type { Following, MessageStore } from '../store/message-store.js';
import type { Logger } from '../logger.js';
import { hasValidToken, isHostAllowed, isOriginAllowed, type AccessPolicy } from './access-control.js';

const STREAM_PATH = '/api/v1/stream';
const MAX_CLIENT_FRAME_BYTES = 64 * 1024;
const MAX_SUBSCRIPTIONS_PER_CLIENT = 100;
const REPLAY_BATCH = 500;
const SLOW_CLIENT_GRACE_MS = 5_000;
/** Details of the latest messages, shared by every subscription that asks for them. */
const DETAIL_CACHE_ENTRIES = 32;

/** Tuning of the stream. */
export interface StreamOptions {
  /** A client whose unsent data exceeds this is closed with 4008. */
  maxBufferedBytes: number;
  /** How often idle connections are pinged; a peer that missed a pong is dropped. */
  pingIntervalMs: number;
}

interface Subscription {
  id: string;
  /** The subscription's prefix of a `message` frame, built once. */
  messagePrefix: string;
  sessionPrefix: string;
  matcher: MessageMatcher | null;
  wantsMessages: boolean;
  wantsSessions: boolean;
  /** Highest seq delivered (or replayed past); delivery is exactly once above it. */
  cursor: number;
  /** Live messages that arrived during the replay, delivered after it. */
  pending: { message: CapturedMessage; json: string }[] | null;
  /** Frames carry the message detail; they go out in order through `outbox`. */
  detail: boolean;
  outbox: Promise<void>;
  /**
   * For a filter on verdicts (`dkim`, `spf`, `dmarc`): the seq it started after. A message is
   * pending on arrival and matches no verdict, so it is delivered when its verdicts are done.
   */
  verdictsAfter: number | null;
  /**
   * Which records the filter asks about: a message is delivered late when one of these is done
   * (the last of them, as the filter matches only then), never for a record it does not ask about.
   */
  lateOn: { authentication: boolean; protection: boolean };
  /** Messages whose verdicts were done during the replay; delivered after it unless it had them. */
  late: CapturedMessage[] | null;
  /** Ids the replay delivered (verdict filters only, kept while the subscription lasts). */
  replayed: Set<string> | null;
}

interface Client {
  socket: WebSocket;
  subscriptions: Map<string, Subscription>;
  alive: boolean;
}

/** A running stream endpoint. */
export interface StreamHub {
  /** Number of connected clients. */
  clientCount(): number;
  close(): Promise<void>;
}

/**
 * The WebSocket stream at /api/v1/stream. Each store event is serialized once and the
 * frame shared by every subscriber; nothing is serialized when nobody listens.
 */
export function attachStreamHub(
  server: Server,
  store: MessageStore,
  policy: AccessPolicy,
  options: StreamOptions,
  logger: Logger,
  readDetail: (message: CapturedMessage) => Promise<MessageDetail | null>,
): StreamHub {
  const clients = new Set<Client>();
  const details = new Map<string, Promise<string>>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_FRAME_BYTES,
    handleProtocols: (protocols) => (protocols.has(STREAM_PROTOCOL) ? STREAM_PROTOCOL : false),
  });

  const refuse = (socket: Duplex, status: number, code: string, message: string): void => {
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== STREAM_PATH) {
      refuse(socket, 400, ErrorCode.NOT_FOUND, `No WebSocket endpoint at ${path}`);
      return;
    }
    if (!isHostAllowed(request, policy)) {
      refuse(socket, 403, ErrorCode.HOST_NOT_ALLOWED, `This server does not answer to the host name in "${request.headers.host}"; add it with --allowed-host`);
      return;
    }
    if (!isOriginAllowed(request, policy)) {
      refuse(socket, 403, ErrorCode.FORBIDDEN_ORIGIN, `Origin ${request.headers.origin} is not allowed`);
      return;
    }
    if (!hasValidToken(request, policy)) {
      refuse(socket, 401, ErrorCode.UNAUTHORIZED, 'A valid API token is required');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws));
  };
  server.on('upgrade', onUpgrade);

  function send(client: Client, frame: string): boolean {
    if (client.socket.readyState !== client.socket.OPEN) return false;
    if (client.socket.bufferedAmount > options.maxBufferedBytes) {
      client.socket.close(STREAM_CLOSE_SLOW_CLIENT, 'client fell behind; resume from the last seq');
      // The close frame waits behind the buffered data; a peer that never reads again is cut off.
      setTimeout(() => client.socket.terminate(), SLOW_CLIENT_GRACE_MS).unref();
      return false;
    }
    client.socket.send(frame);
    return true;
  }

  function sendFrame(client: Client, frame: ServerFrame): void {
    send(client, JSON.stringify(frame));
  }

  /**
   * The detail of a message as JSON, built once however many subscriptions want it. When it
   * cannot be read (the parser is busy) the frame carries the message alone, and the next
   * subscriber asks again: a message frame is never lost.
   */
  function detailJsonOf(message: CapturedMessage, summaryJson: string): Promise<string> {
    let json = details.get(message.id);
    if (!json) {
      const reading: Promise<string> = readDetail(message).then(
        (detail) => (detail ? JSON.stringify(detail) : summaryJson),
        (error: unknown) => {
          if (details.get(message.id) === reading) details.delete(message.id);
          logger.warn({ err: error, id: message.id }, 'stream frame sent without the message detail');
          return summaryJson;
        },
      );
      json = reading;
      details.set(message.id, json);
      for (const id of details.keys()) {
        if (details.size <= DETAIL_CACHE_ENTRIES) break;
        details.delete(id);
      }
    }
    return json;
  }

  /** Queues a frame of a detail subscription behind the ones before it, keeping seq order. */
  function enqueue(subscription: Subscription, frame: () => Promise<string>, client: Client): void {
    subscription.outbox = subscription.outbox
      .then(async () => {
        const text = await frame();
        if (client.subscriptions.get(subscription.id) === subscription) send(client, text);
      })
      .catch((error: unknown) => logger.error({ err: error }, 'stream detail failed'));
  }

  function deliver(client: Client, subscription: Subscription, message: CapturedMessage, json: string): void {
    if (message.seq <= subscription.cursor) return;
    subscription.cursor = message.seq;
    if (subscription.detail) enqueue(subscription, async () => `${subscription.messagePrefix}${await detailJsonOf(message, json)}}`, client);
    else send(client, `${subscription.messagePrefix}${json}}`);
  }

  /**
   * Delivers a message that came to match a verdict filter when its verdicts were done: out of
   * seq order, once (a recompute does not deliver it again; a replay that had it done already
   * delivered it, and advanced the cursor past it).
   */
  function deliverLate(client: Client, subscription: Subscription, message: CapturedMessage, json: string): void {
    if (subscription.replayed?.has(message.id)) return;
    if (subscription.detail) enqueue(subscription, async () => `${subscription.messagePrefix}${await detailJsonOf(message, json)}}`, client);
    else send(client, `${subscription.messagePrefix}${json}}`);
  }

  /** Sends the `subscribed` frame after everything delivered before it. */
  function confirm(client: Client, subscription: Subscription): void {
    const frame = JSON.stringify({ type: 'subscribed', subscription: subscription.id, seq: subscription.cursor } satisfies ServerFrame);
    if (subscription.detail) enqueue(subscription, async () => frame, client);
    else send(client, frame);
  }

  async function replay(client: Client, subscription: Subscription, filter: SubscribeFrame['filter']): Promise<void> {
    for (;;) {
      const batch = await store.messagesAfter(subscription.cursor, filter, REPLAY_BATCH);
      if (client.subscriptions.get(subscription.id) !== subscription) return;
      for (const message of batch) {
        subscription.replayed?.add(message.id);
        deliver(client, subscription, message, JSON.stringify(message));
      }
      if (batch.length < REPLAY_BATCH) break;
      // Let the socket drain between batches instead of buffering the whole history.
      while (client.socket.readyState === client.socket.OPEN && client.socket.bufferedAmount > options.maxBufferedBytes / 2) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    const pending = subscription.pending ?? [];
    subscription.pending = null;
    for (const { message, json } of pending) deliver(client, subscription, message, json);
    const late = subscription.late ?? [];
    subscription.late = null;
    for (const message of late) deliverLate(client, subscription, message, JSON.stringify(message));
    subscription.cursor = Math.max(subscription.cursor, store.latestSeq());
    confirm(client, subscription);
  }

  function subscribe(client: Client, frame: SubscribeFrame): void {
    let matcher: MessageMatcher | null = null;
    try {
      matcher = frame.filter === undefined || isEmptyFilter(frame.filter) ? null : compileFilter(frame.filter);
    } catch (error) {
      sendFrame(client, { type: 'error', code: ErrorCode.INVALID_FILTER, message: (error as Error).message, subscription: frame.id });
      return;
    }
    if (!client.subscriptions.has(frame.id) && client.subscriptions.size >= MAX_SUBSCRIPTIONS_PER_CLIENT) {
      sendFrame(client, {
        type: 'error',
        code: ErrorCode.INVALID_REQUEST,
        message: `At most ${MAX_SUBSCRIPTIONS_PER_CLIENT} subscriptions per connection`,
        subscription: frame.id,
      });
      return;
    }
    const events = new Set(frame.events ?? ['message']);
    const idJson = JSON.stringify(frame.id);
    const subscription: Subscription = {
      id: frame.id,
      messagePrefix: `{"type":"message","subscription":${idJson},"message":`,
      sessionPrefix: `{"type":"session","subscription":${idJson},"session":`,
      matcher,
      wantsMessages: events.has('message'),
      wantsSessions: events.has('session'),
      cursor: frame.since ?? store.latestSeq(),
      pending: frame.since === undefined ? null : [],
      detail: frame.detail === true,
      outbox: Promise.resolve(),
      verdictsAfter: hasVerdictFilter(frame.filter) ? (frame.since ?? store.latestSeq()) : null,
      lateOn: {
        authentication: frame.filter?.dkim !== undefined || frame.filter?.spf !== undefined || frame.filter?.dmarc !== undefined,
        protection: frame.filter?.encrypted !== undefined || frame.filter?.signed !== undefined || frame.filter?.protection !== undefined,
      },
      late: hasVerdictFilter(frame.filter) && frame.since !== undefined ? [] : null,
      replayed: hasVerdictFilter(frame.filter) && frame.since !== undefined ? new Set() : null,
    };
    client.subscriptions.set(frame.id, subscription);
    listenForMessages();
    if (!subscription.wantsMessages || frame.since === undefined) {
      subscription.pending = null;
      confirm(client, subscription);
      return;
    }
    replay(client, subscription, frame.filter).catch((error: unknown) => {
      logger.error({ err: error }, 'stream replay failed');
      sendFrame(client, { type: 'error', code: ErrorCode.INTERNAL, message: 'Replay failed', subscription: frame.id });
    });
  }

  function accept(socket: WebSocket): void {
    const client: Client = { socket, subscriptions: new Map(), alive: true };
    clients.add(client);
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('message', (data, isBinary) => {
      let frame;
      try {
        frame = ClientFrameSchema.safeParse(JSON.parse(isBinary ? '' : data.toString()));
      } catch {
        sendFrame(client, { type: 'error', code: ErrorCode.INVALID_REQUEST, message: 'Frames must be JSON text' });
        return;
      }
      if (!frame.success) {
        sendFrame(client, {
          type: 'error',
          code: ErrorCode.INVALID_REQUEST,
          message: frame.error.issues.map((issue) => `${issue.path.join('.') || 'frame'}: ${issue.message}`).join('; '),
        });
        return;
      }
      if (frame.data.type === 'subscribe') subscribe(client, frame.data);
      else if (client.subscriptions.delete(frame.data.id)) listenForMessages();
    });
    socket.on('close', () => {
      clients.delete(client);
      listenForMessages();
    });
    socket.on('error', (error) => logger.debug({ err: error }, 'stream client error'));
    sendFrame(client, { type: 'hello', version: 1, seq: store.latestSeq(), epoch: store.epoch });
  }

  const onMessage = (message: CapturedMessage, subject: FilterSubject): void => {
    let json: string | null = null;
    for (const client of clients) {
      for (const subscription of client.subscriptions.values()) {
        if (!subscription.wantsMessages || message.seq <= subscription.cursor) continue;
        if (subscription.matcher && !subscription.matcher(subject)) continue;
        json ??= JSON.stringify(message);
        if (subscription.pending) subscription.pending.push({ message, json });
        else deliver(client, subscription, message, json);
      }
    }
  };
  const broadcast = (frame: ServerFrame): void => {
    let json: string | null = null;
    for (const client of clients) {
      if (client.subscriptions.size === 0) continue;
      json ??= JSON.stringify(frame);
      send(client, json);
    }
  };
  /**
   * A message's verdicts (or its protection) were recorded: every client with a message
   * subscription learns it with one `authentication` (`protection`) frame, and a verdict filter
   * the message now matches gets it delivered.
   */
  const verdictsRecorded =
    (type: 'authentication' | 'protection') =>
    (message: CapturedMessage, first: boolean): void => {
      let frame: string | null = null;
      let json: string | null = null;
      for (const client of clients) {
        let told = false;
        for (const subscription of client.subscriptions.values()) {
          if (!subscription.wantsMessages) continue;
          if (
            first &&
            subscription.verdictsAfter !== null &&
            subscription.lateOn[type] &&
            message.seq > subscription.verdictsAfter &&
            (subscription.matcher === null || subscription.matcher({ message }))
          ) {
            json ??= JSON.stringify(message);
            if (subscription.late) subscription.late.push(message);
            else deliverLate(client, subscription, message, json);
          }
          if (told) continue;
          told = true;
          frame ??= JSON.stringify(
            type === 'authentication'
              ? ({
                  type,
                  id: message.id,
                  seq: message.seq,
                  authentication: summarizeAuthentication(message.authentication ?? { status: 'pending', dkim: null, spf: null, dmarc: null }),
                } satisfies ServerFrame)
              : ({
                  type,
                  id: message.id,
                  seq: message.seq,
                  protection: summarizeProtection(message.protection ?? { status: 'pending', kind: 'none', signed: false, encrypted: false, decrypted: false }),
                } satisfies ServerFrame),
          );
          send(client, frame);
        }
      }
    };
  const onAuthentication = verdictsRecorded('authentication');
  const onProtection = verdictsRecorded('protection');
  const onDeleted = (ids: string[]): void => broadcast({ type: 'deleted', ids });
  const onCleared = (): void => broadcast({ type: 'cleared' });
  const onSession = (session: SmtpSession): void => {
    let json: string | null = null;
    for (const client of clients) {
      for (const subscription of client.subscriptions.values()) {
        if (!subscription.wantsSessions) continue;
        json ??= JSON.stringify(session);
        send(client, `${subscription.sessionPrefix}${json}}`);
      }
    }
  };
  /**
   * Follows the store only while a subscription wants messages: a store that reads mail when
   * followed then reads each one as it arrives, and otherwise only when it is asked for it.
   */
  let following: Following | null = null;
  function listenForMessages(): void {
    let wanted = false;
    for (const client of clients) {
      for (const subscription of client.subscriptions.values()) wanted ||= subscription.wantsMessages;
      if (wanted) break;
    }
    if (wanted && !following) {
      following = store.follow();
      store.on('message', onMessage);
      store.on('authentication', onAuthentication);
      store.on('protection', onProtection);
    }
    if (!wanted && following) {
      store.off('message', onMessage);
      store.off('authentication', onAuthentication);
      store.off('protection', onProtection);
      following.close();
      following = null;
    }
  }
  store.on('deleted', onDeleted);
  store.on('cleared', onCleared);
  store.on('session', onSession);

  const heartbeat = setInterval(() => {
    for (const client of clients) {
      if (!client.alive) {
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }, options.pingIntervalMs);
  heartbeat.unref();

  return {
    clientCount: () => clients.size,
    async close() {
      clearInterval(heartbeat);
      server.off('upgrade', onUpgrade);
      store.off('message', onMessage);
      store.off('authentication', onAuthentication);
      store.off('protection', onProtection);
      following?.close();
      following = null;
      store.off('deleted', onDeleted);
      store.off('cleared', onCleared);
      store.off('session', onSession);
      for (const client of clients) client.socket.close(1001, 'server shutting down');
      const forced = setTimeout(() => {
        for (const client of clients) client.socket.terminate();
      }, 1_000);
      forced.unref();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      clearTimeout(forced);
    },
  };
}
