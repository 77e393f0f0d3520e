import { createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import type { ArcVerdict, Authentication, DkimVerdict, DmarcVerdict, SpfVerdict, Verdict } from '@mailwright/core';
import type { ARCResult, DKIMResult, DKIMVerifyResult, DNSResolver, SPFResult } from 'mailauth';
import { dnsError, type DnsAnswer, type DnsResolver } from '../dns/dns-resolver.js';
import { formatAuthenticationResults } from './authentication-results.js';
import { emptyDmarcVerdict } from './empty-dmarc-verdict.js';
import { readDkimSignatureFields, withFirstDkimSignatures, type DkimSignatureField } from './dkim-signature-fields.js';
import { formatSpfMatch, loadMailauthChecks, matchedSpfMechanism, recordSpfMatches, spfMatchRecorded, type MailauthChecks } from './mailauth-spf-mechanism.js';

let mailauthModule: Promise<MailauthChecks> | undefined;
/**
 * mailauth's checks, loaded on first use: they hold about 6 MB of heap that a server checking
 * no message need not carry. Its SPF evaluator is wrapped first, so that SPF is evaluated once per identity.
 */
const mailauth = (): Promise<MailauthChecks> =>
  (mailauthModule ??= Promise.resolve().then(() => {
    recordSpfMatches();
    return loadMailauthChecks();
  }));

/** How long computing one message's verdicts may take in all, by default. */
export const AUTHENTICATION_TIMEOUT_MS = 5_000;
/** The most DNS queries one message's verdicts may make (SPF alone allows about 10 + 2 × 10 × 10). */
export const MAX_AUTHENTICATION_QUERIES = 400;
/**
 * The most DKIM signatures of one message that are verified (RFC 6376 §6.1 lets verifiers limit
 * them): each can hash the body anew (a different `l=`, algorithm or canonicalization), so a
 * message with thousands would cost thousands of passes over its body.
 */
export const MAX_VERIFIED_DKIM_SIGNATURES = 50;
/** RSA keys shorter than this are `policy` (RFC 8301: verifiers must not accept under 1024 bits). */
export const MIN_KEY_BITS = 1024;

/** What the verdicts are computed from: the message as received and its SMTP envelope. */
export interface AuthenticationInput {
  /** The exact bytes received. */
  raw: Buffer;
  /** The MAIL FROM address; empty for the null sender `<>`. */
  mailFrom: string;
  /** The HELO/EHLO argument, or null. */
  helo: string | null;
  /** The client address SPF is judged for. */
  clientIp: string;
  /** Why that address (e.g. `connection`, `listener clientIp`). Default `connection`. */
  clientIpSource?: string;
  /** The authserv-id of the Authentication-Results value: the listener's host name. */
  authservId: string;
}

/** Options of {@link computeAuthentication}. */
export interface AuthenticationOptions {
  /** Where DNS answers come from: the mock zone's resolver, or the live one. */
  resolver: DnsResolver;
  /** The most milliseconds for all checks together; then pending queries fail as timeouts. Default {@link AUTHENTICATION_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** The time signatures' `t=`/`x=` are judged at. Default: now. */
  now?: Date;
}

/**
 * A resolver for one message's checks: answers are remembered (DKIM, SPF and DMARC ask some
 * names more than once, and the SPF mechanism is read by a second evaluation), the number of
 * queries is bounded, and past the deadline every query is a timeout at once.
 */
function budgetedResolver(resolver: DnsResolver, timeoutMs: number): DnsResolver {
  const deadline = Date.now() + timeoutMs;
  const answers = new Map<string, Promise<DnsAnswer>>();
  let queries = 0;
  const budgeted: DnsResolver = (name, rrtype = 'A') => {
    const type = String(rrtype).toUpperCase();
    const key = `${String(name).toLowerCase().replace(/\.$/, '')} ${type}`;
    const known = answers.get(key);
    if (known) return known.then(copyAnswer);
    if (Date.now() >= deadline) return Promise.reject(dnsError('ETIMEOUT', name, type, 'the time for this message’s checks ran out'));
    if (++queries > MAX_AUTHENTICATION_QUERIES)
      return Promise.reject(dnsError('ESERVFAIL', name, type, `more than ${MAX_AUTHENTICATION_QUERIES} DNS queries for one message`));
    const answer = new Promise<DnsAnswer>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(dnsError('ETIMEOUT', name, type, 'the time for this message’s checks ran out')),
        Math.max(0, deadline - Date.now()),
      );
      timer.unref();
      Promise.resolve()
        .then(() => resolver(name, type))
        .then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error);
          },
        );
    });
    answers.set(key, answer);
    return answer.then(copyAnswer);
  };
  return budgeted;
}

