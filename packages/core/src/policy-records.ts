import { z } from 'zod';
import type { DnsRecord } from './dns-record.js';
import { normalizeDnsName } from './dns-name.js';

const IPV4 = z.ipv4();
const IPV6 = z.ipv6();

/** Options of {@link spfAllowRecord}. */
export interface SpfAllowOptions {
  /** What the record ends with for every other address: `-all` (fail, default), `~all` (softfail), `?all` (neutral). */
  all?: '-all' | '~all' | '?all';
  /** Mechanisms placed before `all`, verbatim (e.g. `include:_spf.example.net`). */
  also?: readonly string[];
}

function domainName(domain: string): string {
  const checked = normalizeDnsName(domain);
  if ('problem' in checked) throw new TypeError(`domain: ${checked.problem}`);
  return checked.name;
}

/**
 * The SPF record that lets `ips` send for `domain`: `domain TXT "v=spf1 ip4:… ip6:… -all"`.
 * An address may carry a prefix length (`203.0.113.0/24`).
 */
export function spfAllowRecord(domain: string, ips: string | readonly string[], options: SpfAllowOptions = {}): DnsRecord {
  const mechanisms: string[] = [];
  for (const entry of typeof ips === 'string' ? [ips] : ips) {
    const [address = '', prefix] = entry.split('/');
    const family = IPV4.safeParse(address).success ? 4 : IPV6.safeParse(address).success ? 6 : 0;
    const maxPrefix = family === 4 ? 32 : 128;
    if (family === 0 || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix)))
      throw new TypeError(`"${entry}" is not an IP address or network`);
    mechanisms.push(`ip${family}:${entry}`);
  }
  const all = options.all ?? '-all';
  if (!['-all', '~all', '?all'].includes(all)) throw new TypeError(`all must be -all, ~all or ?all (got ${String(all)})`);
  return { name: domainName(domain), type: 'TXT', value: ['v=spf1', ...mechanisms, ...(options.also ?? []), all].join(' ') };
}

/** A DMARC policy: what a receiver does with mail that fails. */
export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

/** Options of {@link dmarcRecord}, named after the record's tags. */
export interface DmarcRecordOptions {
  /** `sp=`: the policy for subdomains (default: as `p=`). */
  subdomainPolicy?: DmarcPolicy;
  /** `adkim=`: `relaxed` (default) or `strict` DKIM alignment. */
  dkimAlignment?: 'relaxed' | 'strict';
  /** `aspf=`: `relaxed` (default) or `strict` SPF alignment. */
  spfAlignment?: 'relaxed' | 'strict';
  /** `rua=`: aggregate report addresses (`mailto:` is added when missing). */
  reportTo?: readonly string[];
}

const POLICIES: readonly string[] = ['none', 'quarantine', 'reject'];

/** The DMARC record publishing `policy` for `domain`: `_dmarc.domain TXT "v=DMARC1; p=…"`. */
export function dmarcRecord(domain: string, policy: DmarcPolicy, options: DmarcRecordOptions = {}): DnsRecord {
  if (!POLICIES.includes(policy)) throw new TypeError(`policy must be none, quarantine or reject (got ${String(policy)})`);
  if (options.subdomainPolicy !== undefined && !POLICIES.includes(options.subdomainPolicy))
    throw new TypeError(`subdomainPolicy must be none, quarantine or reject`);
  const tags = [`v=DMARC1`, `p=${policy}`];
  if (options.subdomainPolicy) tags.push(`sp=${options.subdomainPolicy}`);
  if (options.dkimAlignment) tags.push(`adkim=${options.dkimAlignment === 'strict' ? 's' : 'r'}`);
  if (options.spfAlignment) tags.push(`aspf=${options.spfAlignment === 'strict' ? 's' : 'r'}`);
  if (options.reportTo && options.reportTo.length > 0)
    tags.push(`rua=${options.reportTo.map((to) => (to.startsWith('mailto:') ? to : `mailto:${to}`)).join(',')}`);
  return { name: `_dmarc.${domainName(domain)}`, type: 'TXT', value: tags.join('; ') };
}
