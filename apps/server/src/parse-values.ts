import type { ListenerConfig } from '@mailwright/core';

/** The outcome of parsing one value: the value, or why it was refused. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** Quotes a user-supplied value for an error message. */
export function quote(raw: string): string {
  return JSON.stringify(raw);
}

/** A TCP port, 0 (a free port) to 65535. */
export function parsePort(raw: string): Parsed<number> {
  if (!/^\d+$/.test(raw)) return fail(`${quote(raw)} is not a port number (0-65535)`);
  const value = Number(raw);
  return value <= 65535 ? ok(value) : fail(`${quote(raw)} is not a port number (0-65535)`);
}

/** A whole number above 0. */
export function parseCount(raw: string): Parsed<number> {
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) === 0) return fail(`${quote(raw)} is not a whole number above 0`);
  return ok(Number(raw));
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * A size in bytes: `52428800`, `10MB` (10 × 1000²), `50MiB` or `50M` (50 × 1024²). Units are
 * case-insensitive; KB/MB/GB are decimal, KiB/MiB/GiB and K/M/G binary.
 */
export function parseByteSize(raw: string): Parsed<number> {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? 'none'];
  if (!match || unit === undefined) return fail(`${quote(raw)} is not a size (bytes, or a number with B, KB, MB, GB, KiB, MiB or GiB)`);
  const value = Number(match[1]) * unit;
  if (!Number.isSafeInteger(value) || value <= 0) return fail(`${quote(raw)} is not a whole number of bytes above 0`);
  return ok(value);
}

/** One of a fixed set of words. */
export function parseChoice<const T extends string>(raw: string, choices: readonly T[]): Parsed<T> {
  return (choices as readonly string[]).includes(raw) ? ok(raw as T) : fail(`${quote(raw)} is not one of ${choices.join(', ')}`);
}

/** `user:password`; the password may contain colons. Never echoes the value, which holds a secret. */
export function parseAuthUser(raw: string): Parsed<{ username: string; password: string }> {
  const colon = raw.indexOf(':');
  if (colon < 0) return fail('expected user:password (the value has no ":")');
  if (colon === 0) return fail('expected user:password (the user name is empty)');
  return ok({ username: raw.slice(0, colon), password: raw.slice(colon + 1) });
}

/** The keys `--listener` accepts: the ListenerConfig fields, in camelCase or kebab-case. */
export const LISTENER_KEYS = [
  'name',
  'port',
  'tls',
  'starttls',
  'certificate',
  'keyType',
  'minVersion',
  'maxVersion',
  'ciphers',
  'clientCertificate',
  'auth',
] as const;
type ListenerKey = (typeof LISTENER_KEYS)[number];

const kebabToCamel = (key: string): string => key.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());

/** What {@link parseListener} found: the well-formed part of the profile, and every problem. */
export interface ParsedListener {
  /** The keys that parsed (a malformed item is left out, so other checks can still run). */
  config: Partial<ListenerConfig>;
  problems: string[];
}

/**
 * A listener profile written as `name=lab,port=2526,certificate=expired`. Only the shape is
 * checked here (keys, `key=value`, the port number); the values are validated by the options
 * schema so that its rules live in one place. Every problem is reported.
 */
export function parseListener(raw: string): ParsedListener {
  const problems: string[] = [];
  const config: Record<string, string | number> = {};
  const items = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) return { config, problems: ['is empty; expected name=<name>,port=<port>,...'] };
  for (const item of items) {
    const equals = item.indexOf('=');
    if (equals <= 0) {
      problems.push(`${quote(item)} is not key=value`);
      continue;
    }
    const rawKey = item.slice(0, equals).trim();
    const value = item.slice(equals + 1).trim();
    const key = kebabToCamel(rawKey);
    if (!(LISTENER_KEYS as readonly string[]).includes(key)) {
      problems.push(`unknown key ${quote(rawKey)} (known: ${LISTENER_KEYS.join(', ')})`);
      continue;
    }
    if (key in config) {
      problems.push(`key ${quote(rawKey)} is given twice`);
      continue;
    }
    if ((key as ListenerKey) === 'port') {
      const port = parsePort(value);
      if (port.ok) config[key] = port.value;
      else problems.push(`port: ${port.message}`);
    } else config[key] = value;
  }
  if (config.name === undefined) problems.push('name=<name> is required');
  return { config: config as Partial<ListenerConfig>, problems };
}
