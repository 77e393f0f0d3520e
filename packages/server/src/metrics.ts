import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestHandler } from 'express';
import type { SmtpSession, TlsMode } from '@mailwright/core';

const TLS_MODES: readonly TlsMode[] = ['none', 'starttls', 'implicit'];
const LOWEST_REPLY = 200;
const HIGHEST_REPLY = 599;
/** Seconds; an API answer is usually well under a millisecond, a long-poll up to a minute. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60];

interface Increment {
  inc(value?: number): void;
}

/**
 * The counters of one SMTP listener, bound to their label values once: on the SMTP path a
 * figure costs one increment, with no label lookup and no allocation.
 */
export interface ListenerMetrics {
  /** A reply line (or several) the server wrote. */
  reply(payload: string): void;
  /** A message of `bytes` was stored; `tls` is how it travelled. */
  messageStored(tls: TlsMode, bytes: number): void;
  /** A session ended: counted by how it travelled, and by its TLS failure if it had one. */
  sessionClosed(session: SmtpSession): void;
}

/** What a running server counts, in a registry of its own, as `GET /metrics` serves it. */
export interface ServerMetrics {
  readonly registry: Registry;
  /** The counters of a listener (created on first use; listener names are bounded by the listener cap). */
  listener(name: string): ListenerMetrics;
  /** A stream client was cut off for falling behind. */
  slowStreamClient(): void;
  /** Observes the latency of every HTTP answer by method, route and status. */
  httpLatency(): RequestHandler;
}

/** What the gauges read when scraped. */
export interface MetricSources {
  storedMessages(): Promise<number>;
  storedBytes(): number;
  streamSubscribers(): number;
}

/** Creates the metrics of one server; `sources` are read at each scrape only. */
export function createServerMetrics(sources: MetricSources): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mailwright_' });
  const registers = [registry];
  const messages = new Counter({
    name: 'mailwright_messages_total',
    help: 'Messages stored, by listener and TLS mode',
    labelNames: ['listener', 'tls'],
    registers,
  });
  const bytes = new Counter({
    name: 'mailwright_received_bytes_total',
    help: 'Bytes of stored messages, by listener and TLS mode',
    labelNames: ['listener', 'tls'],
    registers,
  });
  const sessions = new Counter({
    name: 'mailwright_sessions_total',
    help: 'SMTP sessions ended, by listener and TLS mode',
    labelNames: ['listener', 'tls'],
    registers,
  });
  const handshakeFailures = new Counter({
    name: 'mailwright_tls_handshake_failures_total',
    help: 'Failed TLS handshakes (implicit or STARTTLS), by listener and failure code',
    labelNames: ['listener', 'code'],
    registers,
  });
  const replies = new Counter({
    name: 'mailwright_smtp_replies_total',
    help: 'SMTP replies sent, by listener and reply code',
    labelNames: ['listener', 'code'],
    registers,
  });
  const slowClients = new Counter({ name: 'mailwright_stream_slow_clients_total', help: 'Stream clients cut off for falling behind', registers });
  new Gauge({
    name: 'mailwright_stream_subscribers',
    help: 'Stream clients connected',
    registers,
    collect() {
      this.set(sources.streamSubscribers());
    },
  });
  new Gauge({
    name: 'mailwright_stored_bytes',
    help: 'Bytes of stored messages with their records',
    registers,
    collect() {
      this.set(sources.storedBytes());
    },
  });
  new Gauge({
    name: 'mailwright_stored_messages',
    help: 'Messages in the store',
    registers,
    async collect() {
      this.set(await sources.storedMessages());
    },
  });
  const latency = new Histogram({
    name: 'mailwright_http_request_duration_seconds',
    help: 'HTTP answers, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: HTTP_BUCKETS,
    registers,
  });

  const listeners = new Map<string, ListenerMetrics>();
  const forListener = (listener: string): ListenerMetrics => {
    const byTls = (counter: Counter<'listener' | 'tls'>) =>
      Object.fromEntries(TLS_MODES.map((tls) => [tls, counter.labels(listener, tls)])) as Record<TlsMode, Increment>;
    const messagesByTls = byTls(messages);
    const bytesByTls = byTls(bytes);
    const sessionsByTls = byTls(sessions);
    // Reply codes are three digits: a child per code seen, found by index.
    const replyCodes: (Increment | undefined)[] = [];
    const digit = (payload: string, at: number) => payload.charCodeAt(at) - 48;
    return {
      reply(payload) {
        const code = digit(payload, 0) * 100 + digit(payload, 1) * 10 + digit(payload, 2);
        if (!(code >= LOWEST_REPLY && code <= HIGHEST_REPLY)) return;
        (replyCodes[code - LOWEST_REPLY] ??= replies.labels(listener, String(code))).inc();
      },
      messageStored(tls, size) {
        messagesByTls[tls].inc();
        bytesByTls[tls].inc(size);
      },
      sessionClosed(session) {
        sessionsByTls[session.tls.mode].inc();
        if (session.error?.stage === 'tls') handshakeFailures.labels(listener, session.error.code).inc();
      },
    };
  };

  return {
    registry,
    listener(name) {
      let found = listeners.get(name);
      if (!found) listeners.set(name, (found = forListener(name)));
      return found;
    },
    slowStreamClient: () => slowClients.inc(),
    httpLatency() {
      return (request, response, next) => {
        const started = process.hrtime.bigint();
        response.once('finish', () => {
          // The route pattern, not the path: label values stay a small fixed set.
          const route = request.route ? `${request.baseUrl}${String((request.route as { path: unknown }).path)}` : 'unmatched';
          latency.labels(request.method, route, String(response.statusCode)).observe(Number(process.hrtime.bigint() - started) / 1e9);
        });
        next();
      };
    },
  };
}