function copyAnswer(answer: DnsAnswer): DnsAnswer {
  return (answer as unknown[]).map((entry) =>
    Array.isArray(entry) ? [...(entry as string[])] : typeof entry === 'object' && entry !== null ? { ...entry } : entry,
  ) as DnsAnswer;
}

function toVerdict(result: string | undefined): Verdict {
  switch (result) {
    case 'pass':
    case 'fail':
    case 'neutral':
    case 'softfail':
    case 'policy':
    case 'none':
    case 'temperror':
    case 'permerror':
      return result;
    case 'temperr':
      return 'temperror';
    default:
      return 'neutral';
  }
}

function keyBitsOf(rr: string | undefined): number | null {
  const key = rr ? /(?:^|;)\s*p=([^;]*)/.exec(rr)?.[1]?.replace(/\s+/g, '') : undefined;
  if (!key) return null;
  try {
    const raw = Buffer.from(key, 'base64');
    if (raw.length === 32) return 256; // a bare Ed25519 key (RFC 8463)
    const details = createPublicKey({ key: raw, format: 'der', type: 'spki' }).asymmetricKeyDetails;
    return details?.modulusLength ?? null;
  } catch {
    return null;
  }
}

/**
 * mailauth reports some RFC 6376 PERMFAILs as `neutral`; RFC 8601 records them as `fail` (the
 * body hash does not match) or `permerror` (no key, a revoked or unusable key).
 */
function dkimVerdictOf(result: DKIMResult & Record<string, unknown>, field: DkimSignatureField | undefined): DkimVerdict {
  const status = result.status;
  const comment = typeof status.comment === 'string' ? status.comment : '';
  const rr = typeof result.rr === 'string' ? result.rr : undefined;
  const bodyHash = typeof result.bodyHash === 'string' ? result.bodyHash : null;
  const expected = typeof result.bodyHashExpecting === 'string' ? result.bodyHashExpecting : null;
  const name = `${result.selector ?? ''}._domainkey.${result.signingDomain ?? ''}`;
  const limit = result.canonBodyLengthLimited === true && typeof result.canonBodyLengthLimit === 'number' ? result.canonBodyLengthLimit : null;
  const unsigned = typeof status.underSized === 'number' ? status.underSized : 0;
  let verdict = toVerdict(status.result);
  let reason: string | null = comment || null;
  if (status.result === 'neutral' && comment === 'body hash did not verify') {
    verdict = 'fail';
    reason = 'body hash did not verify: the body was changed after signing';
  } else if (status.result === 'neutral' && comment === 'no key') {
    verdict = 'permerror';
    reason = `no key for signature: ${name} has no TXT record`;
  } else if (status.result === 'neutral' && ['unknown key version', 'unknown key type', 'invalid public key'].includes(comment)) {
    verdict = 'permerror';
    const revoked = rr !== undefined && /(?:^|;)\s*p=\s*(?:;|$)/.test(rr);
    reason = revoked ? `key revoked: ${name} publishes an empty p=` : `key syntax error at ${name}: ${comment}`;
  } else if (status.result === 'fail') {
    reason = 'signature did not verify: a signed header field was changed, or the key does not match';
  } else if (status.result === 'policy') {
    const bits = keyBitsOf(rr);
    reason = `the key is ${bits ?? 'too few'} bits; keys under ${MIN_KEY_BITS} bits are not accepted (RFC 8301)`;
  } else if (status.result === 'temperror') {
    reason = `key unavailable: ${comment || 'DNS failure'}`;
  } else if (status.result === 'pass') {
    reason =
      limit !== null
        ? `signed with l=${limit}${unsigned > 0 ? `: ${unsigned} bytes of the body are not covered by the signature` : ''}; content can be appended without breaking it`
        : null;
  }
  const hashAlgorithm =
    String(result.algo ?? '')
      .split('-')
      .pop()
      ?.toLowerCase() ?? '';
  const keyHashes = rr ? /(?:^|;)\s*h=([^;]*)/.exec(rr)?.[1] : undefined;
  if (
    verdict === 'pass' &&
    keyHashes !== undefined &&
    !keyHashes
      .split(':')
      .map((hash) => hash.trim().toLowerCase())
      .includes(hashAlgorithm)
  ) {
    // RFC 6376 §6.1.2 step 6: a key restricted by h= to other hash algorithms is PERMFAIL.
    verdict = 'permerror';
    reason = `inappropriate hash algorithm: the key at ${name} allows only h=${keyHashes.trim()}, the signature uses ${hashAlgorithm}`;
  } else if (verdict === 'pass' && hashAlgorithm === 'sha1') {
    // RFC 8301 §3.1: verifiers MUST NOT consider SHA-1 signatures valid. mailauth passes them.
    verdict = 'policy';
    reason = 'signed with rsa-sha1, which RFC 8301 forbids receivers to accept (the signature itself verifies); sign with rsa-sha256 or ed25519-sha256';
  }
  // Syntax comes first (RFC 6376 §6.1.1): a malformed signature is PERMFAIL whatever its hashes say.
  if (field && field.problems.length > 0) {
    verdict = 'permerror';
    reason = `signature syntax error: ${field.problems.join('; ')}`;
  }
  const algorithm = String(result.algo ?? field?.tags.get('a') ?? '');
  return {
    result: verdict,
    domain: result.signingDomain ?? '',
    selector: result.selector ?? '',
    algorithm,
    signature: String(result.signature ?? field?.tags.get('b') ?? '').slice(0, 16),
    canonicalization: String(result.format ?? field?.tags.get('c') ?? 'simple/simple'),
    bodyHashMatched: bodyHash !== null && bodyHash === expected,
    keyBits: typeof result.modulusLength === 'number' ? result.modulusLength : algorithm.startsWith('ed25519') && verdict === 'pass' ? 256 : keyBitsOf(rr),
    bodyLengthLimit: limit,
    unsignedBodyBytes: unsigned,
    aligned: Boolean(status.aligned),
    reason,
  };
}

