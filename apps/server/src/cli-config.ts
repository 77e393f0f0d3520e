import { isAbsolute, join, resolve } from 'node:path';
import { ErrorCode, ListenerConfigSchema, TLS_VERSIONS, isMailwrightError, type ListenerConfig } from '@mailwright/core';
import { resolveMailwrightOptions, type MailwrightOptions, type OptionsProblem } from '@mailwright/server';
import { closestName } from './closest-name.js';
import { ENV_PREFIX, HEALTHCHECK_FLAGS, SERVE_FLAGS, SUBCOMMANDS, type FlagSpec } from './flags.js';
import { parseAuthUser, parseByteSize, parseChoice, parseCount, parseListener, parsePort, quote, type Parsed } from './parse-values.js';
import { readFlags, type RawFlagValue } from './read-flags.js';
import type { CliProblem } from './cli-problem.js';
import type { CliContext } from './cli-context.js';
import { resolveHealthcheckConfig, type HealthcheckConfig } from './healthcheck-config.js';

export { formatProblems, type CliProblem } from './cli-problem.js';
export type { CliContext } from './cli-context.js';
export type { HealthcheckConfig } from './healthcheck-config.js';

/** Log levels of `--log-level`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
/** A log level of `--log-level`. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Formats of `--log-format`. */
export const LOG_FORMATS = ['pretty', 'json'] as const;
/** A format of `--log-format`. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Start the server. */
export interface ServeConfig {
  command: 'serve';
  /** Options for `createMailwright`, without `logger`. Already validated. */
  options: MailwrightOptions & { dataDir: string };
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** Things worth a warning that do not stop the start, e.g. unknown `MAILWRIGHT_*` variables. */
  warnings: string[];
}

/** Print the help of a command. */
export interface HelpConfig {
  command: 'help';
  topic: 'serve' | 'healthcheck';
}

/** Print the version. */
export interface VersionConfig {
  command: 'version';
}

/** What the command line asks for. */
export type CliConfig = ServeConfig | HealthcheckConfig | HelpConfig | VersionConfig;

/** The command line's meaning, or every problem found in it. */
export type CliConfigResult = { ok: true; config: CliConfig } | { ok: false; topic: 'serve' | 'healthcheck'; problems: CliProblem[] };

/**
 * Maps argv (without the node and script paths) and `MAILWRIGHT_*` environment variables
 * onto a command and its options, in one pass that collects every problem: unknown flags,
 * malformed values, unreadable files, and everything `resolveMailwrightOptions` reports.
 */
export function resolveCliConfig(argv: readonly string[], context: CliContext): CliConfigResult {
  const subcommand = SUBCOMMANDS.find((name) => name === argv[0]);
  if (subcommand === 'healthcheck') return resolveHealthcheckConfig(argv.slice(1), context);
  return resolveServe(argv, context);
}

/** Expands a leading `~` and makes the path absolute. */
function resolvePath(raw: string, context: CliContext): string {
  const expanded = raw === '~' ? context.homedir : raw.startsWith('~/') ? join(context.homedir, raw.slice(2)) : raw;
  return resolve(context.cwd, expanded);
}

/** `$XDG_DATA_HOME/mailwright`, else `~/.local/share/mailwright`. */
export function defaultDataDir(context: Pick<CliContext, 'env' | 'homedir'>): string {
  const xdg = context.env.XDG_DATA_HOME?.trim();
  // The XDG spec says relative values are invalid and must be ignored.
  return xdg && isAbsolute(xdg) ? join(xdg, 'mailwright') : join(context.homedir, '.local', 'share', 'mailwright');
}

function readPem(raw: string, context: CliContext): Parsed<string> {
  const path = resolvePath(raw, context);
  let text: string;
  try {
    text = context.readTextFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    return { ok: false, message: `cannot read ${path}: ${reason}` };
  }
  if (!text.includes('-----BEGIN ')) return { ok: false, message: `${path} is not a PEM file (no "-----BEGIN" line)` };
  return { ok: true, value: text };
}

const nonEmpty = (raw: string): Parsed<string> => (raw === '' ? { ok: false, message: 'must not be empty' } : { ok: true, value: raw });

