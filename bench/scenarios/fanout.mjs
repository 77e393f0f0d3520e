// Scenario "fanout": one message announced to many stream clients. Plain `ws` clients
// (subprotocol mailwright.v1, no SDK) subscribe with a `to` filter (docs/stream.md); a
// pooled nodemailer transport (TCP_NODELAY) sends one message at a time, and we time it
// from just before sendMail until the last subscriber has received its `message` frame.
// The server's CPU time per message comes from /proc/<pid>/stat.
//
// Every client stays connected throughout; what changes between the series is the
// address the message goes to: one with 50 subscribers, one with a single subscriber,
// and one that no subscription matches (the server still evaluates every filter). The
// series alternate in batches, and the server's CPU time is read around each batch.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createTransport } from '../lib/nodemailer.mjs';
import { profiled, startMailwright } from '../lib/peers.mjs';
import { summarize } from '../lib/stats.mjs';
import { num } from '../lib/report.mjs';

const SUBSCRIBERS = 50;
const PROTOCOL = 'mailwright.v1';
const CONNECT_TIMEOUT_MS = 10_000;
const DELIVERY_TIMEOUT_MS = 10_000;
const SCENARIO_TIMEOUT_MS = 5 * 60_000;

const SERIES = [
  { key: 'fifty', subscribers: SUBSCRIBERS, address: 'fanout-50@mailwright.test', label: `${SUBSCRIBERS} subscribers` },
  { key: 'one', subscribers: 1, address: 'fanout-1@mailwright.test', label: '1 subscriber' },
  { key: 'none', subscribers: 0, address: 'fanout-0@mailwright.test', label: 'no matching subscriber (reply only)' },
];