/** A DKIM-Signature mailauth did not evaluate: its algorithm, canonicalization, d= or s= is unusable. */
function malformedDkimVerdict(field: DkimSignatureField): DkimVerdict {
  const algorithm = field.tags.get('a') ?? '';
  const canonicalization = field.tags.get('c') ?? 'simple/simple';
  const problems = [...field.problems];
  if (algorithm && !/^(rsa-sha256|rsa-sha1|ed25519-sha256)$/i.test(algorithm)) problems.push(`unsupported algorithm a=${algorithm}`);
  if (!/^(simple|relaxed)(\/(simple|relaxed))?$/i.test(canonicalization)) problems.push(`unsupported canonicalization c=${canonicalization}`);
  return {
    result: 'permerror',
    domain: field.tags.get('d') ?? '',
    selector: field.tags.get('s') ?? '',
    algorithm,
    signature: (field.tags.get('b') ?? '').slice(0, 16),
    canonicalization,
    bodyHashMatched: false,
    keyBits: null,
    bodyLengthLimit: null,
    unsignedBodyBytes: 0,
    aligned: false,
    reason: `signature syntax error: ${problems.length > 0 ? problems.join('; ') : 'the signature cannot be evaluated'}`,
  };
}

/** Whether mailauth 4.13.3 evaluates a signature (it skips, without a result, any it cannot). */
function isEvaluatedByMailauth(field: DkimSignatureField): boolean {
  const [signAlgorithm, hashAlgorithm] = (field.tags.get('a') ?? '').toLowerCase().split('-');
  const [headerCanon = '', bodyCanon = 'simple'] = (field.tags.get('c') ?? '').toLowerCase().split('/');
  return (
    ['rsa', 'ed25519'].includes(signAlgorithm ?? '') &&
    ['sha256', 'sha1'].includes(hashAlgorithm ?? '') &&
    ['relaxed', 'simple', ''].includes(headerCanon.trim()) &&
    ['relaxed', 'simple'].includes(bodyCanon.trim()) &&
    Boolean(field.tags.get('d')) &&
    Boolean(field.tags.get('s'))
  );
}

