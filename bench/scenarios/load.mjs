// Scenario "load": many senders at once while idle connections are held open. 1,000 idle
// connections (greeted, then silent) come from other loopback addresses than the senders
// (127.0.0.2 … 127.0.0.5, 250 each), as idle hogs from a few hosts would, so that a per-address
// connection cap applies to them and not to the senders; then 500 concurrent senders, half of
// them upgrading with STARTTLS, each send one message per round on a new connection
// (nodemailer, no pool). The same rounds run first without the idle connections, for
// comparison. Every send must be acknowledged and stored; the report gives the send latency
// and the server's peak RSS (VmHWM).
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { createTransport } from '../lib/nodemailer.mjs';
import { profiled, startMailwright } from '../lib/peers.mjs';
import { summarize } from '../lib/stats.mjs';
import { MB, num } from '../lib/report.mjs';

const SENDERS = 500;
const IDLE_CONNECTIONS = 1_000;
const IDLE_ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const GREETING_TIMEOUT_MS = 30_000;
// Each idle connection and each sender holds a descriptor here and one in the server.
const FILE_DESCRIPTORS_NEEDED = 2 * (SENDERS + IDLE_CONNECTIONS) + 200;

/** The peak resident set size of a process (VmHWM), in bytes; null without /proc. */
function peakRss(pid) {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Opens an idle connection from `localAddress` and waits for the greeting. */
function openIdle(host, port, localAddress) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, localAddress });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`idle connection from ${localAddress}: no greeting within ${GREETING_TIMEOUT_MS} ms`));
    }, GREETING_TIMEOUT_MS);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`idle connection from ${localAddress}: ${error.message}`));
    });
    socket.once('data', (data) => {
      clearTimeout(timer);
      const greeting = data.toString('latin1');
      if (!greeting.startsWith('220')) {
        socket.destroy();
        reject(new Error(`idle connection from ${localAddress} refused: ${greeting.trim()}`));
        return;
      }
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

/** `rounds` rounds of SENDERS concurrent sends; resolves with the latencies (ms) and refusals. */
async function sendRounds(mailwright, rounds, label) {
  const samples = [];
  const tlsSamples = [];
  const refused = [];
  const senders = Array.from({ length: SENDERS }, (_, i) => ({
    starttls: i % 2 === 1,
    transport: createTransport(mailwright.host, mailwright.port, i % 2 === 1 ? { tls: { ca: mailwright.ca } } : {}),
  }));
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      senders.map(async (sender, i) => {
        const started = performance.now();
        try {
          const info = await sender.transport.sendMail({
            from: `sender-${i}@load.test`,
            to: `${label}@example.test`,
            subject: `${label} ${round}/${i}${sender.starttls ? ' (STARTTLS)' : ''}`,
            text: 'load check\n'.repeat(20),
          });
          if (info.accepted.length !== 1) refused.push(`${i}: ${info.response}`);
          else (sender.starttls ? tlsSamples : samples).push(performance.now() - started);
        } catch (error) {
          refused.push(`${i}: ${error.message}`);
        }
      }),
    );
  }
  for (const sender of senders) sender.transport.close();
  return { plain: samples, starttls: tlsSamples, all: [...samples, ...tlsSamples], refused };
}

/** Fails early, with the fix, when this process may not hold the descriptors the scenario needs. */
function checkDescriptorLimit() {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
    if (soft && soft < FILE_DESCRIPTORS_NEEDED)
      return `the load scenario needs ${FILE_DESCRIPTORS_NEEDED} open files; raise the limit (ulimit -n ${FILE_DESCRIPTORS_NEEDED}), it is ${soft}`;
  } catch {
    // No /proc: nothing to check.
  }
  return null;
}

