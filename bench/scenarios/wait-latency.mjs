// Scenario "wait-latency": what a test pays between handing a message to its mailer and
// holding it through the SDK: `sendMail` on a pooled nodemailer transport (TCP_NODELAY),
// then `inbox.waitForMessage()` until it resolves. The SDK rides the WebSocket stream and,
// once the message is announced, fetches its detail over HTTP; both are part of the
// measured path. Mailwright runs in its own process; the SDK and nodemailer run here.
//
// Series, interleaved in batches:
//   fresh   a new `mail.inbox()` per message; send, then wait (the pattern of the README):
//           the subscription starts after the 250 reply and finds the message by replay
//   armed   a new inbox per message; the wait starts before the send: the live path
//   shared  one inbox per batch; send, then wait for the message's own subject
// Then `fresh` again with the store filled to its retention limit by other mail, since a
// wait with replay looks through the stored messages. Between the two, the parts of the
// path are timed alone: the detail fetch of the SDK, and a plain HTTP round trip.
import { performance } from 'node:perf_hooks';
import { createTransport } from '../lib/nodemailer.mjs';
import { profiled, startMailwright } from '../lib/peers.mjs';
import { runSmtpSource } from '../lib/smtp-source.mjs';
import { summarize } from '../lib/stats.mjs';
import { num } from '../lib/report.mjs';

const P50_TARGET_MS = 3;
const WAIT_TIMEOUT_MS = 10_000;
const SCENARIO_TIMEOUT_MS = 5 * 60_000;
const FILL_TIMEOUT_MS = 2 * 60_000;
// The server's default retention (--max-messages).
const FULL_STORE = 10_000;
const FILL_PAYLOAD_BYTES = 1024;
const FILL_SESSIONS = 10;

const SERIES = {
  fresh: 'fresh inbox per message, send then wait',
  armed: 'fresh inbox per message, wait started before the send',
  shared: 'one inbox per batch, send then wait for its subject',
  full: `fresh inbox per message, send then wait; store full (${FULL_STORE.toLocaleString('en-US')} messages)`,
};

function partRow(samples) {
  const summary = summarize(samples);
  return { p50: num(summary.p50), p95: num(summary.p95) };
}

