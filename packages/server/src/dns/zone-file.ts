import { readFile, stat } from 'node:fs/promises';
import { ErrorCode, MailwrightError } from '@mailwright/core';
import type { DnsRecord, DnsRecordType } from '@mailwright/core';
import { normalizeDnsRecord } from './dns-record-value.js';
import { DnsZone, cnameConflict } from './dns-zone.js';

/** The largest zone file read. */
export const MAX_ZONE_FILE_BYTES = 16 * 1024 * 1024;

/** One problem of a zone file, at a 1-based line. */
export interface ZoneFileProblem {
  line: number;
  message: string;
}

/** A parsed zone file: the records with their lines, and every problem found. */
export interface ZoneFileParse {
  records: { line: number; record: DnsRecord }[];
  problems: ZoneFileProblem[];
}

const TTL = /^\d+$/;

/**
 * Parses the zone file format: one record per line, `name [ttl] [IN] TYPE value`; blank lines
 * and lines starting with `#` or `;` are ignored. Names are absolute (the trailing dot is
 * optional). The value is the rest of the line; a TXT value may instead be written as one or
 * more double-quoted strings (`"v=DKIM1; k=rsa; " "p=MIIB…"`, joined without a separator, with
 * `\"` and `\\` escapes), as BIND writes them. A TTL and the `IN` class are accepted and
 * ignored. Every problem is reported, each with its line, not only the first.
 */
export function parseZoneFile(text: string): ZoneFileParse {
  const records: ZoneFileParse['records'] = [];
  const problems: ZoneFileProblem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const parsed = parseLine(raw);
    if ('problem' in parsed) {
      problems.push({ line, message: parsed.problem });
      return;
    }
    const checked = normalizeDnsRecord(parsed);
    if ('problems' in checked) {
      for (const message of checked.problems) problems.push({ line, message });
      return;
    }
    records.push({ line, record: checked.record });
  });
  // RFC 1034 §3.6.2, checked across lines: report it at the first CNAME line of the name.
  const byName = new Map<string, { line: number; rrsets: Map<DnsRecordType, string[]> }>();
  for (const { line, record } of records) {
    const entry = byName.get(record.name) ?? { line: Number.POSITIVE_INFINITY, rrsets: new Map<DnsRecordType, string[]>() };
    const values = entry.rrsets.get(record.type) ?? [];
    if (!values.includes(record.value)) values.push(record.value);
    entry.rrsets.set(record.type, values);
    if (record.type === 'CNAME') entry.line = Math.min(entry.line, line);
    byName.set(record.name, entry);
  }
  for (const [name, entry] of byName) {
    const conflict = cnameConflict(entry.rrsets);
    if (conflict) problems.push({ line: entry.line, message: `${name}: ${conflict}` });
  }
  problems.sort((a, b) => a.line - b.line);
  return { records, problems };
}

function parseLine(raw: string): { name: string; type: string; value: string } | { problem: string } {
  const first = /^\s*(\S+)/.exec(raw);
  const name = first?.[1];
  if (first === null || name === undefined) return { problem: 'expected "name TYPE value"' };
  let rest = raw.slice(first[0].length);
  let type: string | undefined;
  // An optional TTL and an optional IN class (in either order) may stand before the type.
  for (let position = 0; position < 3 && type === undefined; position++) {
    const next = /^\s+(\S+)/.exec(rest);
    if (!next) break;
    rest = rest.slice(next[0].length);
    const token = next[1] ?? '';
    if (position < 2 && (TTL.test(token) || token.toUpperCase() === 'IN')) continue;
    type = token;
  }
  if (type === undefined) return { problem: `expected "name TYPE value" (found only "${raw.trim()}")` };
  const value = rest.trim();
  if (value === '' && type.toUpperCase() !== 'TXT') return { problem: `expected a value after "${name} ${type}"` };
  if (type.toUpperCase() === 'TXT' && value.startsWith('"')) {
    const quoted = parseQuoted(value);
    if ('problem' in quoted) return quoted;
    return { name, type, value: quoted.text };
  }
  return { name, type, value };
}

function parseQuoted(input: string): { text: string } | { problem: string } {
  let text = '';
  let index = 0;
  while (index < input.length) {
    if (input[index] !== '"') return { problem: `after a quoted TXT string only another quoted string may follow (found "${input.slice(index, index + 20)}")` };
    index++;
    let closed = false;
    while (index < input.length) {
      const character = input[index++];
      if (character === '\\') {
        if (index >= input.length) break;
        text += input[index++];
      } else if (character === '"') {
        closed = true;
        break;
      } else {
        text += character;
      }
    }
    if (!closed) return { problem: 'a quoted TXT string is not closed (a record is one line)' };
    while (index < input.length && /\s/.test(input[index] ?? '')) index++;
  }
  return { text };
}

/**
 * A zone holding the records of a zone file's text. Throws `INVALID_DNS_RECORD` listing every
 * problem as `source:line: message`.
 */
export function zoneFromText(text: string, source = 'zone'): DnsZone {
  const { records, problems } = parseZoneFile(text);
  if (problems.length > 0) {
    throw new MailwrightError(
      ErrorCode.INVALID_DNS_RECORD,
      `${source} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((problem) => `  ${source}:${problem.line}: ${problem.message}`).join('\n')}`,
      {
        details: problems,
      },
    );
  }
  const zone = new DnsZone();
  try {
    zone.put(records.map(({ record }) => record));
  } catch (error) {
    // Only the zone's size limits remain to be hit here; say which file.
    throw new MailwrightError(ErrorCode.INVALID_DNS_RECORD, `${source}: ${(error as Error).message}`, {
      cause: error,
      details: (error as MailwrightError).details,
    });
  }
  return zone;
}

/** Reads a zone file (at most {@link MAX_ZONE_FILE_BYTES}) into a zone; see {@link parseZoneFile}. */
export async function loadZoneFile(path: string): Promise<DnsZone> {
  let bytes: number;
  try {
    bytes = (await stat(path)).size;
  } catch (error) {
    throw new MailwrightError(ErrorCode.INVALID_DNS_RECORD, `cannot read the DNS zone file ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (bytes > MAX_ZONE_FILE_BYTES) {
    throw new MailwrightError(ErrorCode.INVALID_DNS_RECORD, `the DNS zone file ${path} is ${bytes} bytes; at most ${MAX_ZONE_FILE_BYTES} are read`);
  }
  return zoneFromText(await readFile(path, 'utf8'), path);
}
