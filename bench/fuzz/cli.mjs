#!/usr/bin/env node
// `npm run fuzz`: the SMTP command fuzzer and the MIME generator against a real Mailwright,
// then every capture read back through the API (bench/fuzz/run-fuzz.mjs). Prints a summary
// and exits with status 1 when a problem was found. The same seed replays the same run.
//
//   npm run fuzz -- [--seed <n>] [--lines <n>] [--messages <n>] [--concurrency <n>] [--json]
import { parseArgs } from 'node:util';
import { installCleanupHandlers } from '../lib/processes.mjs';
import { runFuzz } from './run-fuzz.mjs';

const USAGE = `Usage: npm run fuzz -- [options]

  --seed <n>          seed of the generators (default: random; printed, to replay a run)
  --lines <n>         SMTP command lines to write (default 100000)
  --messages <n>      MIME messages to send (default 2000)
  --concurrency <n>   sessions at a time (default 8)
  --max-message-bytes <n>  largest generated message (default 131072)
  --time-limit <s>    stop sending after this many seconds (default 300)
  --json              print the summary as JSON
  --help              this text`;

function positive(name, value) {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`--${name} must be a non-negative integer, not "${value}"`);
  return number;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      seed: { type: 'string' },
      lines: { type: 'string', default: '100000' },
      messages: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '8' },
      'max-message-bytes': { type: 'string', default: String(128 * 1024) },
      'time-limit': { type: 'string', default: '300' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }));
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  values.seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positive('seed', values.seed);
  for (const name of ['lines', 'messages', 'concurrency', 'max-message-bytes', 'time-limit']) values[name] = positive(name, values[name]);
  if (values.concurrency < 1) throw new Error('--concurrency must be at least 1');
} catch (error) {
  console.error(`${error.message}\n\n${USAGE}`);
  process.exit(2);
}

installCleanupHandlers();
console.log(`fuzz: seed ${values.seed}, ${values.lines} SMTP lines, ${values.messages} MIME messages, concurrency ${values.concurrency}`);
const { summary, problems } = await runFuzz({
  seed: values.seed,
  lines: values.lines,
  messages: values.messages,
  concurrency: values.concurrency,
  maxMessageBytes: values['max-message-bytes'],
  timeLimitMs: values['time-limit'] * 1000,
  log: (message) => console.log(`  ${message}`),
});

if (values.json) console.log(JSON.stringify({ summary, problems }, null, 2));
else {
  const f = (n, digits = 1) => Number(n).toFixed(digits);
  const { smtp, mime, api, health } = summary;
  console.log('');
  if (smtp) {
    console.log(`SMTP   ${smtp.linesWritten} lines (${f(smtp.bytesWritten / 1e6)} MB) in ${smtp.sessions} sessions, ${f(smtp.seconds)} s`);
    console.log(
      `       replies 2xx ${smtp.replies['2xx']}, 3xx ${smtp.replies['3xx']}, 4xx ${smtp.replies['4xx']}, 5xx ${smtp.replies['5xx']}; STARTTLS upgrades ${smtp.tlsUpgrades}`,
    );
    console.log(
      `       closed by the server early ${smtp.closedEarly}, not closed after QUIT ${smtp.notClosedAfterQuit}, connect errors ${smtp.connectErrors}`,
    );
    if (smtp.notClosedSessions.length > 0)
      console.log(`       sessions not closed after QUIT: ${smtp.notClosedSessions.map((entry) => `#${entry.index} (${entry.transport})`).join(', ')}`);
  }
  if (mime) {
    console.log(
      `MIME   ${mime.generated} messages (${f(mime.bytes / 1e6)} MB), ${mime.accepted} accepted, ${mime.rejected.length} refused, ${f(mime.seconds)} s`,
    );
    console.log(
      `       shapes: ${Object.entries(mime.shapes)
        .map(([shape, n]) => `${shape} ${n}`)
        .join(', ')}`,
    );
  }
  if (api) {
    console.log(`API    ${api.requests} requests over ${api.swept} of ${api.messages} messages and ${api.sessions} sessions, ${f(api.seconds)} s`);
    console.log(
      `       2xx ${api.status['2xx']}, 4xx ${api.status['4xx']}, 5xx ${api.status['5xx']}, failed ${api.status.failed}; slowest ${api.slowest.ms} ms (${api.slowest.path})`,
    );
  }
  if (health) console.log(`health ${health.samples} samples: p50 ${f(health.p50)} ms, p99 ${f(health.p99)} ms, max ${f(health.max)} ms`);
  if (health)
    console.log(
      `       by phase: ${Object.entries(health.byPhase)
        .map(([phase, h]) => `${phase} p99 ${f(h.p99)} ms, max ${f(h.max)} ms (${h.samples})`)
        .join('; ')}`,
    );
  if (health)
    console.log(
      `       server event-loop delay: ${Object.entries(health.serverLoopDelay)
        .map(([phase, d]) => (d ? `${phase} p99 ${f(d.p99)} ms, max ${f(d.max)} ms` : `${phase} ?`))
        .join('; ')}`,
    );
  if (summary.rssMb !== undefined) console.log(`server RSS after the run (after GC): ${summary.rssMb} MB`);
  console.log(`total  ${f(summary.seconds)} s`);
}
if (problems.length > 0) {
  console.log(`\n${problems.length} problem(s), seed ${values.seed}:`);
  for (const problem of problems.slice(0, 50)) console.log(`  - ${problem}`);
  process.exit(1);
}
console.log(`\nno problems (seed ${values.seed})`);
