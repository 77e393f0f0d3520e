import {
  ErrorCode,
  FAULT_STAGES,
  FaultRuleSchema,
  MAX_FAULT_RULES,
  MailwrightError,
  defaultFaultText,
  faultRandom,
  type FaultRule,
  type FaultStage,
  type RegisteredFaultRule,
} from '@mailwright/core';

/** Sender/recipient/client triples a greylisting rule remembers; the oldest are forgotten beyond this. */
const MAX_GREYLIST_ENTRIES = 10_000;
/** Senders a rate-limiting rule keeps counts for; the oldest are forgotten beyond this. */
const MAX_RATE_SENDERS = 10_000;
const ADDRESS_IN_COMMAND = /<([^<>]*)>/;

/** The bit of a stage in {@link FaultRegistry.stages}. */
export function faultStageBit(stage: FaultStage): number {
  return 1 << FAULT_STAGES.indexOf(stage);
}

/** What the SMTP side does when a rule fires: the vocabulary of the SMTP engine. */
export type SmtpFault =
  | { kind: 'reply'; code: number; text: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'disconnect' }
  | { kind: 'disconnectMidData' }
  | { kind: 'tlsFailure' }
  | { kind: 'slowReply'; byteDelayMs: number };

/** Where an attempt stands when a stage is reached. */
export interface FaultAttempt {
  listener: string;
  remoteAddress: string;
  /** The HELO/EHLO name, once greeted. */
  clientName: string | null;
  /** The authenticated user (at `auth`, the one trying). */
  user: string | null;
  /** The accepted sender, once MAIL FROM was accepted. */
  sender: string | null;
  /** The accepted recipients. */
  recipients: readonly { address: string }[];
  /** At `mail`/`rcpt`: the command line (its address is read from it). */
  line: string | null;
}

/** A rule that fired, with what the SMTP side must do. */
export interface FaultFiring {
  rule: string;
  at: FaultStage;
  /** The rule's action name (`reply`, `greylist`, …). */
  action: string;
  fault: SmtpFault;
  code: number | null;
  /** The address the command named (`mail`, `rcpt`) or the user (`auth`). */
  argument: string | null;
  sender: string | null;
  recipients: string[];
}

interface LiveRule {
  readonly seq: number;
  readonly rule: RegisteredFaultRule;
  /** Lower-cased match fields. */
  readonly match: { recipient?: string; sender?: string; listener?: string; user?: string; clientName?: string };
  readonly random: (() => number) | null;
  readonly greylist: Map<string, number> | null;
  readonly rates: Map<string, number[]> | null;
}

interface StageIndex {
  /** Rules scoped to one recipient, by lower-cased address: found without looking at the others. */
  byRecipient: Map<string, LiveRule[]>;
  /** Rules scoped to one sender (and no recipient), by lower-cased address. */
  bySender: Map<string, LiveRule[]>;
  /** Every other rule of the stage. */
  others: LiveRule[];
}

/** The map a rule is indexed in, and its key; null for the unindexed ones. */
function indexKey(index: StageIndex, live: LiveRule): [Map<string, LiveRule[]>, string] | null {
  if (live.match.recipient !== undefined) return [index.byRecipient, live.match.recipient];
  if (live.match.sender !== undefined) return [index.bySender, live.match.sender];
  return null;
}

function invalid(message: string, details: unknown): MailwrightError {
  return new MailwrightError(ErrorCode.INVALID_FAULT, message, { statusCode: 400, details });
}

/**
 * The fault rules of a server, indexed by stage and by recipient so that matching costs the
 * same whatever other tests registered: a stage with no rule costs one bit test, and a
 * recipient's rules are found by one map lookup.
 */
export class FaultRegistry {
  /** One bit per stage that has at least one rule (see {@link faultStageBit}). */
  stages = 0;
  readonly #rules = new Map<string, LiveRule>();
  readonly #index = new Map<FaultStage, StageIndex>();
  readonly #now: () => number;
  #seq = 0;
  #generated = 0;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** How many rules are registered. */
  get size(): number {
    return this.#rules.size;
  }

