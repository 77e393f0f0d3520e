// Scenario "authentication": pooled ingest of 10 KB messages that each carry a valid DKIM
// signature (RSA-2048, made by nodemailer's dkim option), with SPF and DMARC records for the
// sender in the mock zone, over 20 connections, against the same run's bare smtp-server sink.
// Mailwright verifies every message after its 250; we measure messages per second until the
// last 250, and the time from each 250 to its verdicts being recorded (every one must pass).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
import { createDkimKey, dmarcRecord, spfAllowRecord } from '@mailwright/server';
import { startMailwright, startSmtpServerSink, profiled } from '../lib/peers.mjs';
import { createTransport } from '../lib/nodemailer.mjs';
import { median, percentile } from '../lib/stats.mjs';
import { num } from '../lib/report.mjs';

const SESSIONS = 20;
const PAYLOAD_BYTES = 10 * 1024;
const THROUGHPUT_TARGET_RATIO = 0.6;
const VERDICT_P50_TARGET_MS = 20;
const CLIENT_IP = '203.0.113.7';
const VERDICTS_TIMEOUT_MS = 120_000;

/** A 10 KB message signed once; every send carries the same valid signature. */
async function signedMessage(key) {
  const line = 'The quick brown fox jumps over the lazy dog, again and again and again.';
  const text = Array.from({ length: Math.ceil(PAYLOAD_BYTES / (line.length + 2)) }, (_, index) => `${String(index).padStart(4, '0')} ${line}`).join('\r\n');
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows', dkim: key.nodemailer });
  const { message } = await transport.sendMail({ from: 'Alice <alice@example.com>', to: 'bob@example.net', subject: 'Signed benchmark', text });
  return message;
}

/** Sends `count` copies of `raw` over `SESSIONS` pooled connections; resolves with messages per second. */
async function sendPooled(peer, raw, count) {
  const transports = Array.from({ length: SESSIONS }, () => createTransport(peer.host, peer.port, { pool: true }));
  try {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      transports.map(async (transport) => {
        while (next < count) {
          next += 1;
          await transport.sendMail({ envelope: { from: 'alice@example.com', to: ['bob@example.net'] }, raw });
        }
      }),
    );
    return count / ((performance.now() - started) / 1000);
  } finally {
    for (const transport of transports) transport.close();
  }
}

