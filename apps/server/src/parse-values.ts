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

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A length of time with its unit, `90s`, `30m`, `12h`, `7d`, `2w`, in milliseconds. */
export function parseDuration(raw: string): Parsed<number> {
  const match = /^(\d+)\s*([smhdw])$/i.exec(raw.trim());
  const unit = DURATION_UNITS_MS[match?.[2]?.toLowerCase() ?? 'none'];
  if (!match || unit === undefined) return fail(`${quote(raw)} is not a duration (a whole number with s, m, h, d or w: 90s, 12h, 7d)`);
  const value = Number(match[1]) * unit;
  if (!Number.isSafeInteger(value) || value <= 0) return fail(`${quote(raw)} is not a duration above 0`);
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

/** A host name or IP address, as a certificate can cover it (no spaces, no commas). */
export const isHostName = (name: string): boolean => name !== '' && !/[\s,]/.test(name);

/** A browser origin (`scheme://host[:port]`, no path) or `*`. */
export const isOrigin = (origin: string): boolean => origin === '*' || (URL.canParse(origin) && new URL(origin).origin === origin);

/** A host name, `.domain` for it and its subdomains, or `*`. */
export const isHostPattern = (name: string): boolean => name === '*' || /^\.?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/.test(name);