/** A stream client subscribed to `address`; `onMessage(data)` sees every message frame, unparsed. */
function subscriber(url, id, address, onMessage) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, PROTOCOL);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`fanout: subscriber ${id} not subscribed within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`fanout: subscriber ${id}: ${error.message}`));
    });
    socket.once('open', () => {
      if (socket.protocol !== PROTOCOL) reject(new Error(`fanout: the server selected subprotocol "${socket.protocol}"`));
      socket.send(JSON.stringify({ type: 'subscribe', id, filter: { to: address } }));
    });
    socket.on('message', (data) => {
      // Only the frames we wait for are looked at closely; the test is on the raw bytes.
      if (data.includes('"type":"message"')) {
        onMessage(data);
        return;
      }
      const frame = JSON.parse(data.toString());
      if (frame.type === 'subscribed' && frame.subscription === id) {
        clearTimeout(timer);
        resolve(socket);
      } else if (frame.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`fanout: subscriber ${id}: ${frame.code}: ${frame.message}`));
      }
    });
  });
}

export default {
  name: 'fanout',
  title: `Stream fan-out: one message to ${SUBSCRIBERS} WebSocket subscribers`,
  async run(ctx) {
    const count = ctx.quick ? 60 : 300;
    const warmup = ctx.quick ? 10 : 30;
    const batch = ctx.quick ? 20 : 50;
    const deadline = Date.now() + SCENARIO_TIMEOUT_MS;

    let mailwright = null;
    let transport = null;
    const sockets = [];
    try {
      mailwright = await startMailwright(ctx);
      const url = `${mailwright.ready.url.replace(/^http/, 'ws')}/api/v1/stream`;

      // What each subscriber is waiting for; every received frame is counted, so that a
      // duplicate or a frame to the wrong subscriber shows.
      let pending = null;
      const received = new Map();
      const onMessage = (id) => (data) => {
        received.set(id, (received.get(id) ?? 0) + 1);
        if (!pending || !pending.waiting.has(id) || !data.includes(pending.marker)) return;
        const now = performance.now();
        pending.waiting.delete(id);
        pending.first ??= now;
        if (pending.waiting.size === 0) pending.done(now);
      };
      ctx.log(`connecting ${SUBSCRIBERS + 1} subscribers`);
      for (const series of SERIES.filter((entry) => entry.subscribers > 0)) {
        const ids = Array.from({ length: series.subscribers }, (_, i) => `${series.key}-${i}`);
        series.ids = ids;
        for (const id of ids) sockets.push(await subscriber(url, id, series.address, onMessage(id)));
      }

      transport = createTransport(mailwright.host, mailwright.port, { pool: true });
      let sent = 0;
      const delivered = Object.fromEntries(SERIES.map((series) => [series.key, 0]));
      const measureOne = async (series) => {
        sent += 1;
        const marker = `fanout [${sent}]`;
        let timer;
        const all =
          series.subscribers === 0
            ? Promise.resolve(null)
            : new Promise((resolve, reject) => {
                pending = { marker, waiting: new Set(series.ids), first: null, done: resolve };
                timer = setTimeout(
                  () =>
                    reject(
                      new Error(
                        `fanout: ${pending.waiting.size} of ${series.ids.length} subscribers did not receive "${marker}" within ${DELIVERY_TIMEOUT_MS} ms`,
                      ),
                    ),
                  DELIVERY_TIMEOUT_MS,
                );
              });
        all.catch(() => undefined);
        const started = performance.now();
        const info = await transport.sendMail({ from: 'bench@localhost', to: series.address, subject: marker, text: 'Hello from the Mailwright benchmark.\n' });
        const replied = performance.now();
        const last = await all.finally(() => clearTimeout(timer));
        const first = pending?.first ?? null;
        pending = null;
        if (info.accepted.length !== 1) throw new Error(`fanout: message not accepted (${info.response})`);
        delivered[series.key] += 1;
        return { reply: replied - started, last: last === null ? null : last - started, first: first === null ? null : first - started };
      };

      ctx.log(`warm-up: ${warmup} messages per series`);
      for (const series of SERIES) for (let i = 0; i < warmup; i++) await measureOne(series);
      const samples = Object.fromEntries(SERIES.map((series) => [series.key, []]));
      const cpuMs = Object.fromEntries(SERIES.map((series) => [series.key, 0]));
      ctx.log(`measuring: ${count} messages per series, interleaved in batches of ${batch}`);
      await profiled(ctx, 'fanout', [mailwright], async () => {
        for (let round = 0; SERIES.some((series) => samples[series.key].length < count); round++) {
          if (Date.now() > deadline) throw new Error(`fanout: not done within ${SCENARIO_TIMEOUT_MS / 1000} s`);
          const order = SERIES.map((_, i) => SERIES[(i + round) % SERIES.length]);
          for (const series of order) {
            const list = samples[series.key];
            const cpuBefore = mailwright.cpuTimeMs();
            for (let i = 0; i < batch && list.length < count; i++) list.push(await measureOne(series));
            cpuMs[series.key] += mailwright.cpuTimeMs() - cpuBefore;
          }
        }
      });

      // Every subscriber got every message of its address exactly once, and nothing else.
      const problems = [];
      const perSeries = warmup + count;
      for (const series of SERIES.filter((entry) => entry.subscribers > 0)) {
        const wrong = series.ids.filter((id) => received.get(id) !== perSeries);
        if (wrong.length > 0) problems.push(`${wrong.length} of the ${series.label} received ${received.get(wrong[0]) ?? 0} frames instead of ${perSeries}`);
      }
      const stored = await mailwright.stats();
      if (stored.total !== perSeries * SERIES.length) problems.push(`Mailwright stored ${stored.total} of ${perSeries * SERIES.length} messages`);
      if (problems.length > 0) throw new Error(`fanout: invalid run: ${problems.join('; ')}`);

      const results = {};
      for (const series of SERIES) {
        const list = samples[series.key];
        results[series.key] = {
          label: series.label,
          subscribers: series.subscribers,
          reply: summarize(list.map((sample) => sample.reply)),
          last: series.subscribers > 0 ? summarize(list.map((sample) => sample.last)) : null,
          first: series.subscribers > 0 ? summarize(list.map((sample) => sample.first)) : null,
          cpuUsPerMessage: (cpuMs[series.key] * 1000) / list.length,
        };
      }
      const base = results.none.cpuUsPerMessage;
      const fanoutUs = (results.fifty.cpuUsPerMessage - base) / SUBSCRIBERS;
      return {
        data: { count, warmup, batch, subscribers: SUBSCRIBERS, results, fanoutCpuUsPerSubscriber: fanoutUs, verified: { stored: stored.total } },
        tables: [
          {
            title: `${this.title}: ${count} messages per series after ${warmup} warm-up`,
            columns: [
              { key: 'label', label: 'message to an address with', align: 'left' },
              { key: 'lastP50', label: 'send → last p50 ms' },
              { key: 'lastP95', label: 'p95' },
              { key: 'firstP50', label: 'send → first p50' },
              { key: 'replyP50', label: 'send → 250 p50' },
              { key: 'cpu', label: 'server CPU µs/msg' },
              { key: 'extra', label: '− no subscriber' },
            ],
            rows: SERIES.map((series) => {
              const r = results[series.key];
              return {
                label: r.label,
                lastP50: r.last ? num(r.last.p50) : '–',
                lastP95: r.last ? num(r.last.p95) : '–',
                firstP50: r.first ? num(r.first.p50) : '–',
                replyP50: num(r.reply.p50),
                cpu: num(r.cpuUsPerMessage, 0),
                extra: series.key === 'none' ? '' : num(r.cpuUsPerMessage - base, 0),
              };
            }),
            notes: [
              `${SUBSCRIBERS + 1} clients stay connected throughout (${SUBSCRIBERS} + 1 subscriptions, each filtered on its address); the series only change the recipient`,
              `fan-out cost: about ${num(fanoutUs, 1)} µs of server CPU per subscriber and message (CPU time read per batch, 10 ms resolution)`,
              `verified: every subscriber received every message to its address exactly once; Mailwright stored all ${stored.total} messages`,
              'the subscribers run in the driver process, next to the sender: the time of the last one includes reading the 49 frames before it',
            ],
          },
        ],
        targets: [],
      };
    } finally {
      transport?.close();
      for (const socket of sockets) socket.terminate();
      await mailwright?.stop();
    }
  },
};
