import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import type * as MailauthModule from 'mailauth';
import type { DnsResolver } from '../dns/dns-resolver.js';
import { isDnsError } from '../dns/dns-resolver.js';

/*
 * The one place that reaches into mailauth's internals (the package is pinned to 4.13.3; the
 * canary test in mailauth-spf-mechanism.test.ts names what changed when an upgrade breaks it).
 * mailauth's public spf() reports the verdict but not the mechanism that decided it; its
 * internal evaluator returns that mechanism. Before mailauth is loaded, the evaluator export
 * is wrapped so that spf() records the match of its own one evaluation
 * ({@link recordSpfMatches}); where mailauth was loaded first, the evaluation is run again.
 * The checks are loaded from their own modules ({@link loadMailauthChecks}).
 */
const require = createRequire(import.meta.url);

/** The checks of mailauth that verdicts are computed with. */
export type MailauthChecks = Pick<typeof MailauthModule, 'dkimVerify' | 'spf' | 'dmarc' | 'arc'>;

/** Where each check lives in mailauth, and the name it is exported under there (and from the package). */
const CHECK_MODULES = [
  ['dkimVerify', 'mailauth/lib/dkim/verify.js'],
  ['spf', 'mailauth/lib/spf/index.js'],
  ['dmarc', 'mailauth/lib/dmarc/index.js'],
  ['arc', 'mailauth/lib/arc/index.js'],
] as const;

/**
 * mailauth's DKIM, SPF, DMARC and ARC checks, each loaded from its own module rather than from
 * the package's entry, which also loads BIMI with its HTTP client and XML and certificate
 * parsers (undici, fast-xml-parser, @peculiar/x509…): 11.5 against 5.8 MB of heap in each
 * verdict worker. The same functions the package exports; throws naming what is missing when
 * an upgrade moved one.
 */
export function loadMailauthChecks(): MailauthChecks {
  const checks: Partial<Record<keyof MailauthChecks, unknown>> = {};
  for (const [name, file] of CHECK_MODULES) {
    const loaded = (require(file) as Record<string, unknown>)[name];
    if (typeof loaded !== 'function') throw new Error(`${file} no longer exports ${name}()`);
    checks[name] = loaded;
  }
  return checks as MailauthChecks;
}

/** What mailauth's internal SPF evaluator answers: the mechanism that matched. */
export interface SpfMatch {
  type?: string;
  val?: string;
  qualifier?: string;
  include?: SpfMatch;
  error?: string;
}
type SpfVerifyInternal = (
  domain: string,
  options: {
    sender: string;
    ip: string;
    helo?: string;
    mta: string;
    resolver: (name: string, type: string) => Promise<unknown>;
    createSubResolver: () => unknown;
  },
) => Promise<SpfMatch | false>;

let spfVerify: SpfVerifyInternal | null = null;

/** mailauth's internal SPF evaluator; throws naming what is missing when an upgrade moved it. */
export function loadSpfEvaluator(): SpfVerifyInternal {
  if (spfVerify) return spfVerify;
  const loaded = (require('mailauth/lib/spf/spf-verify.js') as { spfVerify?: unknown }).spfVerify;
  if (typeof loaded !== 'function') throw new Error('mailauth/lib/spf/spf-verify.js no longer exports spfVerify(domain, options)');
  spfVerify = loaded as SpfVerifyInternal;
  return spfVerify;
}

/** The match of mailauth's evaluation, recorded for the spf() call that runs inside {@link spfMatchRecorded}. */
const recordedMatches = new AsyncLocalStorage<{ match?: SpfMatch | false }>();
let recording: boolean | null = null;

/**
 * Wraps mailauth's internal SPF evaluator so that its answer to spf() is recorded; call it
 * before mailauth is first loaded. Returns whether matches are recorded (false when mailauth's
 * spf module was loaded before: it holds the evaluator it found then).
 */
export function recordSpfMatches(): boolean {
  if (recording !== null) return recording;
  const original = loadSpfEvaluator();
  if (require.cache[require.resolve('mailauth/lib/spf/index.js')]) return (recording = false);
  const exported = require('mailauth/lib/spf/spf-verify.js') as { spfVerify: SpfVerifyInternal };
  exported.spfVerify = async (domain, options) => {
    const match = await original(domain, options);
    const store = recordedMatches.getStore();
    if (store) store.match = match;
    return match;
  };
  return (recording = true);
}

