// The scenarios of `npm run bench`, in the order they run. A scenario is a module whose
// default export is { name, title, run(ctx) }; run() starts its own peers (each in its
// own process), stops them before it returns, and resolves with
//   { tables: [{ title, columns, rows, notes }], targets: [{ name, value, limit, comparison, unit, detail }], data }
// `ctx` is { quick, cpuProfileDir, log(message) }. To add one, write bench/scenarios/<name>.mjs
// and list it here.
import latency from './latency.mjs';
import waitLatency from './wait-latency.mjs';
import fanout from './fanout.mjs';
import ingest from './ingest.mjs';
import memory from './memory.mjs';
import load from './load.mjs';
import authentication from './authentication.mjs';
import faults from './faults.mjs';

export const scenarios = [latency, waitLatency, fanout, ingest, faults, authentication, memory, load];