/** Pairs mailauth's results (evaluated signatures, in order) with every DKIM-Signature field. */
function dkimVerdicts(result: DKIMVerifyResult | null, fields: DkimSignatureField[], failure: string | null): DkimVerdict[] {
  if (result === null) {
    return fields.map((field) => ({ ...malformedDkimVerdict(field), result: 'temperror', reason: `verification failed: ${failure ?? 'unknown error'}` }));
  }
  const evaluated = result.results.filter((entry) => entry.signingDomain !== undefined || entry.status.result !== 'none');
  const verdicts: DkimVerdict[] = [];
  let next = 0;
  for (const entry of evaluated) {
    const signature = String((entry as { signature?: unknown }).signature ?? '').replace(/\s+/g, '');
    let index = fields.findIndex(
      (field, position) =>
        position >= next &&
        isEvaluatedByMailauth(field) &&
        (field.tags.get('b') ?? '') === signature &&
        field.tags.get('d') === entry.signingDomain &&
        field.tags.get('s') === entry.selector,
    );
    if (index < 0) index = next < fields.length ? next : -1;
    if (index >= 0) {
      for (; next < index; next++) verdicts.push(malformedDkimVerdict(fields[next] as DkimSignatureField));
      next = index + 1;
    }
    verdicts.push(dkimVerdictOf(entry as DKIMResult & Record<string, unknown>, index >= 0 ? fields[index] : undefined));
  }
  for (; next < fields.length; next++) verdicts.push(malformedDkimVerdict(fields[next] as DkimSignatureField));
  return verdicts;
}

