// Mailwright as a bench peer: the real server (createMailwright, memory store unless told) in its own
// process, with every listener on a free loopback port. `watched` follows the store and
// listens for new messages in the process, as a stream subscription or a waiting test does:
// the store then reads every message as it arrives instead of when it is first asked for.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { boundYoungGeneration } from '../../apps/server/dist/bound-young-generation.js';
import { failStart, serveRequests, settledMemoryUsage } from './ipc-peer.mjs';

// The process is set up as the `mailwright` CLI sets up its own, before the server is loaded.
boundYoungGeneration();
const { createMailwright } = await import('@mailwright/server');

const { options = {}, watched = false } = JSON.parse(process.argv[2] ?? '{}');

try {
  const mailwright = await createMailwright({ host: '127.0.0.1', smtpPort: 0, smtpsPort: 0, httpPort: 0, logger: false, ...options });
  const { store } = mailwright;
  if (watched) {
    store.follow();
    store.on('message', () => undefined);
  }
  // Time from the 250 (the message stored) to its verdicts being recorded, per message. The
  // SMTP side and the verdict jobs call the store's methods by name, so wrapping them here sees both.
  const storedAt = new Map();
  const verdictMs = [];
  const addMessage = store.addMessage.bind(store);
  const setAuthentication = store.setAuthentication.bind(store);
  store.addMessage = async (message) => {
    const added = await addMessage(message);
    storedAt.set(added.id, performance.now());
    return added;
  };
  store.setAuthentication = (id, authentication) => {
    const at = storedAt.get(id);
    if (at !== undefined && authentication.status === 'done') {
      storedAt.delete(id);
      verdictMs.push({ ms: performance.now() - at, dkim: authentication.dkim[0]?.result ?? 'none' });
    }
    return setAuthentication(id, authentication);
  };
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  serveRequests(
    {
      /** How many messages the store holds (optionally matching a filter) and their sizes. */
      async stats({ filter } = {}) {
        const all = await store.listMessages({ limit: Number.MAX_SAFE_INTEGER, ...(filter ? { filter } : {}) });
        let bytes = 0;
        let minSize = Infinity;
        let maxSize = 0;
        for (const message of all.messages) {
          bytes += message.size;
          minSize = Math.min(minSize, message.size);
          maxSize = Math.max(maxSize, message.size);
        }
        return { total: all.total, latestSeq: await store.latestSeq(), bytes, minSize: all.total ? minSize : 0, maxSize };
      },
      async clear() {
        return { deleted: (await store.deleteMessages({})).length };
      },
      memory: () => settledMemoryUsage(),
      /** Verdict times (ms from 250 to verdicts recorded) since the last reset, and how many messages still wait. */
      verdicts({ reset = false } = {}) {
        const result = { times: verdictMs.map((entry) => entry.ms), dkim: verdictMs.map((entry) => entry.dkim), waiting: storedAt.size };
        if (reset) {
          verdictMs.length = 0;
          storedAt.clear();
        }
        return result;
      },
      /** The event loop's delay since the start or the last reset (ms): how long the server stalled. */
      'loop-delay'({ reset = false } = {}) {
        const ms = (ns) => ns / 1e6;
        const result = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max), count: loopDelay.count };
        if (reset) loopDelay.reset();
        return result;
      },
    },
    () => mailwright.close(),
  );

  process.send({ type: 'ready', smtp: mailwright.smtp, smtps: mailwright.smtps, url: mailwright.url, ca: mailwright.ca });
} catch (error) {
  failStart(error);
}
