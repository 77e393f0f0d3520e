import { Resolver } from 'node:dns/promises';
import { dnsError, type DnsAnswer, type DnsResolver } from './dns-resolver.js';

/** How long one live query may take, by default, before it is a timeout. */
export const LIVE_DNS_TIMEOUT_MS = 2_000;

/** Options of {@link createLiveResolver}. */
export interface LiveResolverOptions {
  /** Milliseconds one query may take before it fails with `ETIMEOUT`. Default {@link LIVE_DNS_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Name servers (`'192.0.2.53'`, `'[2001:db8::53]:5353'`); default: the system's. */
  servers?: readonly string[];
}

const TYPES = new Set(['A', 'AAAA', 'CNAME', 'MX', 'PTR', 'TXT']);

/**
 * A resolver that asks real DNS (only where live DNS was asked for). Every query is bounded:
 * node:dns's own timeout with a single try, and a timer of our own that cancels the query and
 * rejects with `ETIMEOUT`, so no answer, however slow, holds a caller longer than `timeoutMs`.
 */
export function createLiveResolver(options: LiveResolverOptions = {}): DnsResolver {
  const timeoutMs = options.timeoutMs ?? LIVE_DNS_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive number of milliseconds (got ${timeoutMs})`);
  const servers = options.servers ? [...options.servers] : undefined;
  return (hostname: string, rrtype = 'A') => {
    const type = String(rrtype).toUpperCase();
    if (!TYPES.has(type)) return Promise.reject(dnsError('ENODATA', hostname, type, 'type not asked live'));
    // One Resolver per query: cancel() aborts every outstanding query of a Resolver.
    const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
    if (servers) resolver.setServers(servers);
    return new Promise<DnsAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        resolver.cancel();
        reject(dnsError('ETIMEOUT', hostname, type, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      (resolver.resolve(hostname, type) as Promise<DnsAnswer>).then(
        (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  };
}