function spfVerdictOf(result: SPFResult | null, clientIp: string, domain: string, mechanism: string | null, failure: string | null): SpfVerdict {
  if (result === null) {
    return {
      result: 'temperror',
      domain,
      clientIp,
      mechanism: null,
      lookups: 0,
      voidLookups: 0,
      record: null,
      reason: `verification failed: ${failure ?? 'unknown error'}`,
    };
  }
  const verdict = toVerdict(result.status.result);
  return {
    result: verdict,
    domain: result.domain,
    clientIp,
    mechanism,
    lookups: result.lookups?.count ?? 0,
    voidLookups: result.lookups?.void ?? 0,
    record: result.rr ?? null,
    reason: result.status.comment ?? null,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The domain of an address (`user@Example.COM` → `example.com`), or null. */
function domainOf(address: string | undefined): string | null {
  if (!address) return null;
  const at = address.lastIndexOf('@');
  const domain = (at >= 0 ? address.slice(at + 1) : address).trim().toLowerCase();
  return domain === '' ? null : domain;
}

/**
 * Computes SPF (MAIL FROM and HELO), DKIM (every signature), DMARC and ARC for one message as
 * a receiving MTA would, with mailauth, asking `options.resolver` (the mock zone unless live
 * DNS was chosen) for every DNS answer. It never throws and never waits past
 * `options.timeoutMs`: a check that cannot finish is `temperror` with the reason.
 */
export async function computeAuthentication(input: AuthenticationInput, options: AuthenticationOptions): Promise<Authentication> {
  const budgeted = budgetedResolver(options.resolver, options.timeoutMs ?? AUTHENTICATION_TIMEOUT_MS);
  const resolver = budgeted as unknown as DNSResolver;
  const mta = input.authservId;
  const clientIp = input.clientIp.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  const heloName = input.helo?.trim() || null;
  // RFC 5321 address literals ([192.0.2.1], [IPv6:…]) name no domain to check SPF for.
  const heloDomain = heloName && !heloName.startsWith('[') && isIP(heloName) === 0 && heloName.includes('.') ? heloName.toLowerCase() : null;
  const heloForSpf = heloName ?? `[${clientIp}]`;
  const allFields = readDkimSignatureFields(input.raw);
  const fields = allFields.slice(0, MAX_VERIFIED_DKIM_SIGNATURES);
  // Past the limit, the later fields are taken out of what mailauth reads (only a signature that
  // signs DKIM-Signature fields, which is rare, sees a different header then).
  const raw = allFields.length > MAX_VERIFIED_DKIM_SIGNATURES ? withFirstDkimSignatures(input.raw, MAX_VERIFIED_DKIM_SIGNATURES) : input.raw;

  const { arc: verifyArc, dkimVerify } = await mailauth();
  let dkimResult: DKIMVerifyResult | null = null;
  let dkimFailure: string | null = null;
  try {
    dkimResult = await dkimVerify(raw, {
      resolver,
      minBitLength: MIN_KEY_BITS,
      ...(input.mailFrom ? { sender: input.mailFrom } : {}),
      ...(options.now ? { curTime: options.now } : {}),
    });
  } catch (error) {
    dkimFailure = errorText(error);
  }
  const dkim = [
    ...dkimVerdicts(dkimResult, fields, dkimFailure),
    ...allFields.slice(MAX_VERIFIED_DKIM_SIGNATURES).map((field): DkimVerdict => ({
      ...malformedDkimVerdict(field),
      result: 'policy',
      reason: `not verified: only the first ${MAX_VERIFIED_DKIM_SIGNATURES} DKIM signatures of a message are verified`,
    })),
  ];

  const spfSender = input.mailFrom || (heloDomain ? `postmaster@${heloDomain}` : '');
  const mailFromDomain = domainOf(spfSender) ?? '';
  const [spfOutcome, heloOutcome] = await Promise.all([
    runSpf(spfSender, clientIp, heloForSpf, mta, resolver, budgeted),
    heloDomain ? runSpf(`postmaster@${heloDomain}`, clientIp, heloForSpf, mta, resolver, budgeted) : Promise.resolve(null),
  ]);
  const spf = spfVerdictOf(spfOutcome.result, clientIp, mailFromDomain, spfOutcome.mechanism, spfOutcome.failure);
  const helo =
    heloName === null
      ? null
      : heloDomain === null
        ? null
        : {
            result: heloOutcome?.result ? toVerdict(heloOutcome.result.status.result) : 'temperror',
            domain: heloDomain,
            reason: heloOutcome?.result?.status.comment ?? heloOutcome?.failure ?? null,
          };

  let arcResult: ARCResult | null = null;
  let arc: ArcVerdict | null = null;
  const hasArc = dkimResult !== null && (Boolean(dkimResult.arc?.chain) || Boolean((dkimResult.arc as { error?: unknown } | undefined)?.error));
  if (dkimResult !== null && hasArc && dkimResult.arc) {
    try {
      arcResult = await verifyArc(dkimResult.arc as unknown as Parameters<typeof verifyArc>[0], { resolver, minBitLength: MIN_KEY_BITS });
      arc = {
        result: toVerdict(arcResult.status.result),
        instances: typeof arcResult.i === 'number' ? arcResult.i : (dkimResult.arc.chain || []).length,
        reason: arcResult.status.comment ?? null,
      };
    } catch (error) {
      arc = { result: 'temperror', instances: (dkimResult.arc.chain || []).length, reason: `verification failed: ${errorText(error)}` };
    }
  }

  const headerFrom = dkimResult?.headerFrom ?? [];
  const headerFromDomain = headerFrom.length === 1 ? domainOf(headerFrom[0]) : null;
  const dmarc = await runDmarc(headerFrom, spf, dkim, dkimResult, arcResult, resolver, dkimFailure);

  const verdicts = { dkim, spf, helo, dmarc, arc };
  return {
    status: 'done',
    ...verdicts,
    clientIp: { address: clientIp, source: input.clientIpSource ?? 'connection' },
    authenticationResults: formatAuthenticationResults(mta, verdicts, { mailFrom: input.mailFrom, helo: heloName, headerFromDomain }),
    computedAt: new Date().toISOString(),
  };
}

async function runSpf(
  sender: string,
  ip: string,
  helo: string,
  mta: string,
  resolver: DNSResolver,
  plain: DnsResolver,
): Promise<{ result: SPFResult | null; mechanism: string | null; failure: string | null }> {
  try {
    const { spf: verifySpf } = await mailauth();
    const { result, match } = await spfMatchRecorded(() => verifySpf({ ...(sender ? { sender } : {}), ip, helo, mta, resolver }));
    const decided = ['pass', 'fail', 'softfail', 'neutral'].includes(result.status.result) && result.rr !== undefined;
    const mechanism = !decided
      ? null
      : match !== undefined
        ? await formatSpfMatch(match, result.domain, plain)
        : await matchedSpfMechanism(result.domain, { sender: result['envelope-from'] ?? sender, ip, helo, mta, resolver: plain });
    return { result, mechanism, failure: null };
  } catch (error) {
    return { result: null, mechanism: null, failure: errorText(error) };
  }
}

async function runDmarc(
  headerFrom: string[],
  spf: SpfVerdict,
  dkim: DkimVerdict[],
  dkimResult: DKIMVerifyResult | null,
  arcResult: ARCResult | null,
  resolver: DNSResolver,
  dkimFailure: string | null,
): Promise<DmarcVerdict> {
  const fromDomain = headerFrom.length === 1 ? (domainOf(headerFrom[0]) ?? '') : '';
  const empty = emptyDmarcVerdict(fromDomain, null);
  if (dkimResult === null) return { ...empty, result: 'temperror', reason: `the message could not be read: ${dkimFailure ?? 'unknown error'}` };
  // RFC 7489 §6.6.1: DMARC needs exactly one author domain.
  if (headerFrom.length !== 1)
    return {
      ...empty,
      result: 'permerror',
      reason: headerFrom.length === 0 ? 'the message has no From address' : `the message has ${headerFrom.length} From addresses; DMARC needs exactly one`,
    };
  try {
    const { dmarc: verifyDmarc } = await mailauth();
    const result = await verifyDmarc({
      headerFrom,
      spfDomains: spf.result === 'pass' && spf.domain ? [spf.domain] : [],
      // Our verdicts, not mailauth's: a signature this module does not pass (rsa-sha1, a key
      // restricted to other hashes, a syntax error) does not count for DMARC either.
      dkimDomains: dkim
        .filter((entry) => entry.result === 'pass')
        .map((entry) => ({ domain: entry.domain, ...(entry.unsignedBodyBytes > 0 ? { underSized: true } : {}) })),
      ...(arcResult ? { arcResult } : {}),
      resolver,
    });
    if (!result) return { ...empty, result: 'permerror', reason: 'the From header has no single address' };
    let verdict = toVerdict(result.status.result);
    const alignment = result.alignment;
    let spfAligned = Boolean(alignment?.spf.result);
    let dkimAligned = Boolean(alignment?.dkim.result);
    // mailauth 4.13.3 passes the strict flag to its alignment check in a form the check
    // ignores, so adkim=s / aspf=s behave as relaxed. Strict alignment is equality of domains
    // (RFC 7489 §3.1.1): applied here over mailauth's relaxed answer.
    if (verdict === 'pass' || verdict === 'fail') {
      const passingDkim = dkim.filter((entry) => entry.result === 'pass').map((entry) => entry.domain.toLowerCase());
      if (alignment?.dkim.strict) dkimAligned = passingDkim.includes(fromDomain);
      if (alignment?.spf.strict) spfAligned = spf.result === 'pass' && spf.domain.toLowerCase() === fromDomain;
      verdict = spfAligned || dkimAligned ? 'pass' : 'fail';
    }
    const reason =
      verdict === 'none'
        ? `no DMARC record at _dmarc.${fromDomain}${result.domain !== fromDomain ? ` or _dmarc.${result.domain}` : ''}`
        : verdict === 'temperror'
          ? `DNS failure: ${result.error ?? 'unknown'}`
          : verdict === 'fail'
            ? `neither SPF nor DKIM passed for a domain aligned with ${fromDomain} (${alignment?.spf.strict ? 'strict' : 'relaxed'} SPF, ${alignment?.dkim.strict ? 'strict' : 'relaxed'} DKIM alignment)`
            : typeof result.status.comment === 'string'
              ? result.status.comment
              : null;
    return {
      result: verdict,
      domain: fromDomain,
      organizationalDomain: result.domain,
      policy: result.policy ?? null,
      p: result.p ?? null,
      sp: result.sp ?? null,
      spfAligned,
      dkimAligned,
      spfAlignment: alignment?.spf.strict ? 'strict' : 'relaxed',
      dkimAlignment: alignment?.dkim.strict ? 'strict' : 'relaxed',
      record: result.rr ?? null,
      reason,
    };
  } catch (error) {
    return { ...empty, result: 'temperror', reason: `verification failed: ${errorText(error)}` };
  }
}
