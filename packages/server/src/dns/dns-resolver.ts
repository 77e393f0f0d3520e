/** The answer shapes of `dns.promises.resolve(name, rrtype)` for the types the checks ask for. */
export type DnsAnswer = string[] | string[][] | { exchange: string; priority: number }[];

/**
 * A resolver in the shape of `dns.promises.resolve(name, rrtype)`, which is what mailauth's
 * `resolver` option expects: A/AAAA/CNAME/PTR answer `string[]`, TXT answers `string[][]` (the
 * character strings of each record), MX answers `{ exchange, priority }[]`. Failures reject with
 * an error carrying node:dns's `code`: `ENOTFOUND` (no such name), `ENODATA` (the name exists
 * but has no record of that type), `ETIMEOUT`, `ESERVFAIL`.
 */
export type DnsResolver = (name: string, rrtype?: string) => Promise<DnsAnswer>;

/** The node:dns error codes the resolvers report. */
export type DnsErrorCode = 'ENOTFOUND' | 'ENODATA' | 'ETIMEOUT' | 'ESERVFAIL' | 'ECANCELLED';

/** An error shaped like the ones node:dns rejects with (`code`, `syscall`, `hostname`). */
export interface DnsError extends Error {
  code: DnsErrorCode;
  syscall: string;
  hostname: string;
}

const SYSCALLS: Record<string, string> = {
  A: 'queryA',
  AAAA: 'queryAaaa',
  CNAME: 'queryCname',
  MX: 'queryMx',
  PTR: 'queryPtr',
  TXT: 'queryTxt',
};

/** Creates the error node:dns would reject a query for `hostname`/`rrtype` with. */
export function dnsError(code: DnsErrorCode, hostname: string, rrtype: string, detail?: string): DnsError {
  const syscall = SYSCALLS[rrtype] ?? `query${rrtype.charAt(0)}${rrtype.slice(1).toLowerCase()}`;
  const error = new Error(`${syscall} ${code} ${hostname}${detail ? ` (${detail})` : ''}`) as DnsError;
  error.code = code;
  error.syscall = syscall;
  error.hostname = hostname;
  return error;
}

/** Whether an error is a DNS error with one of the given codes. */
export function isDnsError(error: unknown, ...codes: DnsErrorCode[]): error is DnsError {
  return error instanceof Error && typeof (error as Partial<DnsError>).code === 'string' && codes.includes((error as DnsError).code);
}