/**
 * Runs `evaluate` (a call of mailauth's spf()) and returns its result with the match its
 * evaluation found: a match object, false when no mechanism matched, or undefined when it was
 * not recorded (see {@link recordSpfMatches}; then use {@link matchedSpfMechanism}).
 */
export async function spfMatchRecorded<T>(evaluate: () => Promise<T>): Promise<{ result: T; match: SpfMatch | false | undefined }> {
  const store: { match?: SpfMatch | false } = {};
  const result = await recordedMatches.run(store, evaluate);
  return { result, match: store.match };
}

/** The recorded match of {@link spfMatchRecorded}, as written in `domain`'s record (see {@link matchedSpfMechanism}). */
export async function formatSpfMatch(match: SpfMatch | false, domain: string, resolver: DnsResolver): Promise<string | null> {
  if (!match) return null;
  try {
    return await formatMatch(match, domain, (name, type) => resolver(name, type));
  } catch {
    return null;
  }
}

/** Re-evaluations are bounded independently of mailauth's own limits (a loop stops here). */
const MAX_QUERIES = 40;

/** The `a`/`mx` mechanisms of a domain's SPF record as written, to show instead of mailauth's resolved value. */
async function writtenMechanisms(domain: string, type: string, resolver: (name: string, type: string) => Promise<unknown>): Promise<string[]> {
  try {
    const answer = (await resolver(domain, 'TXT')) as string[][];
    const record = answer.map((strings) => strings.join('')).find((text) => /^v=spf1(\s|$)/i.test(text.trim()));
    return (record ?? '').split(/\s+/).filter((token) => new RegExp(`^[+\\-~?]?${type}([:/].*)?$`, 'i').test(token));
  } catch {
    return [];
  }
}

async function formatMatch(match: SpfMatch, domain: string, resolver: (name: string, type: string) => Promise<unknown>): Promise<string | null> {
  if (!match.type) return null;
  const qualifier = match.qualifier && match.qualifier !== '+' ? match.qualifier : '';
  if (match.type === 'include' && match.include && match.val) {
    const inner = await formatMatch(match.include, match.val, resolver);
    return `${qualifier}include:${match.val}${inner ? ` (${inner})` : ''}`;
  }
  if (match.type === 'a' || match.type === 'mx') {
    // mailauth reports the domain evaluated (a) or the exchange that matched (mx), not the
    // mechanism's text; show the mechanism as written when the record has just one of its kind.
    const written = await writtenMechanisms(domain, match.type, resolver);
    const text = written.length === 1 ? (written[0] ?? match.type) : `${qualifier}${match.type}`;
    return match.type === 'mx' && match.val ? `${text} (${match.val})` : text;
  }
  return `${qualifier}${match.type}${match.val ? `:${match.val}` : ''}`;
}

/**
 * The SPF mechanism that decides for `domain` and `ip`, as written in the record
 * (`ip4:203.0.113.0/24`, `-all`, `include:_spf.example.net (ip4:…)`), or null when none
 * matched or the evaluation fails. Call it only for a verdict a mechanism decides (pass,
 * fail, softfail, neutral); the resolver should remember answers, so this costs no new query.
 */
export async function matchedSpfMechanism(
  domain: string,
  options: { sender: string; ip: string; helo?: string; mta: string; resolver: DnsResolver },
): Promise<string | null> {
  let queries = 0;
  const resolver = async (name: string, type: string): Promise<unknown> => {
    if (++queries > MAX_QUERIES) throw Object.assign(new Error('too many DNS queries'), { spfResult: { error: 'permerror' } });
    try {
      return await options.resolver(name, type);
    } catch (error) {
      // As mailauth's limited resolver does: a void lookup is an empty answer.
      if (isDnsError(error, 'ENOTFOUND', 'ENODATA')) return [];
      throw error;
    }
  };
  const subResolver = Object.assign((name: string, type: string) => resolver(name, type), { getResolveCount: () => 0, getVoidCount: () => 0 });
  try {
    const match = await loadSpfEvaluator()(domain, {
      sender: options.sender,
      ip: options.ip,
      ...(options.helo ? { helo: options.helo } : {}),
      mta: options.mta,
      resolver,
      createSubResolver: () => subResolver,
    });
    return match ? await formatMatch(match, domain, resolver) : null;
  } catch {
    return null;
  }
}
