import { isIPv4, isIPv6 } from 'node:net';
import { DNS_RECORD_TYPES } from '@mailwright/core';
import type { DnsRecord, DnsRecordType } from '@mailwright/core';
import { normalizeDnsName } from '@mailwright/core';

/**
 * The most text one TXT record can hold: its RDATA (at most 65,535 bytes) is a sequence of
 * character strings of at most 255 bytes, each with a length byte, so 255 × 255 bytes.
 */
export const MAX_TXT_BYTES = 65_025;
const MAX_MX_PRIORITY = 65_535;

/** A record as given by a caller or a zone file line, before it is checked. */
export interface DnsRecordInput {
  name: string;
  type: string;
  value: string;
}

/** Whether a string names a record type the zone holds (case-insensitive). */
export function isDnsRecordType(type: string): type is DnsRecordType {
  return (DNS_RECORD_TYPES as readonly string[]).includes(type);
}

/**
 * Checks one record and brings it into the zone's form (lower-case names without the root dot,
 * A-labels, `priority exchange` for MX). Returns every problem found.
 */
export function normalizeDnsRecord(input: DnsRecordInput): { record: DnsRecord } | { problems: string[] } {
  const problems: string[] = [];
  const name = normalizeDnsName(String(input.name ?? ''));
  if ('problem' in name) problems.push(`name: ${name.problem}`);
  const type = String(input.type ?? '')
    .trim()
    .toUpperCase();
  const rawValue = String(input.value ?? '');
  let value: string | null = null;
  if (!isDnsRecordType(type)) {
    problems.push(`type: "${input.type}" is not one of ${DNS_RECORD_TYPES.join(', ')}`);
  } else {
    const checked = normalizeValue(type, rawValue);
    if ('problem' in checked) problems.push(`value: ${checked.problem}`);
    else value = checked.value;
  }
  if (problems.length > 0 || 'problem' in name || value === null || !isDnsRecordType(type)) return { problems };
  return { record: { name: name.name, type, value } };
}

function normalizeValue(type: DnsRecordType, raw: string): { value: string } | { problem: string } {
  const value = type === 'TXT' ? raw : raw.trim();
  switch (type) {
    case 'A':
      return isIPv4(value) ? { value } : { problem: `"${value}" is not an IPv4 address` };
    case 'AAAA':
      return isIPv6(value) ? { value: value.toLowerCase() } : { problem: `"${value}" is not an IPv6 address` };
    case 'CNAME':
    case 'PTR': {
      const target = normalizeDnsName(value);
      return 'problem' in target ? { problem: target.problem } : { value: target.name };
    }
    case 'MX': {
      const match = /^(\d{1,5})\s+(\S+)$/.exec(value);
      if (!match) return { problem: `"${value}" is not "priority exchange" (e.g. "10 mx.example.com")` };
      const priority = Number(match[1]);
      if (priority > MAX_MX_PRIORITY) return { problem: `the priority ${priority} is over ${MAX_MX_PRIORITY}` };
      // RFC 7505 null MX: "0 ." says the domain accepts no mail.
      if (match[2] === '.') return { value: `${priority} .` };
      const exchange = normalizeDnsName(match[2] ?? '');
      return 'problem' in exchange ? { problem: `exchange: ${exchange.problem}` } : { value: `${priority} ${exchange.name}` };
    }
    case 'TXT': {
      const bytes = Buffer.byteLength(value, 'utf8');
      return bytes > MAX_TXT_BYTES ? { problem: `the text is ${bytes} bytes long; one TXT record holds at most ${MAX_TXT_BYTES}` } : { value };
    }
  }
}

/** Splits a TXT value into the character strings (at most 255 bytes each, whole characters) DNS carries. */
export function splitTxt(value: string): string[] {
  if (value === '') return [''];
  const strings: string[] = [];
  let current = '';
  let currentBytes = 0;
  for (const character of value) {
    const bytes = Buffer.byteLength(character, 'utf8');
    if (currentBytes + bytes > 255) {
      strings.push(current);
      current = '';
      currentBytes = 0;
    }
    current += character;
    currentBytes += bytes;
  }
  strings.push(current);
  return strings;
}