function resolveServe(argv: readonly string[], context: CliContext): CliConfigResult {
  const read = readFlags(argv, SERVE_FLAGS, context.env);
  if (read.switches.has('help')) return { ok: true, config: { command: 'help', topic: 'serve' } };
  if (read.switches.has('version')) return { ok: true, config: { command: 'version' } };
  const problems = [...read.problems];
  const options: MailwrightOptions = {};
  // A refused value is reported here and replaced by a stand-in that passes the engine's
  // cross-field checks, so a bad --smtp-port does not also read as "1025 is used twice".
  const set = (spec: FlagSpec, raw: RawFlagValue, parsed: Parsed<unknown>, standIn?: unknown): void => {
    if (parsed.ok || standIn !== undefined) (options as Record<string, unknown>)[spec.option as string] = parsed.ok ? parsed.value : standIn;
    if (!parsed.ok) problems.push({ source: raw.source, message: parsed.message });
  };
  const numbered = (raw: RawFlagValue, index: number): string => (raw.values.length > 1 ? `${raw.source} #${index + 1}` : raw.source);
  /** The values of a repeatable flag that pass `isValid`; each other one is reported as `"value" <reason>`. */
  const validValues = (raw: RawFlagValue, isValid: (value: string) => boolean, reason: string): string[] =>
    raw.values.filter((value, index) => {
      const valid = isValid(value);
      if (!valid) problems.push({ source: numbered(raw, index), message: `${quote(value)} ${reason}` });
      return valid;
    });
  const authUserSources: string[] = [];
  const listenerSources: string[] = [];
  let logLevel: LogLevel = 'info';
  let logFormat: LogFormat = context.stdoutIsTTY ? 'pretty' : 'json';
  let dataDir = defaultDataDir(context);

  for (const spec of SERVE_FLAGS) {
    const raw = read.values.get(spec.name);
    if (!raw) continue;
    const value = raw.values[raw.values.length - 1] as string;
    switch (spec.name) {
      case 'host':
      case 'hostname':
        set(spec, raw, nonEmpty(value));
        break;
      case 'smtp-port':
      case 'smtps-port':
      case 'http-port':
        set(spec, raw, parsePort(value), 0);
        break;
      case 'tls-cert':
      case 'tls-key':
        set(spec, raw, readPem(value, context), 'unreadable');
        break;
      case 'data-dir': {
        const parsed = nonEmpty(value);
        if (parsed.ok) dataDir = resolvePath(parsed.value, context);
        else problems.push({ source: raw.source, message: parsed.message });
        break;
      }
      case 'starttls':
        set(spec, raw, parseChoice(value, ['offer', 'require', 'off']));
        break;
      case 'auth':
        set(spec, raw, parseChoice(value, ['off', 'optional', 'required']));
        break;
      case 'tls-min-version':
        set(spec, raw, parseChoice(value, TLS_VERSIONS), TLS_VERSIONS[0]);
        break;
      case 'tls-max-version':
        set(spec, raw, parseChoice(value, TLS_VERSIONS), TLS_VERSIONS[TLS_VERSIONS.length - 1]);
        break;
      case 'max-message-size':
      case 'max-memory':
        set(spec, raw, parseByteSize(value));
        break;
      case 'max-messages':
      case 'max-sessions':
      case 'max-recipients':
      case 'max-connections':
      case 'max-connections-per-ip':
      case 'command-timeout':
      case 'data-timeout':
        set(spec, raw, parseCount(value));
        break;
      case 'auth-user': {
        const users: { username: string; password: string }[] = [];
        raw.values.forEach((item, index) => {
          const parsed = parseAuthUser(item);
          if (parsed.ok) {
            users.push(parsed.value);
            authUserSources.push(numbered(raw, index));
          } else problems.push({ source: numbered(raw, index), message: parsed.message });
        });
        options.authUsers = users;
        break;
      }
      case 'listener': {
        // A malformed listener still goes through the schema (with its bad items left out),
        // so that one run reports all of its problems. Only valid ones reach the engine's
        // cross-field checks, which number listeners among the valid ones.
        const listeners: ListenerConfig[] = [];
        raw.values.forEach((item, index) => {
          const parsed = parseListener(item);
          const source = `${numbered(raw, index)}${parsed.config.name === undefined ? '' : ` (${parsed.config.name})`}`;
          for (const message of parsed.problems) problems.push({ source, message });
          const checked = ListenerConfigSchema.safeParse({ name: `unnamed-${index + 1}`, ...parsed.config });
          if (!checked.success) {
            for (const issue of checked.error.issues)
              problems.push({ source, message: issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message });
          } else if (parsed.problems.length === 0) {
            listeners.push(parsed.config as ListenerConfig);
            listenerSources.push(source);
          }
        });
        options.listeners = listeners;
        break;
      }
      case 'tls-name':
        options.tlsNames = validValues(raw, (name) => name !== '' && !/[\s,]/.test(name), 'is not a host name or IP address');
        break;
      case 'api-token':
        set(spec, raw, nonEmpty(value));
        break;
      case 'allowed-origin':
        options.allowedOrigins = validValues(
          raw,
          (origin) => origin === '*' || (URL.canParse(origin) && new URL(origin).origin === origin),
          'is not an origin (scheme://host[:port], no path), nor *',
        );
        break;
      case 'allowed-host':
        options.allowedHosts = validValues(
          raw,
          (name) => name === '*' || /^\.?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/.test(name),
          'is not a host name (.example.test allows subdomains, * any name)',
        );
        break;
      case 'web-root': {
        const path = resolvePath(value, context);
        set(spec, raw, context.isDirectory(path) ? { ok: true, value: path } : { ok: false, message: `${path} is not a directory` }, path);
        break;
      }
      case 'log-level': {
        const parsed = parseChoice(value, LOG_LEVELS);
        if (parsed.ok) logLevel = parsed.value;
        else problems.push({ source: raw.source, message: parsed.message });
        break;
      }
      case 'log-format': {
        const parsed = parseChoice(value, LOG_FORMATS);
        if (parsed.ok) logFormat = parsed.value;
        else problems.push({ source: raw.source, message: parsed.message });
        break;
      }
    }
  }
  if (read.switches.has('insecure-no-token')) options.insecureNoToken = true;
  if (read.switches.has('allow-privileged-ports')) options.allowPrivilegedPorts = true;
  if (options.webRoot === undefined && context.defaultWebRoot !== undefined) options.webRoot = context.defaultWebRoot;
  const withDataDir = { ...options, dataDir };

  // The engine's own validation: cross-field rules (ports in use twice, cert without key,
  // min above max version, duplicate users and listener names) and the listener schema.
  try {
    resolveMailwrightOptions(withDataDir);
  } catch (error) {
    if (!isMailwrightError(error) || error.code !== ErrorCode.INVALID_OPTIONS) throw error;
    const sourceOf = (key: string): string => {
      const spec = SERVE_FLAGS.find((candidate) => candidate.option === key);
      return spec ? (read.values.get(spec.name)?.source ?? `--${spec.name}`) : key || 'options';
    };
    for (const detail of (error.details as OptionsProblem[] | undefined) ?? []) {
      problems.push(mapOptionsProblem(detail, { sourceOf, authUserSources, listenerSources }));
    }
  }
  if (problems.length > 0) return { ok: false, topic: 'serve', problems };
  return { ok: true, config: { command: 'serve', options: withDataDir, logLevel, logFormat, warnings: unknownEnvWarnings(context.env) } };
}