  /**
   * Validates every rule first and registers all or none: a `MailwrightError` (400) lists the
   * problems of every invalid rule (`INVALID_FAULT`), or says the cap would be passed (`TOO_MANY_FAULTS`).
   */
  add(inputs: readonly unknown[]): RegisteredFaultRule[] {
    if (this.#rules.size + inputs.length > MAX_FAULT_RULES) {
      throw new MailwrightError(
        ErrorCode.TOO_MANY_FAULTS,
        `At most ${MAX_FAULT_RULES} fault rules are kept at once; ${this.#rules.size} are registered and ${inputs.length} were given. Remove rules first (DELETE /api/v1/faults/:id).`,
        { statusCode: 400 },
      );
    }
    const problems: { index: number; path: string; message: string }[] = [];
    const rules: FaultRule[] = [];
    const ids = new Set<string>();
    inputs.forEach((input, index) => {
      const parsed = FaultRuleSchema.safeParse(input);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) problems.push({ index, path: issue.path.join('.'), message: issue.message });
        return;
      }
      const id = parsed.data.id;
      if (id !== undefined && (this.#rules.has(id) || ids.has(id))) {
        problems.push({ index, path: 'id', message: `a fault rule with id "${id}" already exists` });
        return;
      }
      if (id !== undefined) ids.add(id);
      rules.push(parsed.data);
    });
    if (problems.length > 0) {
      const prefix = (problem: { index: number }): string => (inputs.length > 1 ? `rule #${problem.index + 1}: ` : '');
      throw invalid(
        `Invalid fault rule: ${problems.map((problem) => `${prefix(problem)}${problem.path ? `${problem.path}: ` : ''}${problem.message}`).join('; ')}`,
        problems,
      );
    }
    return rules.map((rule) => this.#register(rule));
  }

  #register(rule: FaultRule): RegisteredFaultRule {
    let id = rule.id;
    while (id === undefined || this.#rules.has(id)) id = `fault-${(++this.#generated).toString(36)}`;
    const registered: RegisteredFaultRule = { ...rule, id, matched: 0, fired: 0 };
    const match: LiveRule['match'] = {};
    for (const [key, value] of Object.entries(rule.match)) if (value !== undefined) match[key as keyof LiveRule['match']] = value.toLowerCase();
    const action = rule.action;
    const live: LiveRule = {
      seq: ++this.#seq,
      rule: registered,
      match,
      random: rule.probability === undefined ? null : faultRandom(rule.seed ?? 1),
      greylist: 'greylist' in action ? new Map() : null,
      rates: 'rateLimit' in action ? new Map() : null,
    };
    this.#rules.set(id, live);
    let index = this.#index.get(rule.at);
    if (!index) {
      index = { byRecipient: new Map(), bySender: new Map(), others: [] };
      this.#index.set(rule.at, index);
    }
    const key = indexKey(index, live);
    if (key !== null) {
      const [map, value] = key;
      const list = map.get(value);
      if (list) list.push(live);
      else map.set(value, [live]);
    } else index.others.push(live);
    this.stages |= faultStageBit(rule.at);
    return registered;
  }

  /** Every rule, in the order added, with its counts. */
  list(): RegisteredFaultRule[] {
    return [...this.#rules.values()].map((live) => ({ ...live.rule }));
  }

  get(id: string): RegisteredFaultRule | undefined {
    const live = this.#rules.get(id);
    return live ? { ...live.rule } : undefined;
  }

  /** Removes one rule; false when there was none. */
  remove(id: string): boolean {
    const live = this.#rules.get(id);
    if (!live) return false;
    this.#rules.delete(id);
    const index = this.#index.get(live.rule.at) as StageIndex;
    const key = indexKey(index, live);
    if (key !== null) {
      const [map, value] = key;
      const list = (map.get(value) as LiveRule[]).filter((candidate) => candidate !== live);
      if (list.length === 0) map.delete(value);
      else map.set(value, list);
    } else index.others = index.others.filter((candidate) => candidate !== live);
    if (index.byRecipient.size === 0 && index.bySender.size === 0 && index.others.length === 0) {
      this.#index.delete(live.rule.at);
      this.stages &= ~faultStageBit(live.rule.at);
    }
    return true;
  }

  /** Removes every rule; returns how many there were. */
  clear(): number {
    const count = this.#rules.size;
    this.#rules.clear();
    this.#index.clear();
    this.stages = 0;
    return count;
  }

  /** The first rule (in the order added) that matches the attempt and fires, or null. */
  check(at: FaultStage, attempt: FaultAttempt): FaultFiring | null {
    const index = this.#index.get(at);
    if (!index) return null;
    const argument = at === 'mail' || at === 'rcpt' ? addressOf(attempt.line) : at === 'auth' ? attempt.user : null;
    const candidates = this.#candidates(at, index, argument, attempt);
    for (const live of candidates) {
      if (!matches(live.match, at, argument, attempt)) continue;
      const firing = this.#decide(live, at, argument, attempt);
      if (firing) {
        firing.sender = at === 'mail' ? argument : attempt.sender;
        firing.recipients = at === 'rcpt' ? (argument === null ? [] : [argument]) : attempt.recipients.map(({ address }) => address);
      }
      if (firing) return firing;
    }
    return null;
  }

  #candidates(at: FaultStage, index: StageIndex, argument: string | null, attempt: FaultAttempt): readonly LiveRule[] {
    if (index.byRecipient.size === 0 && index.bySender.size === 0) return index.others;
    const lists: LiveRule[][] = [];
    const add = (map: Map<string, LiveRule[]>, address: string | null): void => {
      const list = address === null ? undefined : map.get(address.toLowerCase());
      if (list && !lists.includes(list)) lists.push(list);
    };
    if (index.bySender.size > 0) add(index.bySender, at === 'mail' ? argument : attempt.sender);
    if (index.byRecipient.size > 0) {
      if (at === 'rcpt') add(index.byRecipient, argument);
      else for (const { address } of attempt.recipients) add(index.byRecipient, address);
    }
    if (lists.length === 0) return index.others;
    if (lists.length === 1 && index.others.length === 0) return lists[0] as LiveRule[];
    return [...index.others, ...lists.flat()].sort((a, b) => a.seq - b.seq);
  }

