import type { Authentication, AuthenticationSummary } from '@mailwright/core';
import type { DnsResolver } from '../dns/dns-resolver.js';
import type { Logger } from '../logger.js';
import type { MessageStore } from '../store/message-store.js';
import { emptyDmarcVerdict } from './empty-dmarc-verdict.js';
import { createJobQueue } from './job-queue.js';
import type { ParsePool } from './parse-pool.js';
import { isRepeatableUnsignedRecord, unsignedVerdictKey } from './unsigned-verdict-key.js';

/** The most verdicts of unsigned messages remembered from one revision of the mock zone. */
const MAX_REMEMBERED_VERDICTS = 1_000;

/** What a message's verdicts are computed from besides its bytes: how the listener that took it is set up. */
export interface ListenerAuthenticationSettings {
  /** The client address SPF judges the listener's connections for, or null for the connection's own. */
  clientIp: string | null;
}

/** Options of {@link createAuthenticationJobs}. */
export interface AuthenticationJobsOptions {
  store: MessageStore;
  pool: Pick<ParsePool, 'authenticate'>;
  /** Where DNS answers come from (the mock zone, or live DNS). Read for each message. */
  resolver: DnsResolver;
  /**
   * While this returns the same key, a worker may reuse answers it got before (the mock zone's
   * revision: a change to the zone changes it); null: ask every time (live DNS).
   */
  dnsCacheKey(): string | null;
  /** The authserv-id of `Authentication-Results`: the server's host name. */
  authservId: string;
  /** The settings of a listener by name; undefined when it is gone (the connection's address is used). */
  listener(name: string): ListenerAuthenticationSettings | undefined;
  /** The most milliseconds all checks of one message take. */
  timeoutMs: number;
  /** Messages computed at once. Default 2 (one per parse worker). */
  concurrency?: number;
  /** Messages waiting; beyond it the oldest waiting ones are computed with `temperror`, never dropped silently. */
  maxQueue: number;
  logger: Logger;
}

/** What a job needs to know of a message besides its bytes, known when it is stored. */
export interface AuthenticationSubject {
  id: string;
  mailFrom: string;
  sessionId: string;
  listener: string;
}

/** The verdict jobs of a server: each stored message's verdicts, computed once after its `250`. */
export interface AuthenticationJobs {
  /** Queues a stored message; returns at once. */
  schedule(subject: AuthenticationSubject): void;
  /** Computes a message's verdicts now (after a zone change) and stores them; null when the message is gone. */
  recompute(id: string): Promise<Authentication | null>;
  /** Resolves once nothing is queued or running (for benchmarks and shutdown). */
  idle(): Promise<void>;
}

/** The summary a message carries from its arrival until its verdicts are done. */
export const PENDING_AUTHENTICATION: AuthenticationSummary = Object.freeze({ status: 'pending', dkim: null, spf: null, dmarc: null });

/** The record served while a message's verdicts are being computed. */
export function pendingAuthentication(): Authentication {
  const reason = 'not computed yet';
  return {
    status: 'pending',
    dkim: [],
    spf: { result: 'none', domain: '', clientIp: '', mechanism: null, lookups: 0, voidLookups: 0, record: null, reason },
    helo: null,
    dmarc: emptyDmarcVerdict('', reason),
    arc: null,
    clientIp: { address: '', source: 'connection' },
    authenticationResults: '',
    computedAt: null,
  };
}

/**
 * Computes verdicts off the SMTP path: a bounded queue of message ids, worked through in the
 * parse worker pool a few at a time. A message's inputs are read when its turn comes: MAIL
 * FROM from its envelope, the HELO name and remote address from its session, the client IP
 * from its listener.
 */
export function createAuthenticationJobs(options: AuthenticationJobsOptions): AuthenticationJobs {
  /**
   * The verdicts of unsigned messages at one revision of the mock zone, by what they are
   * computed from ({@link unsignedVerdictKey}): most test mail is unsigned and from a few
   * senders, and its verdicts are the same but for `computedAt`. A repeat is recorded without
   * a worker (none needs to run, or stay, while such mail arrives).
   */
  let remembered: { revision: string; records: Map<string, Authentication> } | null = null;

  async function recompute(id: string): Promise<Authentication | null> {
    const message = await options.store.getMessage(id);
    return message ? compute({ id, mailFrom: message.envelope.mailFrom, sessionId: message.sessionId, listener: message.listener }) : null;
  }

  // The message itself is not read: with a store that reads messages when they are asked for,
  // computing verdicts must not make it read every message on arrival.
  async function compute(message: AuthenticationSubject): Promise<Authentication | null> {
    const { store } = options;
    const { id } = message;
    const raw = await store.getRaw(id);
    if (!raw) return null;
    const session = await store.getSession(message.sessionId);
    const listenerIp = options.listener(message.listener)?.clientIp ?? null;
    const remote = session?.remoteAddress ?? '127.0.0.1';
    const input = {
      mailFrom: message.mailFrom,
      helo: session?.clientName ?? null,
      clientIp: listenerIp ?? remote,
      clientIpSource: listenerIp !== null ? 'listener' : 'connection',
      authservId: options.authservId,
    };
    const revision = options.dnsCacheKey();
    if (revision === null) remembered = null;
    else if (remembered?.revision !== revision || remembered.records.size >= MAX_REMEMBERED_VERDICTS) remembered = { revision, records: new Map() };
    const records = remembered?.records;
    const key = records ? unsignedVerdictKey(input, raw) : null;
    const known = key === null ? undefined : records?.get(key);
    let authentication: Authentication;
    try {
      if (known) {
        // The same record, computed now: `computedAt` keeps its place among the keys.
        authentication = { ...known, computedAt: new Date().toISOString() };
      } else {
        authentication = await options.pool.authenticate({ raw, ...input }, options.resolver, options.timeoutMs, revision);
        // Only what was computed against the zone as it still is.
        if (key !== null && options.dnsCacheKey() === revision && isRepeatableUnsignedRecord(authentication)) records?.set(key, authentication);
      }
    } catch (error) {
      options.logger.warn({ err: error, id }, 'authentication verdicts could not be computed');
      authentication = failed(error instanceof Error ? error.message : String(error), listenerIp ?? remote, listenerIp !== null);
    }
    return (await store.setAuthentication(id, authentication)) ? authentication : null;
  }

  const jobs = createJobQueue<AuthenticationSubject>({
    concurrency: options.concurrency ?? 2,
    maxQueue: options.maxQueue,
    run: compute,
    // Beyond the bound the oldest waiting message gets a verdict that says so, at once.
    overflow: (dropped) =>
      void options.store
        .setAuthentication(dropped.id, failed(`more than ${options.maxQueue} messages were waiting for verdicts`, '', false))
        .catch(() => undefined),
    failed: (error, subject) => options.logger.error({ err: error, id: subject.id }, 'authentication job failed'),
  });

  return {
    schedule: (subject) => jobs.push(subject),
    recompute,
    idle: () => jobs.idle(),
  };
}

/** A done record for a message whose checks could not run: every verdict `temperror`, with the reason. */
function failed(reason: string, clientIp: string, fromListener: boolean): Authentication {
  const pending = pendingAuthentication();
  return {
    ...pending,
    status: 'done',
    spf: { ...pending.spf, result: 'temperror', clientIp, reason },
    dmarc: { ...pending.dmarc, result: 'temperror', reason },
    clientIp: { address: clientIp, source: fromListener ? 'listener' : 'connection' },
    computedAt: new Date().toISOString(),
  };
}
