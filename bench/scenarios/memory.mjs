// Scenario "memory": what holding a full store costs. A fresh Mailwright (memory store,
// default retention of 10,000 messages) takes 10,000 messages of 10 KB over 20 sessions;
// then RSS is read after full garbage collections.
import { profiled, startMailwright } from '../lib/peers.mjs';
import { runSmtpSource } from '../lib/smtp-source.mjs';
import { MB, num } from '../lib/report.mjs';
import { PAYLOAD_BYTES, SESSIONS } from './ingest.mjs';

const MESSAGES = 10_000;
const RUN_TIMEOUT_MS = 5 * 60_000;
const RSS_TARGET_MB = 200;
const REST_MS = 6_000;

export default {
  name: 'memory',
  title: `Memory: ${MESSAGES.toLocaleString('en-US')} captured 10 KB messages in the memory store`,
  async run(ctx) {
    let mailwright = null;
    try {
      mailwright = await startMailwright(ctx, { execArgv: ['--expose-gc'] });
      const before = await mailwright.memory();
      ctx.log(`sending ${MESSAGES} messages`);
      const run = await profiled(ctx, 'memory', [mailwright], () =>
        runSmtpSource({
          host: mailwright.host,
          port: mailwright.port,
          sessions: SESSIONS,
          messages: MESSAGES,
          length: PAYLOAD_BYTES,
          timeoutMs: RUN_TIMEOUT_MS,
        }),
      );
      const stats = await mailwright.stats();
      if (stats.total !== MESSAGES) throw new Error(`memory: Mailwright holds ${stats.total} of ${MESSAGES} messages`);
      const after = await mailwright.memory();
      // The same server at rest, for comparison (an unbounded young generation grown for the burst
      // is kept until V8 sees allocation slow down, over about 5 s). The target is judged on `after`.
      await new Promise((resolve) => setTimeout(resolve, REST_MS));
      const rest = await mailwright.memory();

      const mb = (bytes) => bytes / MB;
      const rows = [
        ['RSS', before.rss, after.rss, rest.rss],
        ['V8 heap used', before.heapUsed, after.heapUsed, rest.heapUsed],
        ['V8 heap total', before.heapTotal, after.heapTotal, rest.heapTotal],
        ['external (incl. Buffers)', before.external, after.external, rest.external],
        ['ArrayBuffers (Buffers)', before.arrayBuffers, after.arrayBuffers, rest.arrayBuffers],
      ].map(([label, empty, full, atRest]) => ({
        label,
        empty: num(mb(empty), 1),
        full: num(mb(full), 1),
        perMessage: num((full - empty) / MESSAGES / 1000, 1),
        rest: num(mb(atRest), 1),
      }));
      return {
        data: { messages: MESSAGES, storedBytes: stats.bytes, before, after, rest, ingestMessagesPerSecond: run.messagesPerSecond },
        tables: [
          {
            title: `${this.title} (after GC)`,
            columns: [
              { key: 'label', label: '', align: 'left' },
              { key: 'empty', label: 'empty MB' },
              { key: 'full', label: 'full MB' },
              { key: 'perMessage', label: 'KB per message' },
              { key: 'rest', label: `full, ${REST_MS / 1000} s later MB` },
            ],
            rows,
            notes: [
              `verified: ${stats.total} messages stored, ${num(mb(stats.bytes), 1)} MB of raw message bytes (average ${num(stats.bytes / stats.total, 0)} bytes)`,
              `ingest while filling: ${num(run.messagesPerSecond, 0)} msg/s`,
              `"full" is measured right after the last message; "${REST_MS / 1000} s later" after a pause without mail`,
            ],
          },
        ],
        targets: [
          {
            name: `RSS holding ${MESSAGES.toLocaleString('en-US')} × 10 KB messages`,
            value: mb(after.rss),
            limit: RSS_TARGET_MB,
            comparison: '<=',
            unit: ' MB',
            detail: `${num(mb(after.rss - before.rss), 1)} MB above the empty server; raw bytes ${num(mb(stats.bytes), 1)} MB; ${num(mb(rest.rss), 1)} MB ${REST_MS / 1000} s later`,
          },
        ],
      };
    } finally {
      await mailwright?.stop();
    }
  },
};
