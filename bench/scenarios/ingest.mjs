// Scenario "ingest": pooled throughput. Postfix's smtp-source (C) keeps 20 sessions open
// and sends 10 KB messages back to back; we measure messages per second until the last
// one is accepted, and the server's CPU time per message (the number that noise on a
// shared machine disturbs least). Rounds alternate between the peers. Mailwright runs
// twice: as it is, and watched (the store followed, as a stream subscriber does, so that it
// reads each message on arrival). MailDev (the npm package, with its defaults) is measured alongside when it is
// installed and starts; otherwise the table and the targets say why it was left out.
import { performance } from 'node:perf_hooks';
import { profiled, startMailDev, startMailwright, startSmtpServerSink, startSmtpSink } from '../lib/peers.mjs';
import { runSmtpSource } from '../lib/smtp-source.mjs';
import { median } from '../lib/stats.mjs';
import { MB, num } from '../lib/report.mjs';

export const SESSIONS = 20;
export const PAYLOAD_BYTES = 10 * 1024;
const RUN_TIMEOUT_MS = 5 * 60_000;
const THROUGHPUT_TARGET_RATIO = 0.8;
const SQLITE_TARGET_RATIO = 0.6;
const MAILDEV_TARGET_RATIO = 3;

export default {
  name: 'ingest',
  title: `Pooled ingest (smtp-source, ${SESSIONS} sessions, 10 KB messages)`,
  async run(ctx) {
    const messages = ctx.quick ? 2000 : 5000;
    const warmup = 1000;
    const rounds = ctx.quick ? 1 : 5;

    const peers = [];
    try {
      const mailwright = await startMailwright(ctx);
      peers.push(mailwright);
      peers.push(await startMailwright(ctx, { name: 'mailwright-watched', label: 'Mailwright, watched', watched: true }));
      // Durable: each message committed to disk (WAL, fsync) before its 250, in a data directory on disk.
      peers.push(await startMailwright(ctx, { name: 'mailwright-sqlite', label: 'Mailwright, SQLite (durable)', options: { storage: 'sqlite' } }));
      const bare = await startSmtpServerSink(ctx);
      peers.push(bare);
      const sink = await startSmtpSink(ctx);
      peers.push(sink);
      let mailDevSkipped = null;
      try {
        peers.push(await startMailDev(ctx));
      } catch (error) {
        mailDevSkipped = `MailDev left out: ${error.message}`;
        ctx.log(mailDevSkipped);
      }
      const mailDev = peers.find((peer) => peer.name === 'maildev') ?? null;

      const send = (peer, count) =>
        runSmtpSource({ host: peer.host, port: peer.port, sessions: SESSIONS, messages: count, length: PAYLOAD_BYTES, timeoutMs: RUN_TIMEOUT_MS });

      ctx.log(`warm-up: ${warmup} messages per peer`);
      for (const peer of peers) await send(peer, warmup);

      const samples = new Map(peers.map((peer) => [peer.name, []]));
      const verified = {};
      await profiled(ctx, 'ingest', peers, async () => {
        for (let round = 0; round < rounds; round++) {
          const order = peers.map((_, i) => peers[(i + round) % peers.length]);
          for (const peer of order) {
            await peer.clear();
            ctx.log(`round ${round + 1}/${rounds}: ${messages} messages to ${peer.label}`);
            const cpuBefore = peer.cpuTimeMs();
            const started = performance.now();
            const run = await send(peer, messages);
            const cpuMs = peer.cpuTimeMs() - cpuBefore;
            // Every message must have arrived, whole: a benchmark that loses mail is invalid.
            const stats = await peer.stats();
            if (stats) {
              if (stats.total !== messages) throw new Error(`ingest: ${peer.label} has ${stats.total} of ${messages} messages after the run`);
              if (stats.files !== undefined && stats.files !== messages)
                throw new Error(`ingest: ${peer.label} wrote ${stats.files} of ${messages} messages to its mail directory`);
              const averageSize = stats.bytes / stats.total;
              if (averageSize < PAYLOAD_BYTES || (stats.minSize !== undefined && stats.minSize < PAYLOAD_BYTES)) {
                throw new Error(`ingest: ${peer.label} received messages of ${num(averageSize, 0)} bytes on average, expected ≥ ${PAYLOAD_BYTES}`);
              }
              verified[peer.name] = {
                messages: stats.total,
                averageSize: stats.bytes / stats.total,
                minSize: stats.minSize ?? null,
                files: stats.files ?? null,
              };
            }
            samples.get(peer.name).push({
              messagesPerSecond: run.messagesPerSecond,
              durationMs: performance.now() - started,
              cpuUsPerMessage: (cpuMs * 1000) / messages,
            });
          }
        }
      });

      const results = {};
      for (const peer of peers) {
        const list = samples.get(peer.name);
        results[peer.name] = {
          label: peer.label,
          rounds: list.map((sample) => Math.round(sample.messagesPerSecond)),
          messagesPerSecond: median(list.map((sample) => sample.messagesPerSecond)),
          cpuUsPerMessage: median(list.map((sample) => sample.cpuUsPerMessage)),
        };
      }
      const messageSize = verified.mailwright?.averageSize ?? PAYLOAD_BYTES;
      const base = results['smtp-server'].messagesPerSecond;
      const ratio = results.mailwright.messagesPerSecond / base;
      const mailDevResult = mailDev ? results.maildev : null;
      const mailDevTarget = {
        name: 'pooled ingest, Mailwright ÷ MailDev',
        limit: MAILDEV_TARGET_RATIO,
        comparison: '>=',
        unit: '×',
        ...(mailDevResult
          ? {
              value: results.mailwright.messagesPerSecond / mailDevResult.messagesPerSecond,
              detail: `${num(results.mailwright.messagesPerSecond, 0)} vs ${num(mailDevResult.messagesPerSecond, 0)} msg/s (${mailDev.label}); CPU per message ${num(mailDevResult.cpuUsPerMessage / results.mailwright.cpuUsPerMessage)}× Mailwright's`,
            }
          : { value: null, skipped: mailDevSkipped }),
      };
      return {
        data: {
          messages,
          warmup,
          rounds,
          sessions: SESSIONS,
          payloadBytes: PAYLOAD_BYTES,
          results,
          verified,
          maildev: mailDev ? { version: mailDev.version } : { skipped: mailDevSkipped },
        },
        tables: [
          {
            title: `${this.title}: ${messages} messages per round, ${rounds} round(s), median`,
            columns: [
              { key: 'label', label: 'peer', align: 'left' },
              { key: 'rate', label: 'msg/s' },
              { key: 'mbps', label: 'MB/s' },
              { key: 'rounds', label: 'rounds (msg/s)', align: 'left' },
              { key: 'cpu', label: 'server CPU µs/msg' },
              { key: 'ratio', label: '÷ smtp-server sink' },
              { key: 'mailwrightRatio', label: 'Mailwright ÷' },
            ],
            rows: peers.map((peer) => {
              const r = results[peer.name];
              return {
                label: r.label,
                rate: num(r.messagesPerSecond, 0),
                mbps: num((r.messagesPerSecond * messageSize) / MB, 1),
                rounds: r.rounds.join(' / '),
                cpu: num(r.cpuUsPerMessage, 0),
                ratio: `${num(r.messagesPerSecond / base)}×`,
                mailwrightRatio: peer.name === 'mailwright' ? '' : `${num(results.mailwright.messagesPerSecond / r.messagesPerSecond)}×`,
              };
            }),
            notes: [
              `verified each round: Mailwright stored all ${messages} messages (average ${num(verified.mailwright?.averageSize, 0)} bytes, smallest ${num(verified.mailwright?.minSize, 0)}); the smtp-server sink received all ${messages}`,
              mailDev
                ? `MailDev (defaults: messages in memory, each also written to an .eml file in a temporary directory): its API listed all ${messages} and its mail directory held ${verified.maildev?.files} files (smallest ${num(verified.maildev?.minSize, 0)} bytes)`
                : `MailDev: not measured. ${mailDevSkipped}`,
              'Mailwright reads a message (headers, addresses, snippet) when it is first asked for; "watched" follows the store, as a stream subscription or a waiting test does, so it reads each one as it arrives',
              'Mailwright, SQLite (durable): every message is committed to its database (WAL, fsync) before its 250; concurrent sessions share commits',
              'Postfix smtp-sink is a reference for the ceiling of the load generator, not a target',
            ],
          },
        ],
        targets: [
          {
            name: 'pooled ingest, Mailwright ÷ bare smtp-server sink',
            value: ratio,
            limit: THROUGHPUT_TARGET_RATIO,
            comparison: '>=',
            unit: '×',
            detail: `${num(results.mailwright.messagesPerSecond, 0)} vs ${num(base, 0)} msg/s; CPU ${num(results.mailwright.cpuUsPerMessage, 0)} vs ${num(results['smtp-server'].cpuUsPerMessage, 0)} µs/msg`,
          },
          {
            name: '  same, watched (the store followed, as with a stream subscriber open)',
            value: results['mailwright-watched'].messagesPerSecond / base,
            limit: THROUGHPUT_TARGET_RATIO,
            comparison: '>=',
            unit: '×',
            detail: `${num(results['mailwright-watched'].messagesPerSecond, 0)} vs ${num(base, 0)} msg/s; CPU ${num(results['mailwright-watched'].cpuUsPerMessage, 0)} µs/msg`,
          },
          {
            name: '  same, SQLite storage (durable: on disk before the 250)',
            value: results['mailwright-sqlite'].messagesPerSecond / base,
            limit: SQLITE_TARGET_RATIO,
            comparison: '>=',
            unit: '×',
            detail: `${num(results['mailwright-sqlite'].messagesPerSecond, 0)} vs ${num(base, 0)} msg/s; CPU ${num(results['mailwright-sqlite'].cpuUsPerMessage, 0)} µs/msg`,
          },
          mailDevTarget,
        ],
      };
    } finally {
      await Promise.all(peers.map((peer) => peer.stop()));
    }
  },
};
