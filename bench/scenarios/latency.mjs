// Scenario "latency": what one `sendMail` on a fresh connection costs a test suite.
// nodemailer without a pool opens a new connection for every message: connect, greeting,
// EHLO, (STARTTLS, EHLO,) MAIL, RCPT, DATA, QUIT. The same client talks to every peer;
// batches are interleaved between the peers so that noise on a shared machine hits all
// of them alike.
//
// nodemailer leaves Nagle's algorithm on and writes the end-of-data ".\r\n" separately
// from the message, so that write waits for the server's delayed ACK (40 ms on Linux)
// whatever the server is. The main series therefore hand nodemailer a socket with
// TCP_NODELAY (its getSocket option), which measures the server; two series with
// nodemailer's defaults show what a test suite sees out of the box.
import { performance } from 'node:perf_hooks';
import { createTransport as transport } from '../lib/nodemailer.mjs';
import { profiled, startMailwright, startNodeResponder, startSmtpServerSink, startSmtpSink } from '../lib/peers.mjs';
import { summarize } from '../lib/stats.mjs';
import { num } from '../lib/report.mjs';

const SCENARIO_TIMEOUT_MS = 10 * 60_000;
const P50_TARGET_RATIO = 1.25;

const MESSAGE = {
  from: 'bench@localhost',
  to: 'sink@localhost',
  subject: 'new-connection latency',
  text: 'Hello from the Mailwright benchmark.\n',
};

async function timedSend(series) {
  const started = performance.now();
  const info = await series.transport.sendMail(MESSAGE);
  const elapsedMs = performance.now() - started;
  if (info.accepted.length !== 1 || info.rejected.length !== 0) {
    throw new Error(`${series.label}: message not accepted (${info.response})`);
  }
  return elapsedMs;
}

