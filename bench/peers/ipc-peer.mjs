// The child side of the IPC protocol of lib/processes.mjs.
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

const CLOSE_TIMEOUT_MS = 3_000;

/**
 * Serves requests from the bench driver: `handlers[cmd](args)` answers `{ id, cmd, args }`.
 * `close` is always handled: it runs `onClose` (bounded in time) and exits; so do SIGTERM
 * and the driver going away. `profile-start`/`profile-stop` drive the V8 CPU profiler.
 */
export function serveRequests(handlers, onClose) {
  let profiler = null;
  const builtIn = {
    /** Starts the V8 CPU profiler, so that a profile covers the measured part only. */
    async 'profile-start'() {
      if (profiler) throw new Error('the profiler is already running');
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      return null;
    },
    /** Stops the profiler and writes the profile (.cpuprofile, for Chrome DevTools). */
    async 'profile-stop'({ file }) {
      if (!profiler) throw new Error('the profiler is not running');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = null;
      await writeFile(file, JSON.stringify(profile));
      return { file };
    },
  };
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(0), CLOSE_TIMEOUT_MS);
    try {
      await onClose();
    } finally {
      clearTimeout(force);
      process.exit(0);
    }
  };
  process.on('message', async (message) => {
    const { id, cmd, args } = message ?? {};
    if (cmd === 'close') {
      process.send?.({ id, ok: true, result: null });
      await close();
      return;
    }
    const handler = handlers[cmd] ?? builtIn[cmd];
    try {
      if (!handler) throw new Error(`unknown command "${cmd}"`);
      const result = await handler(args ?? {});
      process.send?.({ id, ok: true, result });
    } catch (error) {
      process.send?.({ id, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  });
  process.once('disconnect', () => void close());
  process.once('SIGTERM', () => void close());
}

/** Memory after full garbage collections (needs --expose-gc), so that RSS reflects live data. */
export async function settledMemoryUsage() {
  if (typeof globalThis.gc !== 'function') throw new Error('start the peer with --expose-gc');
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    // Let finalizers and freed external memory settle between collections.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  globalThis.gc();
  return process.memoryUsage();
}

/** Reports a start-up failure to the driver and exits. */
export function failStart(error) {
  const message = { type: 'error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  if (process.send) process.send(message, () => process.exit(1));
  else process.exit(1);
}
