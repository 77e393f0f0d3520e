import { setFlagsFromString } from 'node:v8';

/**
 * Keeps V8's young generation at the size it starts with (two 1 MiB semi-spaces) for the rest
 * of the process. A server that stores every message it takes makes V8 grow the young
 * generation to its maximum (about 32 MiB) during a burst of mail and keep it until allocation
 * has been slow for a few seconds; bounded, a full store holds about 30 MB less RSS, and
 * ingest measured no slower (docs/benchmarks.md). Only the server process calls this: the
 * in-process server of the SDK runs in the user's test process, whose heap is not ours to tune.
 *
 * `--max-semi-space-size` is read only when the heap is set up; the growth factor is read each
 * time the young generation would grow, so it takes effect when set at run time. Starting a
 * worker thread (the parse and verdict workers) sets V8's flags anew from the command line,
 * which undoes it: it is set again as each worker comes online.
 */
export function boundYoungGeneration(): void {
  const bound = (): void => setFlagsFromString('--semi-space-growth-factor=1');
  bound();
  if (bounded) return;
  bounded = true;
  process.on('worker', (worker) => worker.once('online', bound));
}

let bounded = false;
