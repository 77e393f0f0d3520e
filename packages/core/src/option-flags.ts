import { z } from 'zod';

/** The prefix of every environment twin of a flag: `--smtp-port` ↔ `MAILWRIGHT_SMTP_PORT`. */
export const ENV_PREFIX = 'MAILWRIGHT_';

/**
 * How the command line reads an option's value. Each kind has one parser in the CLI; the kind
 * also gives the placeholder shown in `--help` and, for lists, how an environment variable
 * separates its items.
 */
export const OPTION_KINDS = {
  /** A non-empty string. */
  text: { placeholder: undefined, list: false },
  /** A TCP port, 0 to 65535. */
  port: { placeholder: '<port>', list: false },
  /** A whole number above 0. */
  count: { placeholder: '<count>', list: false },
  /** A whole number of milliseconds above 0. */
  milliseconds: { placeholder: '<ms>', list: false },
  /** A length of time: a number with a unit, `s`, `m`, `h`, `d` or `w` (`90s`, `12h`, `7d`); held in milliseconds. */
  duration: { placeholder: '<duration>', list: false },
  /** Bytes, or a number with a unit (`10MB`, `50MiB`). */
  size: { placeholder: '<size>', list: false },
  /** One of the words of a `z.enum`. */
  choice: { placeholder: undefined, list: false },
  /** A PEM file, read by the CLI; the option holds its text. */
  'pem-file': { placeholder: '<file>', list: false },
  /** A DNS zone file, read and checked by the CLI; the option holds its path. */
  'zone-file': { placeholder: '<file>', list: false },
  /** A directory path, resolved against the working directory (it need not exist). */
  path: { placeholder: '<dir>', list: false },
  /** An existing directory. */
  directory: { placeholder: '<dir>', list: false },
  /** A flag without a value; its environment twin takes true/false. */
  switch: { placeholder: undefined, list: false },
  /** Repeatable: host names or IP addresses. */
  'host-name': { placeholder: '<name>', list: true },
  /** Repeatable: browser origins (`scheme://host[:port]`) or `*`. */
  origin: { placeholder: '<origin>', list: true },
  /** Repeatable: host names, `.domain` for subdomains, or `*`. */
  'host-pattern': { placeholder: '<name>', list: true },
  /** Repeatable: a name server, an IP address with an optional port (`192.0.2.53`, `[2001:db8::53]:5353`). */
  'name-server': { placeholder: '<address[:port]>', list: true },
  /** Repeatable: `user:password`. */
  credentials: { placeholder: '<user:pass>', list: true },
  /** Repeatable: a listener profile, `key=value,…`; the environment separates them with `;`. */
  listener: { placeholder: '<key=value,...>', list: true },
  /** Repeatable: a fault rule, `key=value,…` or JSON; the environment separates them with `;`. */
  fault: { placeholder: '<rule>', list: true },
} as const satisfies Record<string, { placeholder: string | undefined; list: boolean }>;

/** A kind of {@link OPTION_KINDS}. */
export type OptionKind = keyof typeof OPTION_KINDS;

/** What the command line needs to know about an option, kept next to its zod field. */
export interface OptionFlagMeta {
  /** How the value is read. */
  kind: OptionKind;
  /** One line for `--help`. */
  description: string;
  /** Placeholder of the value in `--help` when the kind's own does not say enough, e.g. `<address>`. */
  value?: string;
  /** The default as `--help` shows it, when the command line's default is not the schema's. */
  defaultText?: string;
}

/** An option that has no flag: it cannot be written on a command line. */
export interface NoFlagMeta {
  kind: 'none';
  /** Why there is no flag. */
  description: string;
}

/**
 * The registry of option metadata. Every field of an options schema is registered here;
 * {@link describeOptionFlags} refuses a schema with a field that is not.
 */
export const optionFlagRegistry = z.registry<OptionFlagMeta | NoFlagMeta>();

/** Registers a field's command-line metadata and returns the field. */
export function withFlag<T extends z.ZodType>(schema: T, meta: OptionFlagMeta | NoFlagMeta): T {
  optionFlagRegistry.add(schema, meta);
  return schema;
}

