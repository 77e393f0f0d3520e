import { DNS_RECORD_TYPES, ErrorCode, MailwrightError } from '@mailwright/core';
import type { DnsRecord, DnsRecordType } from '@mailwright/core';
import { nameAndAncestors, normalizeDnsName } from '@mailwright/core';
import { isDnsRecordType, normalizeDnsRecord, type DnsRecordInput } from './dns-record-value.js';

/** The most records one zone holds. */
export const MAX_ZONE_RECORDS = 50_000;
/** The most bytes of record values one zone holds (16 KB DKIM keys and SPF records add up). */
export const MAX_ZONE_VALUE_BYTES = 32 * 1024 * 1024;

/** One problem of a record, with its position in the list (or zone file line) it came from. */
export interface DnsRecordProblem {
  /** Index in the list given, or the 1-based line of a zone file. */
  at: number;
  /** The record's name as given (for messages). */
  name: string;
  message: string;
}

/** What the zone holds for a name and type. */
export type ZoneLookup = { kind: 'answer'; values: readonly string[] } | { kind: 'cname'; target: string } | { kind: 'nodata' } | { kind: 'nxdomain' };

type RRsets = Map<DnsRecordType, string[]>;

/** The error for records that cannot go into the zone; `details` lists every problem. */
export function invalidDnsRecords(problems: readonly DnsRecordProblem[], where = 'record'): MailwrightError {
  const lines = problems.map((problem) => `${where} ${problem.at} (${problem.name}): ${problem.message}`);
  return new MailwrightError(ErrorCode.INVALID_DNS_RECORD, `invalid DNS records:\n  ${lines.join('\n  ')}`, { statusCode: 400, details: problems });
}

/**
 * RFC 1034 §3.6.2: a name with a CNAME holds no other data, and one CNAME only. Returns the
 * problem, or null.
 */
export function cnameConflict(rrsets: ReadonlyMap<DnsRecordType, readonly string[]>): string | null {
  const cname = rrsets.get('CNAME');
  if (!cname || cname.length === 0) return null;
  if (cname.length > 1) return `a name has at most one CNAME (found ${cname.length}: ${cname.join(', ')})`;
  const others = [...rrsets].filter(([type, values]) => type !== 'CNAME' && values.length > 0).map(([type]) => type);
  return others.length > 0 ? `a name with a CNAME holds no other records (it also has ${others.join(', ')})` : null;
}

/**
 * The mock DNS zone: records by name and type, consulted instead of the network. A name with
 * no record at or below it does not exist (NXDOMAIN); a name that exists without a record of
 * the asked type has no data (NODATA). Every change is checked first and applied whole.
 */
export class DnsZone {
  readonly #names = new Map<string, RRsets>();
  /** Name → records at or below it: a name exists when it or a descendant holds a record. */
  readonly #existing = new Map<string, number>();
  #records = 0;
  #valueBytes = 0;
  #revision = 0;

  /** A zone holding `records` (checked like {@link put}). */
  static from(records: readonly DnsRecordInput[]): DnsZone {
    const zone = new DnsZone();
    zone.put(records);
    return zone;
  }

  /** Increases with every change; lets a caller tell whether verdicts may be stale. */
  get revision(): number {
    return this.#revision;
  }

  /** The number of records. */
  get size(): number {
    return this.#records;
  }

