import { AuthenticationSchema, type Authentication } from '@mailwright/core';
import { computeAuthentication, type AuthenticationInput } from '../analysis/compute-authentication.js';
import type { DnsResolver } from '../dns/dns-resolver.js';
import type { DnsZone } from '../dns/dns-zone.js';
import { createZoneResolver } from '../dns/zone-resolver.js';

/** The envelope the authentication tests use unless they say otherwise. */
export const TEST_ENVELOPE = { mailFrom: 'alice@example.com', helo: 'mail.example.com', clientIp: '203.0.113.7', authservId: 'mx.mailwright.test' } as const;

/**
 * Computes the verdicts for `raw` against `zone` (or a resolver), with {@link TEST_ENVELOPE}
 * overridden by `envelope`. Every record is checked against core's schema (the contract).
 */
export async function verifyAuthentication(
  raw: Buffer | string,
  dns: DnsZone | DnsResolver,
  envelope: Partial<Omit<AuthenticationInput, 'raw'>> = {},
  timeoutMs?: number,
): Promise<Authentication> {
  const resolver = typeof dns === 'function' ? dns : createZoneResolver(dns);
  const auth = await computeAuthentication(
    { raw: Buffer.isBuffer(raw) ? raw : Buffer.from(raw), ...TEST_ENVELOPE, ...envelope },
    { resolver, ...(timeoutMs !== undefined ? { timeoutMs } : {}) },
  );
  return AuthenticationSchema.strict().parse(auth);
}

/** Replaces the first occurrence of `from` in the message's bytes (a change in transit). */
export function alter(raw: Buffer, from: string, to: string): Buffer {
  const text = raw.toString('latin1');
  const at = text.indexOf(from);
  if (at < 0) throw new Error(`"${from}" is not in the message`);
  return Buffer.from(text.slice(0, at) + to + text.slice(at + from.length), 'latin1');
}
