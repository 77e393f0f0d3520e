import { normalizeDnsName } from '@mailwright/core';
import { splitTxt } from './dns-record-value.js';
import { dnsError, type DnsAnswer, type DnsResolver } from './dns-resolver.js';
import type { DnsZone } from './dns-zone.js';

/** The most CNAMEs followed for one query; a longer chain (or a loop) is SERVFAIL, as resolvers answer. */
export const MAX_CNAME_CHAIN = 8;

/** Query types node:dns knows but the zone holds none of: answered NODATA or NXDOMAIN. */
const OTHER_QUERY_TYPES = new Set(['ANY', 'CAA', 'NAPTR', 'NS', 'SOA', 'SRV', 'TLSA']);

/**
 * A resolver that answers from the mock zone and never from the network: a missing name is
 * `ENOTFOUND`, a name without records of the type `ENODATA`. CNAMEs are followed (at most
 * {@link MAX_CNAME_CHAIN}); a loop or a longer chain is `ESERVFAIL`. Every answer is a fresh
 * array, so a caller that sorts it (mailauth sorts MX answers) changes nothing in the zone.
 */
export function createZoneResolver(zone: DnsZone): DnsResolver {
  return async (hostname: string, rrtype = 'A') => answerFromZone(zone, String(hostname), String(rrtype).toUpperCase());
}

function answerFromZone(zone: DnsZone, hostname: string, type: string): DnsAnswer {
  const isZoneType = ['A', 'AAAA', 'CNAME', 'MX', 'PTR', 'TXT'].includes(type);
  if (!isZoneType && !OTHER_QUERY_TYPES.has(type)) {
    const error = new TypeError(`The argument 'rrtype' is invalid. Received '${type}'`) as TypeError & { code: string };
    error.code = 'ERR_INVALID_ARG_VALUE';
    throw error;
  }
  const normalized = normalizeDnsName(hostname);
  if ('problem' in normalized) throw dnsError('ENOTFOUND', hostname, type);
  let name = normalized.name;
  const seen = new Set<string>([name]);
  for (let hops = 0; ; hops++) {
    const found = zone.lookup(name, type);
    switch (found.kind) {
      case 'nxdomain':
        throw dnsError('ENOTFOUND', hostname, type);
      case 'nodata':
        throw dnsError('ENODATA', hostname, type);
      case 'cname':
        if (hops >= MAX_CNAME_CHAIN || seen.has(found.target)) {
          throw dnsError('ESERVFAIL', hostname, type, seen.has(found.target) ? `CNAME loop at ${found.target}` : `more than ${MAX_CNAME_CHAIN} CNAMEs`);
        }
        seen.add(found.target);
        name = found.target;
        continue;
      case 'answer':
        return toAnswer(type, found.values);
    }
  }
}

function toAnswer(type: string, values: readonly string[]): DnsAnswer {
  switch (type) {
    case 'TXT':
      return values.map(splitTxt);
    case 'MX':
      return values.map((value) => {
        const space = value.indexOf(' ');
        const exchange = value.slice(space + 1);
        // node:dns reports the RFC 7505 null MX's root exchange as an empty string.
        return { priority: Number(value.slice(0, space)), exchange: exchange === '.' ? '' : exchange };
      });
    default:
      return [...values];
  }
}