export default {
  name: 'load',
  title: `Load: ${SENDERS} concurrent senders (half STARTTLS) with ${IDLE_CONNECTIONS.toLocaleString('en-US')} idle connections open`,
  async run(ctx) {
    const rounds = ctx.quick ? 2 : 6;
    const limitProblem = checkDescriptorLimit();
    if (limitProblem) throw new Error(`load: ${limitProblem}`);
    const idle = [];
    let mailwright = null;
    try {
      mailwright = await startMailwright(ctx);
      const { host, port } = mailwright;

      ctx.log(`baseline: ${rounds} rounds of ${SENDERS} concurrent sends, no idle connections`);
      const baseline = await sendRounds(mailwright, rounds, 'baseline');

      ctx.log(`opening ${IDLE_CONNECTIONS} idle connections from ${IDLE_ADDRESSES.join(', ')}`);
      for (let i = 0; i < IDLE_CONNECTIONS; i += 50) {
        const batch = Array.from({ length: Math.min(50, IDLE_CONNECTIONS - i) }, (_, j) =>
          openIdle(host, port, IDLE_ADDRESSES[(i + j) % IDLE_ADDRESSES.length]),
        );
        idle.push(...(await Promise.all(batch)));
      }

      ctx.log(`loaded: ${rounds} rounds of ${SENDERS} concurrent sends while they stay open`);
      const loaded = await profiled(ctx, 'load', [mailwright], () => sendRounds(mailwright, rounds, 'loaded'));
      const idleStillOpen = idle.filter((socket) => !socket.destroyed && socket.readyState === 'open').length;
      const rss = peakRss(mailwright.pid);

      const stats = await mailwright.stats();
      const starttls = await mailwright.stats({ filter: { tls: 'starttls' } });
      const problems = [];
      const refused = [...baseline.refused, ...loaded.refused];
      const acknowledged = 2 * rounds * SENDERS - refused.length;
      // Refused sends show as a missed target; what was acknowledged must be stored.
      if (stats.total !== acknowledged) problems.push(`Mailwright stored ${stats.total} of ${acknowledged} acknowledged messages`);
      if (refused.length === 0 && starttls.total !== acknowledged / 2)
        problems.push(`Mailwright recorded ${starttls.total} of ${acknowledged / 2} messages as STARTTLS`);
      if (problems.length > 0) throw new Error(`load: ${problems.join('; ')}`);

      const base = summarize(baseline.all);
      const load = summarize(loaded.all);
      const row = (label, s) => ({ label, n: s.n, p50: num(s.p50), p95: num(s.p95), p99: num(s.p99), max: num(s.max) });
      return {
        data: {
          senders: SENDERS,
          idleConnections: IDLE_CONNECTIONS,
          idleAddresses: IDLE_ADDRESSES,
          rounds,
          baseline: base,
          loaded: load,
          idleStillOpen,
          peakRssBytes: rss,
          stored: stats.total,
          storedStarttls: starttls.total,
        },
        tables: [
          {
            title: `${this.title}: ${rounds} rounds, one message per sender per round, a new connection each`,
            columns: [
              { key: 'label', label: '', align: 'left' },
              { key: 'n', label: 'sends' },
              { key: 'p50', label: 'p50 ms' },
              { key: 'p95', label: 'p95 ms' },
              { key: 'p99', label: 'p99 ms' },
              { key: 'max', label: 'max ms' },
            ],
            rows: [
              row('no idle connections', base),
              row('  plaintext', summarize(baseline.plain)),
              row('  STARTTLS', summarize(baseline.starttls)),
              row(`${IDLE_CONNECTIONS} idle connections open`, load),
              row('  plaintext', summarize(loaded.plain)),
              row('  STARTTLS', summarize(loaded.starttls)),
            ],
            notes: [
              `verified: ${acknowledged} of ${2 * rounds * SENDERS} sends acknowledged; Mailwright stored ${stats.total} messages, ${starttls.total} recorded as STARTTLS`,
              `idle connections still open after the loaded rounds: ${idleStillOpen} of ${IDLE_CONNECTIONS} (${IDLE_CONNECTIONS / IDLE_ADDRESSES.length} from each of ${IDLE_ADDRESSES.join(', ')}; senders from 127.0.0.1)`,
              `server peak RSS (VmHWM): ${rss === null ? 'unknown (no /proc)' : `${num(rss / MB, 1)} MB`}`,
              'latency: from sendMail() to the 250 after DATA, connect and (for half of the senders) the TLS handshake included;',
              'all senders start at once and share one client process, so the latency is mostly queueing for CPU on both sides',
            ],
          },
        ],
        targets: [
          {
            name: `sends acknowledged, ${SENDERS} concurrent senders with ${IDLE_CONNECTIONS.toLocaleString('en-US')} idle connections`,
            value: (100 * loaded.all.length) / (rounds * SENDERS),
            limit: 100,
            comparison: '>=',
            unit: ' %',
            detail: `${refused.length > 0 ? `${loaded.refused.length} refused (first: ${refused[0]}); ` : ''}p99 ${num(load.p99)} ms (without idle connections ${num(base.p99)} ms); peak RSS ${rss === null ? '?' : `${num(rss / MB, 0)} MB`}; idle still open ${idleStillOpen}`,
          },
        ],
      };
    } finally {
      for (const socket of idle) socket.destroy();
      await mailwright?.stop();
    }
  },
};