export default {
  name: 'authentication',
  title: `DKIM-signed ingest with verification (nodemailer, ${SESSIONS} pooled connections, 10 KB messages)`,
  async run(ctx) {
    const messages = ctx.quick ? 1000 : 3000;
    const warmup = 300;
    const rounds = ctx.quick ? 1 : 3;
    const dir = await mkdtemp(join(tmpdir(), 'mailwright-bench-auth-'));
    const peers = [];
    try {
      const key = await createDkimKey({ domain: 'example.com', selector: 's1' });
      const zoneFile = join(dir, 'bench.zone');
      const records = [key.record, spfAllowRecord('example.com', CLIENT_IP), dmarcRecord('example.com', 'reject')];
      await writeFile(zoneFile, records.map((record) => `${record.name} ${record.type} ${record.value}`).join('\n'));
      const raw = await signedMessage(key);

      const verifying = await startMailwright(ctx, { name: 'mailwright', label: 'Mailwright, verifying', options: { dnsZone: zoneFile, clientIp: CLIENT_IP } });
      peers.push(verifying);
      peers.push(await startMailwright(ctx, { name: 'mailwright-off', label: 'Mailwright, --authentication off', options: { authentication: 'off' } }));
      const bare = await startSmtpServerSink(ctx);
      peers.push(bare);

      const settle = async () => {
        const deadline = performance.now() + VERDICTS_TIMEOUT_MS;
        for (;;) {
          const { waiting } = await verifying.request('verdicts');
          if (waiting === 0) return;
          if (performance.now() > deadline) throw new Error(`authentication: ${waiting} messages still without verdicts`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };

      ctx.log(`warm-up: ${warmup} messages per peer`);
      for (const peer of peers) await sendPooled(peer, raw, warmup);
      await settle();
      await verifying.request('verdicts', { reset: true });

      const samples = new Map(peers.map((peer) => [peer.name, []]));
      const verdictTimes = [];
      await profiled(ctx, 'authentication', peers, async () => {
        for (let round = 0; round < rounds; round++) {
          const order = peers.map((_, i) => peers[(i + round) % peers.length]);
          for (const peer of order) {
            await peer.clear();
            ctx.log(`round ${round + 1}/${rounds}: ${messages} signed messages to ${peer.label}`);
            const rate = await sendPooled(peer, raw, messages);
            samples.get(peer.name).push(rate);
            if (peer === verifying) {
              await settle();
              const { times, dkim } = await verifying.request('verdicts', { reset: true });
              if (times.length !== messages) throw new Error(`authentication: ${times.length} of ${messages} messages got verdicts`);
              const failed = dkim.filter((result) => result !== 'pass').length;
              if (failed > 0) throw new Error(`authentication: ${failed} of ${messages} signatures did not pass (${dkim.find((result) => result !== 'pass')})`);
              verdictTimes.push(...times);
            }
          }
        }
      });

      // One message at a time: the time a test waits for a verdict, without a burst queued ahead of it.
      const single = ctx.quick ? 100 : 300;
      ctx.log(`${single} signed messages one at a time to ${verifying.label}`);
      await verifying.clear();
      await verifying.request('verdicts', { reset: true });
      const oneByOne = createTransport(verifying.host, verifying.port, { pool: true });
      try {
        for (let index = 0; index < single; index++) {
          await oneByOne.sendMail({ envelope: { from: 'alice@example.com', to: ['bob@example.net'] }, raw });
          await settle();
        }
      } finally {
        oneByOne.close();
      }
      const alone = (await verifying.request('verdicts', { reset: true })).times.sort((a, b) => a - b);
      if (alone.length !== single) throw new Error(`authentication: ${alone.length} of ${single} messages sent one at a time got verdicts`);
      const latency = { p50: percentile(alone, 50), p90: percentile(alone, 90), p99: percentile(alone, 99), max: alone.at(-1), count: alone.length };

      const results = Object.fromEntries(
        peers.map((peer) => [peer.name, { label: peer.label, rounds: samples.get(peer.name), rate: median(samples.get(peer.name)) }]),
      );
      const base = results['smtp-server'].rate;
      const sorted = [...verdictTimes].sort((a, b) => a - b);
      const verdicts = {
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: sorted.at(-1) ?? null,
        count: sorted.length,
      };
      return {
        data: { messages, warmup, rounds, sessions: SESSIONS, payloadBytes: raw.length, results, verdicts, latency },
        tables: [
          {
            title: `${this.title}: ${messages} messages per round, ${rounds} round(s), median`,
            columns: [
              { key: 'label', label: 'peer', align: 'left' },
              { key: 'rate', label: 'msg/s' },
              { key: 'rounds', label: 'rounds (msg/s)', align: 'left' },
              { key: 'ratio', label: '÷ smtp-server sink' },
            ],
            rows: peers.map((peer) => ({
              label: results[peer.name].label,
              rate: num(results[peer.name].rate, 0),
              rounds: results[peer.name].rounds.map((rate) => num(rate, 0)).join(' / '),
              ratio: `${num(results[peer.name].rate / base)}×`,
            })),
            notes: [
              `each message ${raw.length} bytes with one rsa-sha256 DKIM signature (relaxed/relaxed); SPF and DMARC records in the mock zone; every one of the ${verdicts.count} verdicts measured was dkim=pass`,
              `250 → verdicts recorded, one message at a time (${latency.count}): p50 ${num(latency.p50, 1)} ms, p90 ${num(latency.p90, 1)} ms, p99 ${num(latency.p99, 1)} ms, max ${num(latency.max, 1)} ms`,
              `250 → verdicts recorded during the bursts (verdicts queue behind the burst): p50 ${num(verdicts.p50, 1)} ms, p90 ${num(verdicts.p90, 1)} ms, p99 ${num(verdicts.p99, 1)} ms, max ${num(verdicts.max, 1)} ms`,
            ],
          },
        ],
        targets: [
          {
            name: 'DKIM-signed pooled ingest with verification, Mailwright ÷ bare smtp-server sink',
            value: results.mailwright.rate / base,
            limit: THROUGHPUT_TARGET_RATIO,
            comparison: '>=',
            unit: '×',
            detail: `${num(results.mailwright.rate, 0)} vs ${num(base, 0)} msg/s (verification off: ${num(results['mailwright-off'].rate, 0)} msg/s)`,
          },
          {
            name: '250 → verdicts available, p50 (one message at a time)',
            value: latency.p50,
            limit: VERDICT_P50_TARGET_MS,
            comparison: '<=',
            unit: 'ms',
            detail: `p90 ${num(latency.p90, 1)} ms, p99 ${num(latency.p99, 1)} ms over ${latency.count} messages; during the bursts p50 ${num(verdicts.p50, 1)} ms`,
          },
        ],
      };
    } finally {
      await Promise.all(peers.map((peer) => peer.stop()));
      await rm(dir, { recursive: true, force: true });
    }
  },
};