export default {
  name: 'wait-latency',
  title: 'Send → waitForMessage resolved (SDK over loopback, pooled nodemailer with TCP_NODELAY)',
  async run(ctx) {
    const count = ctx.quick ? 60 : 300;
    const warmup = ctx.quick ? 10 : 30;
    const batch = ctx.quick ? 10 : 25;
    const deadline = Date.now() + SCENARIO_TIMEOUT_MS;
    const { Mailwright } = await import('@mailwright/sdk');

    let mailwright = null;
    let mail = null;
    let transport = null;
    try {
      mailwright = await startMailwright(ctx);
      mail = await Mailwright.connect(mailwright.ready.url);
      transport = createTransport(mailwright.host, mailwright.port, { pool: true });

      let sent = 0;
      let sharedInbox = null;
      // One message of a series, timed: before sendMail → 250 reply → waitForMessage resolved.
      const measureOne = async (key) => {
        sent += 1;
        const subject = `wait-latency ${key} [${sent}]`;
        const inbox = key === 'shared' ? sharedInbox : mail.inbox();
        const waitOptions = { timeout: WAIT_TIMEOUT_MS, ...(key === 'shared' ? { subject } : {}) };
        const started = performance.now();
        const armed = key === 'armed' ? inbox.waitForMessage(waitOptions) : null;
        // Keep an early rejection from being reported as unhandled while the send runs.
        armed?.catch(() => undefined);
        const info = await transport.sendMail({ from: 'bench@localhost', to: inbox.address, subject, text: 'Hello from the Mailwright benchmark.\n' });
        const replied = performance.now();
        const message = await (armed ?? inbox.waitForMessage(waitOptions));
        const resolved = performance.now();
        if (info.accepted.length !== 1) throw new Error(`wait-latency: message not accepted (${info.response})`);
        if (message.subject !== subject || !message.envelope.rcptTo.includes(inbox.address)) {
          throw new Error(
            `wait-latency: waitForMessage resolved with "${message.subject}" to ${message.envelope.rcptTo.join(', ')}, expected "${subject}" to ${inbox.address}`,
          );
        }
        return { total: resolved - started, afterReply: resolved - replied, send: replied - started };
      };
      const runSeries = async (keys, label) => {
        const samples = Object.fromEntries(keys.map((key) => [key, []]));
        ctx.log(`warm-up: ${warmup} messages per series`);
        for (const key of keys) {
          sharedInbox = mail.inbox();
          for (let i = 0; i < warmup; i++) await measureOne(key);
        }
        ctx.log(`measuring ${label}: ${count} messages per series, interleaved in batches of ${batch}`);
        await profiled(ctx, 'wait-latency', [mailwright], async () => {
          for (let round = 0; keys.some((key) => samples[key].length < count); round++) {
            if (Date.now() > deadline) throw new Error(`wait-latency: not done within ${SCENARIO_TIMEOUT_MS / 1000} s`);
            const order = keys.map((_, i) => keys[(i + round) % keys.length]);
            for (const key of order) {
              sharedInbox = mail.inbox();
              for (let i = 0; i < batch && samples[key].length < count; i++) samples[key].push(await measureOne(key));
            }
          }
        });
        return samples;
      };

      const samples = await runSeries(['fresh', 'armed', 'shared'], 'with a store of a few hundred messages');
      const storedBefore = await mailwright.stats();
      const expected = (warmup + count) * 3;
      if (storedBefore.total !== expected) throw new Error(`wait-latency: Mailwright stored ${storedBefore.total} of ${expected} messages`);

      // The parts alone, on messages of the series: what the SDK does once the stream has
      // announced the message (GET /messages/:id, which parses the raw message for its
      // bodies and headers), and an HTTP round trip that parses nothing (the raw bytes).
      ctx.log(`timing the parts: ${count} detail fetches and raw fetches`);
      const { messages: stored } = await mail.messages.list({ limit: count });
      const parts = { detail: [], raw: [] };
      for (const message of stored) {
        let started = performance.now();
        await mail.messages.get(message.id);
        parts.detail.push(performance.now() - started);
        started = performance.now();
        const response = await globalThis.fetch(`${mail.url}/api/v1/messages/${encodeURIComponent(message.id)}/raw`);
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`wait-latency: GET /messages/${message.id}/raw answered ${response.status}`);
        parts.raw.push(performance.now() - started);
      }

      ctx.log(`filling the store to ${FULL_STORE} messages`);
      await runSmtpSource({
        host: mailwright.host,
        port: mailwright.port,
        sessions: FILL_SESSIONS,
        messages: FULL_STORE,
        length: FILL_PAYLOAD_BYTES,
        timeoutMs: FILL_TIMEOUT_MS,
      });
      const filled = await mailwright.stats();
      if (filled.total !== FULL_STORE) throw new Error(`wait-latency: the store holds ${filled.total} messages after filling, expected ${FULL_STORE}`);
      Object.assign(samples, await runSeries(['full'], `with ${FULL_STORE} messages stored`));
      const storedAfter = await mailwright.stats();

      const results = {};
      for (const [key, list] of Object.entries(samples)) {
        results[key] = {
          label: SERIES[key],
          total: summarize(list.map((sample) => sample.total)),
          afterReply: summarize(list.map((sample) => sample.afterReply)),
          send: summarize(list.map((sample) => sample.send)),
        };
      }
      const keys = Object.keys(results);
      const target = (name, key) => ({
        name,
        value: results[key].total.p50,
        limit: P50_TARGET_MS,
        comparison: '<=',
        unit: ' ms',
        detail: `p95 ${num(results[key].total.p95)} ms; 250 reply → resolved p50 ${num(results[key].afterReply.p50)} ms`,
      });
      return {
        data: {
          count,
          warmup,
          batch,
          results,
          parts: { detail: summarize(parts.detail), raw: summarize(parts.raw) },
          verified: { storedBeforeFill: storedBefore.total, storedAtEnd: storedAfter.total },
        },
        tables: [
          {
            title: `${this.title}: ${count} messages per series after ${warmup} warm-up`,
            columns: [
              { key: 'label', label: 'series', align: 'left' },
              { key: 'p50', label: 'p50 ms' },
              { key: 'p95', label: 'p95 ms' },
              { key: 'p99', label: 'p99 ms' },
              { key: 'sendP50', label: 'sendMail p50' },
              { key: 'afterP50', label: '250 → resolved p50' },
              { key: 'afterP95', label: 'p95' },
            ],
            rows: keys.map((key) => {
              const r = results[key];
              return {
                label: r.label,
                p50: num(r.total.p50),
                p95: num(r.total.p95),
                p99: num(r.total.p99),
                sendP50: num(r.send.p50),
                afterP50: num(r.afterReply.p50),
                afterP95: num(r.afterReply.p95),
              };
            }),
            notes: [
              'measured from just before sendMail until waitForMessage resolved, including the fetch of the message detail',
              `verified: each wait resolved with the message sent, to its inbox; Mailwright stored all ${storedBefore.total} messages of the first series`,
            ],
          },
          {
            title: `The parts alone (${count} messages of the series above, store of ${storedBefore.total} messages)`,
            columns: [
              { key: 'label', label: 'request', align: 'left' },
              { key: 'p50', label: 'p50 ms' },
              { key: 'p95', label: 'p95 ms' },
            ],
            rows: [
              { label: 'SDK mail.messages.get(id): GET /messages/:id (the detail, parsed from the raw message)', ...partRow(parts.detail) },
              { label: 'GET /messages/:id/raw (an HTTP round trip that parses nothing)', ...partRow(parts.raw) },
            ],
            notes: ['250 → resolved = the subscription (with replay of stored matches) + the detail fetch'],
          },
        ],
        targets: [
          target('send → waitForMessage p50 (fresh inbox, send then wait)', 'fresh'),
          target('  same, wait started before the send', 'armed'),
          target('  same, one inbox per batch, filtered by subject', 'shared'),
          target(`  same, store full (${FULL_STORE.toLocaleString('en-US')} messages)`, 'full'),
        ],
      };
    } finally {
      transport?.close();
      await mail?.close();
      await mailwright?.stop();
    }
  },
};