  #decide(live: LiveRule, at: FaultStage, argument: string | null, attempt: FaultAttempt): FaultFiring | null {
    const { rule } = live;
    const action = rule.action;
    // Stateful behaviours decide by their own state, every matching attempt.
    if ('greylist' in action) {
      const key = `${attempt.sender ?? ''}\n${(argument ?? '').toLowerCase()}\n${attempt.remoteAddress}`;
      const greylist = live.greylist as Map<string, number>;
      const now = this.#now();
      const first = greylist.get(key);
      rule.matched += 1;
      if (first !== undefined && now - first >= action.greylist.retryAfterMs) return null;
      if (first === undefined) {
        if (greylist.size >= MAX_GREYLIST_ENTRIES) greylist.delete(greylist.keys().next().value as string);
        greylist.set(key, now);
      }
      return this.#fired(live, at, argument, { kind: 'reply', code: 451, text: '4.7.1 Greylisted, please try again later' });
    }
    if ('rateLimit' in action) {
      const { max, windowMs, code } = action.rateLimit;
      const sender = (attempt.sender ?? (at === 'mail' ? argument : null) ?? '').toLowerCase();
      const rates = live.rates as Map<string, number[]>;
      const now = this.#now();
      const times = (rates.get(sender) ?? []).filter((time) => now - time < windowMs);
      rule.matched += 1;
      if (times.length >= max) {
        rates.set(sender, times);
        const text = code === 421 ? '4.7.0 Too many messages, slow down; closing connection' : '4.7.0 Too many messages, try again later';
        return this.#fired(live, at, argument, { kind: 'reply', code, text });
      }
      times.push(now);
      rates.delete(sender);
      if (rates.size >= MAX_RATE_SENDERS) rates.delete(rates.keys().next().value as string);
      rates.set(sender, times);
      return null;
    }
    rule.matched += 1;
    if (rule.times !== undefined && rule.fired >= rule.times) return null;
    if (rule.nth !== undefined && rule.matched !== rule.nth) return null;
    if (live.random !== null && live.random() >= (rule.probability as number)) return null;
    return this.#fired(live, at, argument, smtpFaultOf(action));
  }

  #fired(live: LiveRule, at: FaultStage, argument: string | null, fault: SmtpFault): FaultFiring {
    live.rule.fired += 1;
    return {
      rule: live.rule.id,
      at,
      action: Object.keys(live.rule.action)[0] as string,
      fault,
      code: fault.kind === 'reply' ? fault.code : null,
      argument,
      sender: null,
      recipients: [],
    };
  }
}

function smtpFaultOf(action: FaultRule['action']): SmtpFault {
  if ('reply' in action) return { kind: 'reply', code: action.reply.code, text: action.reply.text ?? defaultFaultText(action.reply.code) };
  if ('delay' in action) return { kind: 'delay', ms: action.delay };
  if ('disconnect' in action) return { kind: 'disconnect' };
  if ('disconnectMidData' in action) return { kind: 'disconnectMidData' };
  if ('tlsFailure' in action) return { kind: 'tlsFailure' };
  if ('slowReply' in action) return { kind: 'slowReply', byteDelayMs: action.slowReply.byteDelayMs };
  throw new Error('unreachable: stateful actions are decided by the registry');
}

function addressOf(line: string | null): string | null {
  if (line === null) return null;
  return ADDRESS_IN_COMMAND.exec(line)?.[1] ?? null;
}

function matches(match: LiveRule['match'], at: FaultStage, argument: string | null, attempt: FaultAttempt): boolean {
  if (match.listener !== undefined && match.listener !== attempt.listener.toLowerCase()) return false;
  if (match.clientName !== undefined && match.clientName !== attempt.clientName?.toLowerCase()) return false;
  if (match.user !== undefined && match.user !== attempt.user?.toLowerCase()) return false;
  if (match.sender !== undefined) {
    const sender = at === 'mail' ? argument : attempt.sender;
    if (match.sender !== sender?.toLowerCase()) return false;
  }
  if (match.recipient !== undefined) {
    if (at === 'rcpt') return match.recipient === argument?.toLowerCase();
    return attempt.recipients.some(({ address }) => address.toLowerCase() === match.recipient);
  }
  return true;
}
