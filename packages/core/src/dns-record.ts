import { z } from 'zod';

/** The record types the mock DNS zone holds. */
export const DNS_RECORD_TYPES = ['TXT', 'MX', 'A', 'AAAA', 'CNAME', 'PTR'] as const;
export const DnsRecordTypeSchema = z.enum(DNS_RECORD_TYPES);
export type DnsRecordType = z.infer<typeof DnsRecordTypeSchema>;

/**
 * One record of the mock DNS zone. `value` is written as in a zone file: an address for A and
 * AAAA, a host name for CNAME and PTR, `priority exchange` for MX (`10 mx.example.com`), and
 * the whole text for TXT (split into 255-byte strings when served).
 */
export const DnsRecordSchema = z.object({
  name: z.string(),
  type: DnsRecordTypeSchema,
  value: z.string(),
});
export type DnsRecord = z.infer<typeof DnsRecordSchema>;
