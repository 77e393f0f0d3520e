import { isIP } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { ErrorCode, ListenerConfigSchema, isMailwrightError, type ListenerConfig } from '@mailwright/core';
import { CliOptionsSchema, ENV_PREFIX, type LogFormat, type LogLevel, type MailwrightOptions, type OptionKind } from '@mailwright/core/options';
import { parseZoneFile, resolveMailwrightOptions, type OptionsProblem } from '@mailwright/server';
import { closestName } from './closest-name.js';
import { HEALTHCHECK_FLAGS, SERVE_FLAGS, SUBCOMMANDS } from './flags.js';
import { parseListener } from './parse-listener.js';
import { parseFault } from './parse-fault.js';
import {
  isHostName,
  isHostPattern,
  isOrigin,
  parseAuthUser,
  parseByteSize,
  parseChoice,
  parseCount,
  parseDuration,
  parsePort,
  quote,
  type Parsed,
} from './parse-values.js';
import { readFlags, type RawFlagValue } from './read-flags.js';
import type { CliProblem } from './cli-problem.js';
import type { CliContext } from './cli-context.js';
import { resolveHealthcheckConfig, type HealthcheckConfig } from './healthcheck-config.js';

export { formatProblems, type CliProblem } from './cli-problem.js';
export type { CliContext } from './cli-context.js';
export type { HealthcheckConfig } from './healthcheck-config.js';
export { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '@mailwright/core/options';

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

function readText(path: string, context: CliContext): Parsed<string> {
  try {
    return { ok: true, value: context.readTextFile(path) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    return { ok: false, message: `cannot read ${path}: ${reason}` };
  }
}

function readPem(raw: string, context: CliContext): Parsed<string> {
  const path = resolvePath(raw, context);
  const text = readText(path, context);
  if (!text.ok) return text;
  if (!text.value.includes('-----BEGIN ')) return { ok: false, message: `${path} is not a PEM file (no "-----BEGIN" line)` };
  return text;
}

const nonEmpty = (raw: string): Parsed<string> => (raw === '' ? { ok: false, message: 'must not be empty' } : { ok: true, value: raw });

/** Values a refused option is replaced by, so that it does not also clash in the engine's cross-field checks. */
const STAND_INS: Partial<Record<OptionKind, unknown>> = {
  // A free port clashes with no other: a bad --smtp-port does not also read as "1025 is used twice".
  port: 0,
  // A certificate that could not be read was still given: no "--tls-key without --tls-cert" on top.
  'pem-file': 'unreadable',
};

const LIST_ITEM_RULES: Partial<Record<OptionKind, { isValid(value: string): boolean; reason: string }>> = {
  'host-name': { isValid: isHostName, reason: 'is not a host name or IP address' },
  origin: { isValid: isOrigin, reason: 'is not an origin (scheme://host[:port], no path), nor *' },
  'host-pattern': { isValid: isHostPattern, reason: 'is not a host name (.example.test allows subdomains, * any name)' },
  'name-server': { isValid: isNameServer, reason: 'is not an IP address with an optional port (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:5353)' },
};

/** An IP address with an optional port, as node:dns's setServers() takes it. */
function isNameServer(value: string): boolean {
  const match = /^(?:\[([^\]]+)\]|([^:]+)|([^[\]]*:[^[\]]*))(?::(\d{1,5}))?$/.exec(value);
  if (!match) return false;
  const port = match[4];
  if (match[3] !== undefined) return port === undefined && isIP(match[3]) === 6;
  const address = match[1] ?? match[2] ?? '';
  return isIP(address) !== 0 && (port === undefined || (Number(port) > 0 && Number(port) <= 65535));
}

const CLI_OPTION_KEYS = new Set(Object.keys(CliOptionsSchema.shape));

function resolveServe(argv: readonly string[], context: CliContext): CliConfigResult {
  const read = readFlags(argv, SERVE_FLAGS, context.env);
  if (read.switches.has('help')) return { ok: true, config: { command: 'help', topic: 'serve' } };
  if (read.switches.has('version')) return { ok: true, config: { command: 'version' } };
  const problems = [...read.problems];
  /** Every option given by a flag or variable: the server's and the command's own. */
  const given: Record<string, unknown> = {};
  /** Options whose value was refused: the engine's problems with them would only repeat it. */
  const refused = new Set<string>();
  const numbered = (raw: RawFlagValue, index: number): string => (raw.values.length > 1 ? `${raw.source} #${index + 1}` : raw.source);
  const authUserSources: string[] = [];
  const listenerSources: string[] = [];
  const faultSources: string[] = [];

  for (const spec of SERVE_FLAGS) {
    const { option, kind } = spec;
    if (option === undefined || kind === undefined) continue;
    if (kind === 'switch') {
      if (read.switches.has(spec.name)) given[option] = true;
      continue;
    }
    const raw = read.values.get(spec.name);
    if (!raw) continue;
    const value = raw.values[raw.values.length - 1] as string;
    const set = (parsed: Parsed<unknown>): void => {
      if (parsed.ok) given[option] = parsed.value;
      else {
        problems.push({ source: raw.source, message: parsed.message });
        refused.add(option);
        if (STAND_INS[kind] !== undefined) given[option] = STAND_INS[kind];
      }
    };
    switch (kind) {
      case 'text':
        set(nonEmpty(value));
        break;
      case 'port':
        set(parsePort(value));
        break;
      case 'count':
      case 'milliseconds':
        set(parseCount(value));
        break;
      case 'size':
        set(parseByteSize(value));
        break;
      case 'duration':
        set(parseDuration(value));
        break;
      case 'choice':
        set(parseChoice(value, spec.choices ?? []));
        break;
      case 'pem-file':
        set(readPem(value, context));
        break;
      case 'zone-file': {
        // Every mistake of the file is listed, one per line at fault, with the other problems.
        const path = resolvePath(value, context);
        const text = readText(path, context);
        if (!text.ok) set(text);
        else {
          const zoneProblems = parseZoneFile(text.value).problems;
          for (const problem of zoneProblems) problems.push({ source: raw.source, message: `${path}:${problem.line}: ${problem.message}` });
          if (zoneProblems.length > 0) refused.add(option);
          else given[option] = path;
        }
        break;
      }
      case 'path': {
        const parsed = nonEmpty(value);
        set(parsed.ok ? { ok: true, value: resolvePath(parsed.value, context) } : parsed);
        break;
      }
      case 'directory': {
        const path = resolvePath(value, context);
        set(context.isDirectory(path) ? { ok: true, value: path } : { ok: false, message: `${path} is not a directory` });
        break;
      }
      case 'host-name':
      case 'name-server':
      case 'origin':
      case 'host-pattern': {
        const rule = LIST_ITEM_RULES[kind] as { isValid(value: string): boolean; reason: string };
        given[option] = raw.values.filter((item, index) => {
          const valid = rule.isValid(item);
          if (!valid) problems.push({ source: numbered(raw, index), message: `${quote(item)} ${rule.reason}` });
          return valid;
        });
        break;
      }
      case 'credentials': {
        const users: { username: string; password: string }[] = [];
        raw.values.forEach((item, index) => {
          const parsed = parseAuthUser(item);
          if (parsed.ok) {
            users.push(parsed.value);
            authUserSources.push(numbered(raw, index));
          } else problems.push({ source: numbered(raw, index), message: parsed.message });
        });
        given[option] = users;
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
        given[option] = listeners;
        break;
      }
      case 'fault': {
        // Shape problems here; the rule's own problems come from the options schema, named by source.
        const rules: unknown[] = [];
        raw.values.forEach((item, index) => {
          const parsed = parseFault(item);
          const source = numbered(raw, index);
          for (const message of parsed.problems) problems.push({ source, message });
          if (parsed.problems.length === 0) {
            rules.push(parsed.rule);
            faultSources.push(source);
          }
        });
        given[option] = rules;
        break;
      }
    }
  }
  const options: Record<string, unknown> = {};
  const cliOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) (CLI_OPTION_KEYS.has(key) ? cliOptions : options)[key] = value;
  options.dataDir ??= defaultDataDir(context);
  // What the command keeps, it keeps on disk; the in-process SDK server keeps memory.
  options.storage ??= 'sqlite';
  if (options.webRoot === undefined && context.defaultWebRoot !== undefined) options.webRoot = context.defaultWebRoot;
  const serverOptions = options as MailwrightOptions & { dataDir: string };
  const { logLevel, logFormat = context.stdoutIsTTY ? 'pretty' : 'json' } = CliOptionsSchema.parse(cliOptions);

  // The engine's own validation: cross-field rules (ports in use twice, cert without key,
  // min above max version, duplicate users and listener names) and the listener schema.
  try {
    resolveMailwrightOptions(serverOptions);
  } catch (error) {
    if (!isMailwrightError(error) || error.code !== ErrorCode.INVALID_OPTIONS) throw error;
    const sourceOf = (key: string): string => {
      const spec = SERVE_FLAGS.find((candidate) => candidate.option === key);
      return spec ? (read.values.get(spec.name)?.source ?? `--${spec.name}`) : key || 'options';
    };
    for (const detail of (error.details as OptionsProblem[] | undefined) ?? []) {
      if (refused.has(/^[A-Za-z]*/.exec(detail.path)?.[0] ?? '')) continue;
      problems.push(mapOptionsProblem(detail, { sourceOf, authUserSources, listenerSources, faultSources }));
    }
  }
  if (problems.length > 0) return { ok: false, topic: 'serve', problems };
  return { ok: true, config: { command: 'serve', options: serverOptions, logLevel, logFormat, warnings: unknownEnvWarnings(context.env) } };
}

const OPTION_FLAG_NAMES = new Map(SERVE_FLAGS.filter((spec) => spec.option).map((spec) => [spec.option as string, `--${spec.name}`]));

/** Attributes a problem reported by `resolveMailwrightOptions` to the flag or variable it came from. */
function mapOptionsProblem(
  problem: OptionsProblem,
  sources: { sourceOf(key: string): string; authUserSources: readonly string[]; listenerSources: readonly string[]; faultSources: readonly string[] },
): CliProblem {
  const match = /^([A-Za-z]*)(?:\[(\d+)\])?(?:\.(.+))?$/.exec(problem.path);
  const key = match?.[1] ?? '';
  const index = match?.[2] === undefined ? undefined : Number(match[2]);
  const rest = match?.[3];
  let source: string;
  if (key === 'listeners' && index !== undefined) source = sources.listenerSources[index] ?? `listener #${index + 1}`;
  else if (key === 'faults' && index !== undefined) source = sources.faultSources[index] ?? `fault #${index + 1}`;
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
