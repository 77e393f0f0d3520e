import { connectHost, urlHost } from '@mailwright/core/connect-host';
import { envNameOf } from './flag-spec.js';
import { HEALTHCHECK_FLAGS } from './healthcheck-flags.js';
import { parseCount, parsePort, quote } from './parse-values.js';
import { readFlags } from './read-flags.js';
import type { CliContext } from './cli-context.js';
import type { CliProblem } from './cli-problem.js';

/** How long `healthcheck` waits for an answer by default. */
export const HEALTHCHECK_TIMEOUT_MS = 3_000;

/** Probe a running server's `/api/v1/health`. */
export interface HealthcheckConfig {
  command: 'healthcheck';
  /** Base URL of the server, without a trailing slash. */
  url: string;
  timeoutMs: number;
}

/**
 * Maps the arguments after `healthcheck` and the environment onto what to probe. Loads nothing
 * of the engine, so that the probe (a Docker HEALTHCHECK, run every few seconds) starts fast.
 */
export function resolveHealthcheckConfig(
  args: readonly string[],
  context: CliContext,
): { ok: true; config: HealthcheckConfig | { command: 'help'; topic: 'healthcheck' } } | { ok: false; topic: 'healthcheck'; problems: CliProblem[] } {
  const read = readFlags(args, HEALTHCHECK_FLAGS, context.env);
  if (read.switches.has('help')) return { ok: true, config: { command: 'help', topic: 'healthcheck' } };
  const problems = [...read.problems];
  let url: string | undefined;
  const given = read.values.get('url');
  if (given) {
    const raw = given.values[given.values.length - 1] as string;
    if (URL.canParse(raw) && /^https?:$/.test(new URL(raw).protocol)) url = raw.replace(/\/+$/, '');
    else problems.push({ source: given.source, message: `${quote(raw)} is not an http:// or https:// URL` });
  } else {
    url = defaultHealthcheckUrl(context, problems);
  }
  let timeoutMs = HEALTHCHECK_TIMEOUT_MS;
  const timeout = read.values.get('timeout');
  if (timeout) {
    const parsed = parseCount(timeout.values[timeout.values.length - 1] as string);
    if (parsed.ok) timeoutMs = parsed.value;
    else problems.push({ source: timeout.source, message: parsed.message });
  }
  if (problems.length > 0 || url === undefined) return { ok: false, topic: 'healthcheck', problems };
  return { ok: true, config: { command: 'healthcheck', url, timeoutMs } };
}

/** `http://<MAILWRIGHT_HOST>:<MAILWRIGHT_HTTP_PORT>`, with wildcard addresses probed on loopback. */
function defaultHealthcheckUrl(context: CliContext, problems: CliProblem[]): string | undefined {
  const hostVariable = envNameOf('host');
  const portVariable = envNameOf('http-port');
  const host = context.env[hostVariable]?.trim() || '127.0.0.1';
  const rawPort = context.env[portVariable]?.trim() || '8025';
  const port = parsePort(rawPort);
  if (!port.ok) {
    problems.push({ source: portVariable, message: port.message });
    return undefined;
  }
  if (port.value === 0) {
    problems.push({ source: portVariable, message: 'is 0 (a free port chosen at start); pass --url with the real port' });
    return undefined;
  }
  return `http://${urlHost(connectHost(host))}:${port.value}`;
}