export default {
  name: 'latency',
  title: 'New-connection sendMail latency (nodemailer, no pool, one message per connection)',
  async run(ctx) {
    const count = ctx.quick ? 60 : 300;
    const warmup = ctx.quick ? 10 : 30;
    const batch = ctx.quick ? 10 : 25;
    const deadline = Date.now() + SCENARIO_TIMEOUT_MS;

    const peers = [];
    try {
      const mailwright = await startMailwright(ctx);
      peers.push(mailwright);
      const sink = await startSmtpSink(ctx);
      peers.push(sink);
      const bare = await startSmtpServerSink(ctx);
      peers.push(bare);
      const bareNoDelay = await startSmtpServerSink(ctx, { label: 'bare smtp-server sink, no greeting wait', greetingDelay: false });
      peers.push(bareNoDelay);
      const floor = await startNodeResponder(ctx);
      peers.push(floor);

      const series = [
        { key: 'mailwright', label: 'Mailwright, plaintext', transport: transport(mailwright.host, mailwright.port) },
        { key: 'mailwright-starttls', label: 'Mailwright, STARTTLS', transport: transport(mailwright.host, mailwright.port, { tls: { ca: mailwright.ca } }) },
        { key: 'smtp-sink', label: 'Postfix smtp-sink', transport: transport(sink.host, sink.port) },
        { key: 'smtp-server', label: 'bare smtp-server sink', transport: transport(bare.host, bare.port) },
        { key: 'smtp-server-no-delay', label: bareNoDelay.label, transport: transport(bareNoDelay.host, bareNoDelay.port) },
        { key: 'node-responder', label: floor.label, transport: transport(floor.host, floor.port) },
        { key: 'mailwright-default', label: 'Mailwright, plaintext', transport: transport(mailwright.host, mailwright.port, { noDelay: false }) },
        { key: 'smtp-sink-default', label: 'Postfix smtp-sink', transport: transport(sink.host, sink.port, { noDelay: false }) },
      ];
      for (const entry of series) entry.samples = [];

      ctx.log(`warm-up: ${warmup} messages per peer`);
      for (const entry of series) for (let i = 0; i < warmup; i++) await timedSend(entry);

      ctx.log(`measuring: ${count} messages per peer, interleaved in batches of ${batch}`);
      await profiled(ctx, 'latency', peers, async () => {
        for (let round = 0; series.some((entry) => entry.samples.length < count); round++) {
          if (Date.now() > deadline) throw new Error(`latency: not done within ${SCENARIO_TIMEOUT_MS / 1000} s`);
          // Rotate the order so that no peer always follows the same one.
          const order = series.map((_, i) => series[(i + round) % series.length]);
          for (const entry of order) {
            for (let i = 0; i < batch && entry.samples.length < count; i++) entry.samples.push(await timedSend(entry));
          }
        }
      });
      for (const entry of series) entry.transport.close();

      // A benchmark that loses mail is invalid: every message must be in the store, and
      // the STARTTLS ones must have been recorded as such.
      const perSeries = warmup + count;
      const mailwrightSeries = series.filter((entry) => entry.key.startsWith('mailwright')).length;
      const stored = await mailwright.stats();
      const storedTls = await mailwright.stats({ filter: { tls: 'starttls' } });
      const discarded = await bare.stats();
      const discardedNoDelay = await bareNoDelay.stats();
      const answered = await floor.stats();
      const problems = [];
      if (stored.total !== mailwrightSeries * perSeries) problems.push(`Mailwright stored ${stored.total} of ${mailwrightSeries * perSeries} messages`);
      if (storedTls.total !== perSeries) problems.push(`Mailwright recorded ${storedTls.total} of ${perSeries} messages as STARTTLS`);
      for (const [peer, stats] of [
        [bare, discarded],
        [bareNoDelay, discardedNoDelay],
        [floor, answered],
      ]) {
        if (stats.total !== perSeries) problems.push(`${peer.label} received ${stats.total} of ${perSeries} messages`);
      }
      if (problems.length > 0) throw new Error(`latency: invalid run: ${problems.join('; ')}`);

      const results = Object.fromEntries(series.map((entry) => [entry.key, { label: entry.label, ...summarize(entry.samples) }]));
      const table = (title, keys, baseKey, notes) => {
        const base = results[baseKey].p50;
        return {
          title,
          columns: [
            { key: 'label', label: 'peer', align: 'left' },
            { key: 'n', label: 'n' },
            { key: 'p50', label: 'p50 ms' },
            { key: 'p95', label: 'p95 ms' },
            { key: 'p99', label: 'p99 ms' },
            { key: 'mean', label: 'mean ms' },
            { key: 'ratio', label: 'p50 ÷ smtp-sink' },
          ],
          rows: keys.map((key) => {
            const r = results[key];
            return { label: r.label, n: r.n, p50: num(r.p50), p95: num(r.p95), p99: num(r.p99), mean: num(r.mean), ratio: `${num(r.p50 / base)}×` };
          }),
          notes,
        };
      };
      const target = (name, key, baseKey) => ({
        name,
        value: results[key].p50 / results[baseKey].p50,
        limit: P50_TARGET_RATIO,
        comparison: '<=',
        unit: '×',
        detail: `${num(results[key].p50)} ms vs ${num(results[baseKey].p50)} ms`,
      });
      return {
        data: {
          count,
          warmup,
          batch,
          results,
          verified: {
            stored: stored.total,
            storedStarttls: storedTls.total,
            smtpServerSink: discarded.total,
            smtpServerSinkNoDelay: discardedNoDelay.total,
            nodeResponder: answered.total,
          },
        },
        tables: [
          table(
            `${this.title}, client socket with TCP_NODELAY: ${count} messages per peer after ${warmup} warm-up`,
            ['mailwright', 'mailwright-starttls', 'smtp-sink', 'smtp-server', 'smtp-server-no-delay', 'node-responder'],
            'smtp-sink',
            [
              `verified: Mailwright stored all ${stored.total} messages (${storedTls.total} recorded as STARTTLS); each smtp-server sink and the Node.js responder received all ${perSeries}`,
              'STARTTLS: TLS 1.3 handshake with the test CA trusted by the client (no session resumption)',
              'smtp-server waits 100 ms before its greeting (early-talker check); Mailwright skips that wait, and so does the',
              '"no greeting wait" sink: the floor for any server built on smtp-server',
              'the minimal Node.js responder answers with fixed replies and parses nothing: the floor for any Node.js server',
            ],
          ),
          table(
            `Same, with nodemailer's defaults (Nagle on: the end-of-data write waits for a delayed ACK)`,
            ['mailwright-default', 'smtp-sink-default'],
            'smtp-sink-default',
            ["the ~40 ms are the client's Nagle algorithm meeting Linux delayed ACK, whatever the server"],
          ),
        ],
        targets: [
          target('new-connection sendMail p50, Mailwright ÷ smtp-sink', 'mailwright', 'smtp-sink'),
          target('  same, with nodemailer defaults (Nagle on)', 'mailwright-default', 'smtp-sink-default'),
        ],
      };
    } finally {
      await Promise.all(peers.map((peer) => peer.stop()));
    }
  },
};
