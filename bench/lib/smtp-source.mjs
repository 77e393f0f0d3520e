// Postfix's smtp-source as the load generator of the ingest scenarios: C, one process,
// `sessions` parallel SMTP sessions, each sending message after message (-d) until
// `messages` have been sent in total. It exits non-zero on any reply other than the
// expected positive one, so a clean exit means every message was accepted.
import { performance } from 'node:perf_hooks';
import { requireExecutable, spawnTracked, stopChild } from './processes.mjs';

const SMTP_SOURCE = '/usr/sbin/smtp-source';

/**
 * Sends `messages` messages of `length` payload bytes (plus ~150 bytes of headers; lines
 * of 80 characters) over `sessions` connections, and resolves with the wall time.
 */
export async function runSmtpSource({ host, port, sessions, messages, length, timeoutMs }) {
  const args = [
    '-s',
    String(sessions),
    '-m',
    String(messages),
    '-l',
    String(length),
    '-d',
    '-M',
    'localhost',
    '-f',
    'bench@localhost',
    '-t',
    'sink@localhost',
    '-S',
    'bench',
    `${host}:${port}`,
  ];
  await requireExecutable(SMTP_SOURCE);
  const started = performance.now();
  const child = spawnTracked(SMTP_SOURCE, args);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stopChild(child, 1_000);
  }, timeoutMs);
  const [code, signal] = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
  }).finally(() => clearTimeout(timer));
  const durationMs = performance.now() - started;
  if (timedOut) throw new Error(`smtp-source did not finish ${messages} messages within ${timeoutMs} ms`);
  if (code !== 0) throw new Error(`smtp-source failed (${code ?? signal}): ${output.trim().slice(0, 500)}`);
  return { durationMs, messagesPerSecond: (messages * 1000) / durationMs };
}