/** One command-line flag derived from an options schema. */
export interface OptionFlag {
  /** The option it sets, e.g. `smtpPort`. */
  readonly option: string;
  /** Long name without dashes, e.g. `smtp-port`. */
  readonly name: string;
  /** The environment twin, e.g. `MAILWRIGHT_SMTP_PORT`. */
  readonly env: string;
  readonly kind: OptionKind;
  /** `string` flags take a value; `boolean` flags take none. */
  readonly type: 'string' | 'boolean';
  /** Whether the flag may be repeated; every occurrence is kept. */
  readonly multiple: boolean;
  /** How the environment twin of a repeatable flag separates its items. */
  readonly envSeparator?: string;
  /** Placeholder of the value in `--help`, e.g. `<port>` or `offer|require|off`. */
  readonly value?: string;
  /** One line for `--help`. */
  readonly description: string;
  /** The default as `--help` shows it. */
  readonly defaultText?: string;
  /** The accepted words of a `choice` option, from its `z.enum`. */
  readonly choices?: readonly string[];
}

type Def = { type: string; innerType?: z.ZodType };
const defOf = (schema: z.ZodType): Def => (schema as unknown as { def: Def }).def;

/** The type under `.default()`, `.optional()` and the like. */
function unwrap(schema: z.ZodType): z.ZodType {
  let inner = schema;
  for (let def = defOf(inner); def.innerType && ['default', 'prefault', 'optional', 'nullable'].includes(def.type); def = defOf(inner)) inner = def.innerType;
  return inner;
}

/** `52428800` → `50MiB`: the largest binary unit that divides the size. */
export function formatByteSize(bytes: number): string {
  for (const [unit, factor] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

function defaultTextOf(field: z.ZodType, kind: OptionKind): string | undefined {
  const parsed = field.safeParse(undefined);
  if (!parsed.success) return undefined;
  const value: unknown = parsed.data;
  if (value === undefined || value === false || (Array.isArray(value) && value.length === 0)) return undefined;
  if (kind === 'size' && typeof value === 'number') return formatByteSize(value);
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/**
 * The flag of each field of an options schema. The names are derived, never written by hand:
 * `smtpPort` → `--smtp-port` and `MAILWRIGHT_SMTP_PORT`; a unit suffix is dropped, as the value
 * says its unit (`commandTimeoutMs` → `--command-timeout`, `streamMaxBufferedBytes` →
 * `--stream-max-buffered`); a list option is a repeatable flag named in the singular whose
 * variable keeps the plural (`tlsNames` → `--tls-name`, `MAILWRIGHT_TLS_NAMES`). Defaults and
 * choices come from the schema. Throws when a field has no metadata, or metadata that does not
 * fit its type.
 */
export function describeOptionFlags(schema: z.ZodObject): OptionFlag[] {
  return Object.entries(schema.shape).flatMap(([option, field]): OptionFlag[] => {
    const meta = optionFlagRegistry.get(field);
    if (!meta) throw new Error(`option "${option}" has no command-line metadata (withFlag)`);
    if (meta.kind === 'none') return [];
    const inner = unwrap(field);
    const innerType = defOf(inner).type;
    const { list } = OPTION_KINDS[meta.kind];
    const fits = meta.kind === 'switch' ? innerType === 'boolean' : meta.kind === 'choice' ? innerType === 'enum' : list === (innerType === 'array');
    if (!fits) throw new Error(`option "${option}" is a zod ${innerType}, which a "${meta.kind}" flag cannot set`);
    // The unit leaves the name (`streamMaxBufferedBytes` → `--stream-max-buffered`) unless it is the name (`maxBytes`).
    const base = option.replace(/(?<=[A-Z].*)(?:Ms|Bytes)$/, '').replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
    const choices = meta.kind === 'choice' ? ((inner as z.ZodEnum).options as readonly string[]) : undefined;
    const defaultText = meta.defaultText ?? defaultTextOf(field, meta.kind);
    const value = meta.value ?? OPTION_KINDS[meta.kind].placeholder ?? choices?.join('|');
    return [
      {
        option,
        name: list ? base.replace(/s$/, '') : base,
        env: ENV_PREFIX + base.toUpperCase().replace(/-/g, '_'),
        kind: meta.kind,
        type: meta.kind === 'switch' ? 'boolean' : 'string',
        multiple: list,
        ...(list ? { envSeparator: meta.kind === 'listener' || meta.kind === 'fault' ? ';' : ',' } : {}),
        ...(value === undefined ? {} : { value }),
        description: meta.description,
        ...(defaultText === undefined ? {} : { defaultText }),
        ...(choices === undefined ? {} : { choices }),
      },
    ];
  });
}
