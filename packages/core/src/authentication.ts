import { z } from 'zod';

/**
 * An authentication verdict, as RFC 8601 names them (`softfail` is SPF's; `policy` means the
 * check ran but its outcome was not acceptable, e.g. a DKIM key shorter than 1024 bits).
 */
export const VerdictSchema = z.enum(['pass', 'fail', 'neutral', 'softfail', 'policy', 'none', 'temperror', 'permerror']);
export type Verdict = z.infer<typeof VerdictSchema>;

/** One DKIM-Signature header field and what its verification found. */
export const DkimVerdictSchema = z.object({
  result: VerdictSchema,
  /** The signing domain (`d=`); empty when the header has none. */
  domain: z.string(),
  /** The selector (`s=`); empty when the header has none. */
  selector: z.string(),
  /** `a=`, e.g. `rsa-sha256`, `ed25519-sha256`. */
  algorithm: z.string(),
  /** The start of `b=` (16 characters), which tells signatures of one domain apart (RFC 6008 `header.b`). */
  signature: z.string(),
  /** `c=`, header/body, e.g. `relaxed/relaxed`; `simple/simple` when absent. */
  canonicalization: z.string(),
  /** The body hash computed over the received body equals `bh=`. */
  bodyHashMatched: z.boolean(),
  /** Size of the public key in bits (RSA modulus; 256 for Ed25519), or null when no key was read. */
  keyBits: z.number().int().positive().nullable(),
  /**
   * The `l=` body length limit, or null when the signature covers the whole body. With `l=`,
   * content can be appended after the signed part without breaking the signature.
   */
  bodyLengthLimit: z.number().int().nonnegative().nullable(),
  /** Bytes of the canonicalized body that the signature does not cover (only with `l=`). */
  unsignedBodyBytes: z.number().int().nonnegative(),
  /** The signature's domain is aligned (relaxed) with the From header's domain. */
  aligned: z.boolean(),
  /** Why the result is what it is, in words (null for a plain pass). */
  reason: z.string().nullable(),
});
export type DkimVerdict = z.infer<typeof DkimVerdictSchema>;

/** SPF for one identity (the MAIL FROM domain, or the HELO name). */
export const SpfVerdictSchema = z.object({
  result: VerdictSchema,
  /** The domain whose SPF record was evaluated. */
  domain: z.string(),
  /** The address SPF was evaluated for. */
  clientIp: z.string(),
  /** The mechanism that decided, as written in the record (`ip4:203.0.113.0/24`, `include:…`, `-all`), or null. */
  mechanism: z.string().nullable(),
  /** DNS lookups the evaluation spent (RFC 7208 allows 10). */
  lookups: z.number().int().nonnegative(),
  /** Lookups that found no record (RFC 7208 allows 2). */
  voidLookups: z.number().int().nonnegative(),
  /** The SPF record of `domain`, or null when there is none. */
  record: z.string().nullable(),
  reason: z.string().nullable(),
});
export type SpfVerdict = z.infer<typeof SpfVerdictSchema>;

/** DMARC for the From header's domain. */
export const DmarcVerdictSchema = z.object({
  result: VerdictSchema,
  /** The From header's domain. */
  domain: z.string(),
  /** Its organizational domain (public-suffix list). */
  organizationalDomain: z.string(),
  /** The policy that applies to this domain (`p=`, or `sp=` for a subdomain covered by the organizational record), or null without a record. */
  policy: z.string().nullable(),
  /** `p=` of the record found. */
  p: z.string().nullable(),
  /** `sp=` of the record found (defaults to `p=`). */
  sp: z.string().nullable(),
  /** An SPF-passing domain aligns with the From domain. */
  spfAligned: z.boolean(),
  /** A DKIM-passing signature's `d=` aligns with the From domain. */
  dkimAligned: z.boolean(),
  /** `aspf=` / `adkim=`: relaxed (organizational domains match) or strict (equal domains). */
  spfAlignment: z.enum(['relaxed', 'strict']),
  dkimAlignment: z.enum(['relaxed', 'strict']),
  /** The DMARC record, or null when there is none. */
  record: z.string().nullable(),
  reason: z.string().nullable(),
});
export type DmarcVerdict = z.infer<typeof DmarcVerdictSchema>;

/** The ARC chain of a message. */
export const ArcVerdictSchema = z.object({
  /** The chain validation (`cv=`) a receiver would record: `none` without a chain. */
  result: VerdictSchema,
  /** ARC sets (instances) in the chain. */
  instances: z.number().int().nonnegative(),
  reason: z.string().nullable(),
});
export type ArcVerdict = z.infer<typeof ArcVerdictSchema>;

/** Who really sent a message: SPF, DKIM, DMARC and ARC, as a receiving MTA would judge them. */
export const AuthenticationSchema = z.object({
  /** `pending` until the verdicts are computed (after the `250`). */
  status: z.enum(['pending', 'done']),
  /** One entry per DKIM-Signature header field, top to bottom; empty for an unsigned message. */
  dkim: z.array(DkimVerdictSchema),
  /** SPF for the MAIL FROM identity (for a null sender, `postmaster@` the HELO name). */
  spf: SpfVerdictSchema,
  /** SPF for the HELO identity; null when the client greeted with an address literal or not at all. */
  helo: z.object({ result: VerdictSchema, domain: z.string().nullable(), reason: z.string().nullable() }).nullable(),
  dmarc: DmarcVerdictSchema,
  /** Null when the message carries no ARC headers. */
  arc: ArcVerdictSchema.nullable(),
  /** The client address SPF was judged for, and why that one. */
  clientIp: z.object({ address: z.string(), source: z.string() }),
  /** The RFC 8601 `Authentication-Results` header value a receiving MTA would add (authserv-id first). */
  authenticationResults: z.string(),
  /** When the verdicts were computed (ISO 8601). */
  computedAt: z.string().nullable(),
});
export type Authentication = z.infer<typeof AuthenticationSchema>;

/**
 * What a message list carries of its verdicts: one each (DKIM: the best signature's, `none`
 * for an unsigned message); null while `pending`.
 */
export const AuthenticationSummarySchema = z.object({
  status: z.enum(['pending', 'done']),
  dkim: VerdictSchema.nullable(),
  spf: VerdictSchema.nullable(),
  dmarc: VerdictSchema.nullable(),
});
export type AuthenticationSummary = z.infer<typeof AuthenticationSummarySchema>;

/** Best first: the DKIM verdict a message is summarized by is its best signature's. */
const DKIM_RANK: readonly Verdict[] = ['pass', 'fail', 'policy', 'neutral', 'softfail', 'temperror', 'permerror', 'none'];

/**
 * The verdicts of a record, one each, as lists and filters use them (a summary is returned as
 * it is: a message from the list carries one, a detail the whole record).
 */
export function summarizeAuthentication(authentication: Authentication | AuthenticationSummary): AuthenticationSummary {
  if (!Array.isArray(authentication.dkim)) return authentication as AuthenticationSummary;
  if (authentication.status === 'pending') return { status: 'pending', dkim: null, spf: null, dmarc: null };
  let dkim: Verdict = 'none';
  const record = authentication as Authentication;
  for (const signature of record.dkim) if (DKIM_RANK.indexOf(signature.result) < DKIM_RANK.indexOf(dkim)) dkim = signature.result;
  return { status: 'done', dkim, spf: record.spf.result, dmarc: record.dmarc.result };
}
