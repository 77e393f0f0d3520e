import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestHandler } from 'express';
import type { SmtpSession, TlsMode } from '@mailwright/core';

const TLS_MODES: readonly TlsMode[] = ['none', 'starttls', 'implicit'];
const LOWEST_REPLY = 200;
const HIGHEST_REPLY = 599;
/** Seconds; an API answer is usually well under a millisecond, a long-poll up to a minute. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60];

/**
 * The counters of one SMTP listener: on the SMTP path a figure costs one addition to a plain
 * number, with no label lookup and no allocation; labels are made when scraped.
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
  /** The counters of a listener (kept across restarts of the same name; names are bounded by the listener cap). */
  listener(name: string): ListenerMetrics;
  /** A stream client was cut off for falling behind. */
  slowStreamClient(): void;
  /** Observes the latency of every HTTP answer by method, route and status. */
  httpLatency(): RequestHandler;
}

/** What the gauges read when scraped. */
export interface MetricSources {
  /** The messages stored and their bytes as received. */
  stored(): Promise<{ messages: number; bytes: number }>;
  streamSubscribers(): number;
}

/** The figures of one listener: plain numbers, indexed by TLS mode and reply code. */
interface ListenerFigures {
  readonly messages: Float64Array;
  readonly bytes: Float64Array;
  readonly sessions: Float64Array;
  /** By reply code − 200. */
  readonly replies: Float64Array;
  /** By failure code: a failed handshake is no hot path. */
  readonly handshakeFailures: Map<string, number>;
}

const tlsIndex = (tls: TlsMode): number => (tls === 'none' ? 0 : tls === 'starttls' ? 1 : 2);
const add = (values: Float64Array, index: number, value: number): void => {
  values[index] = (values[index] as number) + value;
};
const digit = (payload: string, at: number): number => payload.charCodeAt(at) - 48;

/** Creates the metrics of one server; `sources` are read at each scrape only. */
export function createServerMetrics(sources: MetricSources): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mailwright_' });
  const registers = [registry];
  // The SMTP side adds to plain numbers; prom-client reads them when scraped (its own
  // increments build a label key per call).
  const figures = new Map<string, ListenerFigures>();
  let slowClients = 0;
  const byTls = (name: string, help: string, pick: (figures: ListenerFigures) => Float64Array) =>
    new Counter({
      name,
      help,
      labelNames: ['listener', 'tls'],
      registers,
      collect() {
        this.reset();
        for (const [listener, counts] of figures) {
          const values = pick(counts);
          for (const tls of TLS_MODES) if (values[tlsIndex(tls)]) this.inc({ listener, tls }, values[tlsIndex(tls)]);
        }
      },
    });
  byTls('mailwright_messages_total', 'Messages stored, by listener and TLS mode', (counts) => counts.messages);
  byTls('mailwright_received_bytes_total', 'Bytes of stored messages, by listener and TLS mode', (counts) => counts.bytes);
  byTls('mailwright_sessions_total', 'SMTP sessions ended, by listener and TLS mode', (counts) => counts.sessions);
  new Counter({
    name: 'mailwright_tls_handshake_failures_total',
    help: 'Failed TLS handshakes (implicit or STARTTLS), by listener and failure code',
    labelNames: ['listener', 'code'],
    registers,
    collect() {
      this.reset();
      for (const [listener, counts] of figures) for (const [code, count] of counts.handshakeFailures) this.inc({ listener, code }, count);
    },
  });
  new Counter({
    name: 'mailwright_smtp_replies_total',
    help: 'SMTP replies sent, by listener and reply code',
    labelNames: ['listener', 'code'],
    registers,
    collect() {
      this.reset();
      for (const [listener, counts] of figures) {
        counts.replies.forEach((count, index) => {
          if (count > 0) this.inc({ listener, code: String(index + LOWEST_REPLY) }, count);
        });
      }
    },
  });
  new Counter({
    name: 'mailwright_stream_slow_clients_total',
    help: 'Stream clients cut off for falling behind',
    registers,
    collect() {
      this.reset();
      this.inc(slowClients);
    },
  });
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
    help: 'Bytes of stored messages, as received',
    registers,
    async collect() {
      this.set((await sources.stored()).bytes);
    },
  });
  new Gauge({
    name: 'mailwright_stored_messages',
    help: 'Messages in the store',
    registers,
    async collect() {
      this.set((await sources.stored()).messages);
    },
  });
  const latency = new Histogram({
    name: 'mailwright_http_request_duration_seconds',
    help: 'HTTP answers, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: HTTP_BUCKETS,
    registers,
  });

  const forListener = (counts: ListenerFigures): ListenerMetrics => ({
    reply(payload) {
      const code = digit(payload, 0) * 100 + digit(payload, 1) * 10 + digit(payload, 2);
      if (code >= LOWEST_REPLY && code <= HIGHEST_REPLY) add(counts.replies, code - LOWEST_REPLY, 1);
    },
    messageStored(tls, size) {
      const index = tlsIndex(tls);
      add(counts.messages, index, 1);
      add(counts.bytes, index, size);
    },
    sessionClosed(session) {
      add(counts.sessions, tlsIndex(session.tls.mode), 1);
      const error = session.error;
      if (error?.stage === 'tls') counts.handshakeFailures.set(error.code, (counts.handshakeFailures.get(error.code) ?? 0) + 1);
    },
  });

  return {
    registry,
    listener(name) {
      let counts = figures.get(name);
      if (!counts) {
        counts = {
          messages: new Float64Array(TLS_MODES.length),
          bytes: new Float64Array(TLS_MODES.length),
          sessions: new Float64Array(TLS_MODES.length),
          replies: new Float64Array(HIGHEST_REPLY - LOWEST_REPLY + 1),
          handshakeFailures: new Map(),
        };
        figures.set(name, counts);
      }
      return forListener(counts);
    },
    slowStreamClient: () => {
      slowClients += 1;
    },
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
