// Scenario "faults": fault rules must not slow ingest. The pooled ingest of scenario "ingest"
// (smtp-source, 20 sessions, 10 KB messages), to Mailwright as it is and to Mailwright with
// 1,000 registered rules that never fire (scoped to other tests' recipients and senders, at
// MAIL, RCPT, DATA and end of data), each as a ratio against the bare smtp-server sink in the
// same round; the target compares the two ratios. Rounds alternate between the peers.
import { performance } from 'node:perf_hooks';
import { profiled, startMailwright, startSmtpServerSink } from '../lib/peers.mjs';
import { runSmtpSource } from '../lib/smtp-source.mjs';
import { median } from '../lib/stats.mjs';
import { num } from '../lib/report.mjs';
import { PAYLOAD_BYTES, SESSIONS } from './ingest.mjs';

const RUN_TIMEOUT_MS = 5 * 60_000;
const RULES = 1000;
/** The ratio with rules may fall at most 5% below the ratio without. */
const TARGET = 0.95;

/** Rules for other tests' recipients and senders: none matches the benchmark's mail. */
export function inactiveRules(count = RULES) {
  const stages = ['rcpt', 'rcpt', 'rcpt', 'rcpt', 'rcpt', 'rcpt', 'rcpt', 'data', 'end-of-data', 'mail'];
  return Array.from({ length: count }, (_, index) => {
    const at = stages[index % stages.length];
    const match = at === 'mail' ? { sender: `app-${index}@other.test` } : { recipient: `t-${index}@other.test` };
    return { at, action: { reply: { code: 451, text: '4.7.1 Try again later' } }, match };
  });
}

export default {
  name: 'faults',
  title: `Pooled ingest with ${RULES} inactive fault rules (smtp-source, ${SESSIONS} sessions, 10 KB messages)`,
  async run(ctx) {
    const messages = ctx.quick ? 2000 : 5000;
    const warmup = 1000;
    const rounds = ctx.quick ? 2 : 5;
    const peers = [];
    try {
      peers.push(await startMailwright(ctx));
      peers.push(await startMailwright(ctx, { name: 'mailwright-rules', label: `Mailwright, ${RULES} inactive rules`, options: { faults: inactiveRules() } }));
      peers.push(await startSmtpServerSink(ctx));
      const send = (peer, count) =>
        runSmtpSource({ host: peer.host, port: peer.port, sessions: SESSIONS, messages: count, length: PAYLOAD_BYTES, timeoutMs: RUN_TIMEOUT_MS });
      ctx.log(`warm-up: ${warmup} messages per peer`);
      for (const peer of peers) await send(peer, warmup);
      const samples = new Map(peers.map((peer) => [peer.name, []]));
      await profiled(ctx, 'faults', peers, async () => {
        for (let round = 0; round < rounds; round++) {
          const order = peers.map((_, i) => peers[(i + round) % peers.length]);
          for (const peer of order) {
            await peer.clear();
            ctx.log(`round ${round + 1}/${rounds}: ${messages} messages to ${peer.label}`);
            const cpuBefore = peer.cpuTimeMs();
            const started = performance.now();
            const run = await send(peer, messages);
            const cpuMs = peer.cpuTimeMs() - cpuBefore;
            const stats = await peer.stats();
            // Inactive rules must refuse nothing: every message arrived.
            if (stats && stats.total !== messages) throw new Error(`faults: ${peer.label} has ${stats.total} of ${messages} messages after the run`);
            samples
              .get(peer.name)
              .push({ messagesPerSecond: run.messagesPerSecond, durationMs: performance.now() - started, cpuUsPerMessage: (cpuMs * 1000) / messages });
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
      const base = results['smtp-server'].messagesPerSecond;
      const without = results.mailwright.messagesPerSecond / base;
      const withRules = results['mailwright-rules'].messagesPerSecond / base;
      return {
        data: { messages, warmup, rounds, rules: RULES, results, ratioWithout: without, ratioWithRules: withRules },
        tables: [
          {
            title: `${this.title}: ${messages} messages per round, ${rounds} round(s), median`,
            columns: [
              { key: 'label', label: 'peer', align: 'left' },
              { key: 'rate', label: 'msg/s' },
              { key: 'rounds', label: 'rounds (msg/s)', align: 'left' },
              { key: 'cpu', label: 'server CPU µs/msg' },
              { key: 'ratio', label: '÷ smtp-server sink' },
            ],
            rows: peers.map((peer) => {
              const r = results[peer.name];
              return {
                label: r.label,
                rate: num(r.messagesPerSecond, 0),
                rounds: r.rounds.join(' / '),
                cpu: num(r.cpuUsPerMessage, 0),
                ratio: `${num(r.messagesPerSecond / base)}×`,
              };
            }),
            notes: [
              `the rules: ${RULES} rejects scoped to recipients (RCPT, DATA, end of data) and senders (MAIL) that the benchmark's mail never uses; every message was accepted`,
            ],
          },
        ],
        targets: [
          {
            name: `pooled ingest ratio with ${RULES} inactive fault rules ÷ without`,
            value: withRules / without,
            limit: TARGET,
            comparison: '>=',
            unit: '×',
            detail: `${num(withRules)}× vs ${num(without)}× the smtp-server sink; CPU ${num(results['mailwright-rules'].cpuUsPerMessage, 0)} vs ${num(results.mailwright.cpuUsPerMessage, 0)} µs/msg`,
          },
        ],
      };
    } finally {
      await Promise.all(peers.map((peer) => peer.stop()));
    }
  },
};