  /**
   * Replaces, for every name and type among `records`, the records of that name and type with
   * the given ones (a list may hold several of one name and type: the MX hosts of a domain).
   * Nothing changes unless every record is valid; the error lists every problem.
   */
  put(records: readonly DnsRecordInput[]): DnsRecord[] {
    const problems: DnsRecordProblem[] = [];
    const groups = new Map<string, { name: string; type: DnsRecordType; values: string[]; at: number }>();
    records.forEach((input, at) => {
      const checked = normalizeDnsRecord(input);
      if ('problems' in checked) {
        for (const message of checked.problems) problems.push({ at, name: String(input?.name), message });
        return;
      }
      const { name, type, value } = checked.record;
      const key = `${name} ${type}`;
      const group = groups.get(key) ?? { name, type, values: [], at };
      if (!group.values.includes(value)) group.values.push(value);
      groups.set(key, group);
    });
    if (problems.length === 0) {
      const byName = new Map<string, { at: number; groups: { type: DnsRecordType; values: string[] }[] }>();
      for (const group of groups.values()) {
        const entry = byName.get(group.name) ?? { at: group.at, groups: [] };
        entry.at = Math.min(entry.at, group.at);
        entry.groups.push(group);
        byName.set(group.name, entry);
      }
      for (const [name, entry] of byName) {
        const next: RRsets = new Map(this.#names.get(name));
        for (const group of entry.groups) next.set(group.type, group.values);
        const conflict = cnameConflict(next);
        if (conflict) problems.push({ at: entry.at, name, message: conflict });
      }
    }
    if (problems.length === 0) {
      let recordsAfter = this.#records;
      let bytesAfter = this.#valueBytes;
      for (const group of groups.values()) {
        const old = this.#names.get(group.name)?.get(group.type) ?? [];
        recordsAfter += group.values.length - old.length;
        bytesAfter += valueBytes(group.values) - valueBytes(old);
      }
      if (recordsAfter > MAX_ZONE_RECORDS)
        problems.push({ at: 0, name: '*', message: `the zone would hold ${recordsAfter} records; at most ${MAX_ZONE_RECORDS} are allowed` });
      if (bytesAfter > MAX_ZONE_VALUE_BYTES)
        problems.push({ at: 0, name: '*', message: `the zone's values would take ${bytesAfter} bytes; at most ${MAX_ZONE_VALUE_BYTES} are allowed` });
    }
    if (problems.length > 0) throw invalidDnsRecords(problems);
    const written: DnsRecord[] = [];
    for (const group of groups.values()) {
      this.#replace(group.name, group.type, group.values);
      for (const value of group.values) written.push({ name: group.name, type: group.type, value });
    }
    if (groups.size > 0) this.#revision++;
    return written;
  }

  /** Replaces the records of one name and type with `values` (none: deletes them). */
  set(name: string, type: string, values: string | readonly string[]): DnsRecord[] {
    const list = typeof values === 'string' ? [values] : values;
    if (list.length === 0) {
      this.delete(name, type);
      return [];
    }
    return this.put(list.map((value) => ({ name, type, value })));
  }

  /** Adds one record to those of its name and type. */
  add(name: string, type: string, value: string): DnsRecord[] {
    const existing = this.get(name, type).map((record) => record.value);
    return this.set(name, type, [...existing, value]);
  }

  /** The records of a name (of one type, when given). */
  get(name: string, type?: string): DnsRecord[] {
    const key = this.#key(name, type);
    const rrsets = this.#names.get(key.name);
    if (!rrsets) return [];
    const out: DnsRecord[] = [];
    for (const [rrtype, values] of rrsets) {
      if (key.type && rrtype !== key.type) continue;
      for (const value of values) out.push({ name: key.name, type: rrtype, value });
    }
    return out;
  }

  /** Deletes the records of a name (of one type, when given); returns how many went. */
  delete(name: string, type?: string): number {
    const key = this.#key(name, type);
    const rrsets = this.#names.get(key.name);
    if (!rrsets) return 0;
    let removed = 0;
    for (const rrtype of [...rrsets.keys()]) {
      if (key.type && rrtype !== key.type) continue;
      removed += rrsets.get(rrtype)?.length ?? 0;
      this.#replace(key.name, rrtype, []);
    }
    if (removed > 0) this.#revision++;
    return removed;
  }

  /** Every record, sorted by name and type. */
  records(): DnsRecord[] {
    const out: DnsRecord[] = [];
    for (const name of [...this.#names.keys()].sort()) out.push(...this.get(name));
    return out;
  }

  /** Removes every record. */
  clear(): void {
    if (this.#records === 0) return;
    this.#names.clear();
    this.#existing.clear();
    this.#records = 0;
    this.#valueBytes = 0;
    this.#revision++;
  }

  /** What the zone answers for an already normalized name and a type (no CNAME following). */
  lookup(name: string, type: string): ZoneLookup {
    const rrsets = this.#names.get(name);
    if (type !== 'CNAME') {
      const cname = rrsets?.get('CNAME')?.[0];
      if (cname !== undefined) return { kind: 'cname', target: cname };
    }
    const values = rrsets?.get(type as DnsRecordType);
    if (values && values.length > 0) return { kind: 'answer', values };
    return this.#existing.has(name) ? { kind: 'nodata' } : { kind: 'nxdomain' };
  }

  #key(name: string, type: string | undefined): { name: string; type: DnsRecordType | undefined } {
    const problems: string[] = [];
    const normalized = normalizeDnsName(String(name));
    if ('problem' in normalized) problems.push(`name: ${normalized.problem}`);
    const upper = type === undefined ? undefined : String(type).trim().toUpperCase();
    if (upper !== undefined && !isDnsRecordType(upper)) problems.push(`type: "${type}" is not one of ${DNS_RECORD_TYPES.join(', ')}`);
    if (problems.length > 0 || 'problem' in normalized) throw invalidDnsRecords(problems.map((message) => ({ at: 0, name, message })));
    return { name: normalized.name, type: upper as DnsRecordType | undefined };
  }

  #replace(name: string, type: DnsRecordType, values: readonly string[]): void {
    const rrsets = this.#names.get(name) ?? new Map<DnsRecordType, string[]>();
    const old = rrsets.get(type) ?? [];
    const delta = values.length - old.length;
    this.#records += delta;
    this.#valueBytes += valueBytes(values) - valueBytes(old);
    if (values.length > 0) rrsets.set(type, [...values]);
    else rrsets.delete(type);
    if (rrsets.size > 0) this.#names.set(name, rrsets);
    else this.#names.delete(name);
    if (delta !== 0) {
      for (const ancestor of nameAndAncestors(name)) {
        const count = (this.#existing.get(ancestor) ?? 0) + delta;
        if (count > 0) this.#existing.set(ancestor, count);
        else this.#existing.delete(ancestor);
      }
    }
  }
}

function valueBytes(values: readonly string[]): number {
  let total = 0;
  for (const value of values) total += Buffer.byteLength(value, 'utf8');
  return total;
}