const OPTION_FLAG_NAMES = new Map(SERVE_FLAGS.filter((spec) => spec.option).map((spec) => [spec.option as string, `--${spec.name}`]));

/** Attributes a problem reported by `resolveMailwrightOptions` to the flag or variable it came from. */
function mapOptionsProblem(
  problem: OptionsProblem,
  sources: { sourceOf(key: string): string; authUserSources: readonly string[]; listenerSources: readonly string[] },
): CliProblem {
  const match = /^([A-Za-z]*)(?:\[(\d+)\])?(?:\.(.+))?$/.exec(problem.path);
  const key = match?.[1] ?? '';
  const index = match?.[2] === undefined ? undefined : Number(match[2]);
  const rest = match?.[3];
  let source: string;
  if (key === 'listeners' && index !== undefined) source = sources.listenerSources[index] ?? `listener #${index + 1}`;
  else if (key === 'authUsers' && index !== undefined) source = sources.authUserSources[index] ?? `auth user #${index + 1}`;
  else source = sources.sourceOf(key);
  // Messages name options (`tlsMaxVersion`); speak in flags instead.
  const message = problem.message.replace(/\b[a-z]+[A-Z][A-Za-z]*\b/g, (word) => OPTION_FLAG_NAMES.get(word) ?? word);
  return { source, message: rest ? `${rest}: ${message}` : message };
}

/** Unknown `MAILWRIGHT_*` variables that look like a typo of a known one (others belong to other tools). */
function unknownEnvWarnings(env: Readonly<Record<string, string | undefined>>): string[] {
  const known = [...SERVE_FLAGS, ...HEALTHCHECK_FLAGS].map((spec) => spec.env).filter((name) => name !== null);
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !known.includes(name))
    .sort()
    .flatMap((name) => {
      const suggestion = closestName(name, known);
      return suggestion ? [`ignoring unknown environment variable ${name} (did you mean ${suggestion}?)`] : [];
    });
}
