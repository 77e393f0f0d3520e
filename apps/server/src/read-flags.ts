import { parseArgs } from 'node:util';
import { closestName } from './closest-name.js';
import type { CliProblem } from './cli-problem.js';
import type { FlagSpec } from './flag-spec.js';

/** The raw values of one flag and where they came from. */
export interface RawFlagValue {
  /** Every value, in order (one for a non-repeatable flag: the last one given). */
  values: string[];
  /** `--name` when given on the command line, else the environment variable's name. */
  source: string;
  /** Whether the values came from the environment. */
  fromEnv: boolean;
}

/** What {@link readFlags} found. */
export interface ReadFlags {
  /** String flags that were set, by flag name. */
  values: Map<string, RawFlagValue>;
  /** Boolean flags that were given, by flag name. */
  switches: Set<string>;
  problems: CliProblem[];
}

/**
 * Reads argv with `node:util` parseArgs and fills in unset flags from their environment twins
 * (flags win). Strict about everything — unknown flags, missing values, values given to
 * switches, stray arguments — but, unlike parseArgs' strict mode, reports all of them instead
 * of stopping at the first.
 */
export function readFlags(args: readonly string[], specs: readonly FlagSpec[], env: Readonly<Record<string, string | undefined>>): ReadFlags {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const problems: CliProblem[] = [];
  const fromArgv = new Map<string, string[]>();
  const switches = new Set<string>();
  const { tokens } = parseArgs({
    args: withoutMissingValues(args, specs, problems),
    options: Object.fromEntries(
      specs.map((spec) => [spec.name, { type: spec.type, multiple: spec.multiple ?? false, ...(spec.short ? { short: spec.short } : {}) }]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  let skipNextPositional = false;
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (!skipNextPositional) problems.push({ source: token.value, message: 'unexpected argument' });
      skipNextPositional = false;
      continue;
    }
    skipNextPositional = false;
    if (token.kind === 'option-terminator') continue;
    const spec = byName.get(token.name);
    if (!spec) {
      const suggestion = closestName(token.name, [...byName.keys()]);
      problems.push({ source: token.rawName, message: `unknown flag${suggestion ? ` (did you mean --${suggestion}?)` : ''}` });
      // `--unknown value`: the value belongs to the unknown flag, not a second problem.
      skipNextPositional = !token.inlineValue;
      continue;
    }
    if (spec.type === 'boolean') {
      if (token.value !== undefined) problems.push({ source: `--${spec.name}`, message: 'takes no value' });
      else switches.add(spec.name);
      continue;
    }
    if (token.value === undefined) {
      problems.push(missingValue(spec));
      continue;
    }
    const list = fromArgv.get(spec.name) ?? [];
    if (spec.multiple) list.push(token.value);
    else list.splice(0, list.length, token.value);
    fromArgv.set(spec.name, list);
  }

  const values = new Map<string, RawFlagValue>();
  for (const spec of specs) {
    if (spec.type !== 'string') continue;
    const given = fromArgv.get(spec.name);
    if (given) {
      values.set(spec.name, { values: given, source: `--${spec.name}`, fromEnv: false });
      continue;
    }
    const raw = spec.env === null ? undefined : env[spec.env]?.trim();
    if (raw === undefined || raw === '' || spec.env === null) continue;
    const items =
      spec.multiple && spec.envSeparator
        ? raw
            .split(spec.envSeparator)
            .map((item) => item.trim())
            .filter((item) => item !== '')
        : [raw];
    if (items.length > 0) values.set(spec.name, { values: items, source: spec.env, fromEnv: true });
  }
  for (const spec of specs) {
    if (spec.type !== 'boolean' || spec.env === null || switches.has(spec.name)) continue;
    const raw = env[spec.env]?.trim().toLowerCase();
    if (raw === undefined || raw === '' || FALSE_WORDS.includes(raw)) continue;
    if (TRUE_WORDS.includes(raw)) switches.add(spec.name);
    else problems.push({ source: spec.env, message: `must be true or false, not ${JSON.stringify(env[spec.env])}` });
  }
  return { values, switches, problems };
}

/** How the environment twin of a switch says yes or no. */
const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

function missingValue(spec: FlagSpec): CliProblem {
  return { source: `--${spec.name}`, message: `needs a value (write --${spec.name}=<value> for a value that starts with "-")` };
}

/**
 * Drops value-taking flags that are followed by another flag (or nothing) and reports them.
 * Without strict mode, parseArgs would take the next flag as the value: `--smtp-port
 * --http-port 1` would set the SMTP port to "--http-port" and leave "1" stray.
 */
function withoutMissingValues(args: readonly string[], specs: readonly FlagSpec[], problems: CliProblem[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--') {
      kept.push(...args.slice(index));
      break;
    }
    const spec = arg.startsWith('--')
      ? specs.find((candidate) => `--${candidate.name}` === arg)
      : specs.find((candidate) => candidate.short && `-${candidate.short}` === arg);
    const next = args[index + 1];
    if (spec?.type === 'string' && (next === undefined || (next.startsWith('-') && next.length > 1))) {
      problems.push(missingValue(spec));
      continue;
    }
    kept.push(arg);
  }
  return kept;
}
