// Samples GET /health continuously from a worker thread, so that the busy event loop of the
// process driving the load does not inflate the numbers: each sample is the time from the
// request until the whole answer, on a kept-alive connection.
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const samples = [];
const times = [];
const failures = [];
let stopping = false;
parentPort.on('message', () => (stopping = true));
function once() {
  return new Promise((resolve) => {
    const started = performance.now();
    const request = http.get(workerData.url, { agent, timeout: workerData.timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => {
        const ms = performance.now() - started;
        samples.push(ms);
        times.push(Date.now());
        if (response.statusCode !== 200) failures.push('status ' + response.statusCode + ' after ' + ms.toFixed(1) + ' ms');
        resolve();
      });
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', (error) => {
      samples.push(performance.now() - started);
      times.push(Date.now());
      failures.push(error.message);
      resolve();
    });
  });
}
(async () => {
  while (!stopping) {
    await once();
    await new Promise((resolve) => setTimeout(resolve, workerData.intervalMs));
  }
  agent.destroy();
  parentPort.postMessage({ samples, times, failures });
})();
`;

/**
 * Starts sampling `url` every `intervalMs`; `stop()` resolves with { samples (ms), times (Date.now() at each answer), failures }.
 * @param {string} url
 * @param {{ intervalMs?: number, timeoutMs?: number }} [options]
 */
export function startHealthSampler(url, { intervalMs = 20, timeoutMs = 10_000 } = {}) {
  const worker = new Worker(WORKER, { eval: true, workerData: { url, intervalMs, timeoutMs } });
  const result = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const value = await result;
      await worker.terminate();
      return value;
    },
  };
}
