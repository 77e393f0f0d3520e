import { z } from 'zod';

/** Where in the SMTP dialogue a fault rule applies. */
export const FAULT_STAGES = ['connect', 'ehlo', 'starttls', 'auth', 'mail', 'rcpt', 'data', 'end-of-data'] as const;
export type FaultStage = (typeof FAULT_STAGES)[number];

/** Longest delay a rule may impose, in milliseconds (one minute: shorter than every client's timeout). */
export const MAX_FAULT_DELAY_MS = 60_000;
/** Longest pause between two bytes of a slow reply, in milliseconds. */
export const MAX_SLOW_REPLY_BYTE_DELAY_MS = 1_000;
/** Most fault rules registered at once on a server. */
export const MAX_FAULT_RULES = 1_000;
/** Longest window of a rate limit, in milliseconds (one day). */
export const MAX_RATE_WINDOW_MS = 86_400_000;

const FaultStageSchema = z.enum(FAULT_STAGES);
const delayMs = z.number().int().min(0).max(MAX_FAULT_DELAY_MS, `at most ${MAX_FAULT_DELAY_MS} ms`);
/** A temporary (4xx) or permanent (5xx) rejection: a fault never answers with success. */
const RejectCodeSchema = z.number().int().min(400, 'a reject code is 400 to 599').max(599, 'a reject code is 400 to 599');
const ReplyTextSchema = z
  .string()
  .min(1)
  .max(400)
  .regex(/^[^\r\n]*$/, 'one line, without CR or LF');

/** A reply instead of the server's own: `code` (400–599) and the text after it (enhanced status code first). */
export const FaultReplySchema = z.object({ code: RejectCodeSchema, text: ReplyTextSchema.optional() }).strict();
export type FaultReply = z.infer<typeof FaultReplySchema>;

/**
 * What a rule does, one of:
 * - `reply`: answer with this reject instead of handling the command;
 * - `delay`: wait this many ms, then handle the command as usual;
 * - `disconnect`: close the connection before the reply;
 * - `disconnectMidData`: (at `data`) answer 354, then close the connection once the message starts to arrive;
 * - `tlsFailure`: (at `starttls`) answer 220, then fail the TLS handshake with a `handshake_failure` alert;
 * - `slowReply`: write the usual reply one byte at a time, `byteDelayMs` apart;
 * - `greylist`: (at `rcpt`) answer `451 4.7.1` to the first attempt of a sender/recipient/client
 *   triple and to every retry sooner than `retryAfterMs`; accept later ones;
 * - `rateLimit`: (at `mail` or `rcpt`) accept `max` attempts per sender in each `windowMs`, reject the rest with `code`.
 */
export const FaultActionSchema = z.union([
  z.object({ reply: FaultReplySchema }).strict(),
  z.object({ delay: delayMs }).strict(),
  z.object({ disconnect: z.literal(true) }).strict(),
  z.object({ disconnectMidData: z.literal(true) }).strict(),
  z.object({ tlsFailure: z.literal(true) }).strict(),
  z.object({ slowReply: z.object({ byteDelayMs: z.number().int().min(1).max(MAX_SLOW_REPLY_BYTE_DELAY_MS) }).strict() }).strict(),
  z.object({ greylist: z.object({ retryAfterMs: delayMs.default(0) }).strict() }).strict(),
  z
    .object({
      rateLimit: z
        .object({
          max: z.number().int().min(0).max(1_000_000),
          windowMs: z.number().int().min(1).max(MAX_RATE_WINDOW_MS),
          code: z.union([z.literal(421), z.literal(450), z.literal(451), z.literal(452)]).default(451),
        })
        .strict(),
    })
    .strict(),
]);
export type FaultAction = z.infer<typeof FaultActionSchema>;

const AddressPattern = z.string().min(1).max(320);

/**
 * Who a rule applies to; every field given must match (case-insensitively). Parallel tests
 * scope their rules to their own recipient, so that they never see each other's faults.
 */
export const FaultMatchSchema = z
  .object({
    /** An envelope recipient: at `rcpt` the one being given, at `data`/`end-of-data` any of the message's. */
    recipient: AddressPattern.optional(),
    /** The envelope sender (MAIL FROM). */
    sender: AddressPattern.optional(),
    /** The listener the client connected to. */
    listener: z.string().min(1).max(64).optional(),
    /** The AUTH user name (at `auth`, the one being tried). */
    user: z.string().min(1).max(320).optional(),
    /** The HELO/EHLO name of the client. */
    clientName: z.string().min(1).max(300).optional(),
  })
  .strict();
export type FaultMatch = z.infer<typeof FaultMatchSchema>;

/** The first stage at which each match field is known. */
const KNOWN_FROM: Record<keyof FaultMatch, FaultStage> = {
  listener: 'connect',
  clientName: 'ehlo',
  user: 'auth',
  sender: 'mail',
  recipient: 'rcpt',
};

/** Actions that only make sense at one stage (or a few). */
const ACTION_STAGES: Partial<Record<string, readonly FaultStage[]>> = {
  disconnectMidData: ['data'],
  tlsFailure: ['starttls'],
  greylist: ['rcpt'],
  rateLimit: ['mail', 'rcpt'],
};

/**
 * A fault rule: where (`at`), what (`action`), who (`match`) and when (`times`, `nth`,
 * `probability` with `seed`). Without `times`, `nth` or `probability` it fires on every
 * matching attempt.
 */
const FaultRuleObjectSchema = z
  .object({
    /** Unique id; generated when not given. */
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'letters, digits, ".", "_", ":" and "-", at most 64')
      .optional(),
    at: FaultStageSchema,
    action: FaultActionSchema,
    match: FaultMatchSchema.default({}),
    /** Fire on the first `times` matching attempts only. */
    times: z.number().int().min(1).max(1_000_000).optional(),
    /** Fire on the `nth` matching attempt only (1 = the first). */
    nth: z.number().int().min(1).max(1_000_000).optional(),
    /** Fire on this share of matching attempts (0 to 1), drawn from a generator seeded by `seed`. */
    probability: z.number().min(0).max(1).optional(),
    /** Seed of `probability`'s generator: the same seed fires on the same attempts. Default 1. */
    seed: z.number().int().min(0).max(0xffff_ffff).optional(),
  })
  .strict();
/** {@link FaultRuleObjectSchema} with the checks that span fields (a match known at the stage, an action that applies there). */
export const FaultRuleSchema = FaultRuleObjectSchema.superRefine((rule, ctx) => {
  const stageIndex = FAULT_STAGES.indexOf(rule.at);
  for (const [field, value] of Object.entries(rule.match)) {
    if (value === undefined) continue;
    const from = KNOWN_FROM[field as keyof FaultMatch];
    if (FAULT_STAGES.indexOf(from) > stageIndex) {
      ctx.addIssue({ code: 'custom', path: ['match', field], message: `${field} is not known yet at "${rule.at}" (only from "${from}" on)` });
    }
  }
  const actionName = Object.keys(rule.action)[0] ?? '';
  const stages = ACTION_STAGES[actionName];
  if (stages && !stages.includes(rule.at)) {
    ctx.addIssue({
      code: 'custom',
      path: ['action', actionName],
      message: `${actionName} applies at ${stages.map((s) => `"${s}"`).join(' or ')}, not "${rule.at}"`,
    });
  }
  if (rule.times !== undefined && rule.nth !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['nth'], message: 'give times or nth, not both' });
  }
  if (rule.seed !== undefined && rule.probability === undefined) {
    ctx.addIssue({ code: 'custom', path: ['seed'], message: 'seed needs probability' });
  }
});
/** A fault rule as given (id, match and the defaults optional). */
export type FaultRuleInput = z.input<typeof FaultRuleSchema>;
/** A fault rule after validation. */
export type FaultRule = z.output<typeof FaultRuleSchema>;

/** A registered rule, as `GET /api/v1/faults` lists it: its id and how often it matched and fired. */
export const RegisteredFaultRuleSchema = FaultRuleObjectSchema.extend({
  id: z.string(),
  /** Attempts the rule matched. */
  matched: z.number().int().nonnegative(),
  /** Attempts it fired on. */
  fired: z.number().int().nonnegative(),
});
export type RegisteredFaultRule = FaultRule & { id: string; matched: number; fired: number };

/** A fault that fired in a session (`session.faults`). */
export const FiredFaultSchema = z.object({
  /** The rule's id. */
  rule: z.string(),
  at: FaultStageSchema,
  /** The action taken: `reply`, `delay`, `disconnect`, `disconnectMidData`, `tlsFailure`, `slowReply`, `greylist`, `rateLimit`. */
  action: z.string(),
  /** The reply code sent, when the fault answered. */
  code: z.number().int().nullable(),
  /** The recipient (at `rcpt`) or sender (at `mail`) the command named, when any. */
  argument: z.string().nullable(),
  /** The envelope sender of the attempt, once known (at `mail`, the one given). */
  sender: z.string().nullable(),
  /** The recipients the fault concerned: at `rcpt` the one given, at `data`/`end-of-data` the message's. */
  recipients: z.array(z.string()),
  /** Milliseconds since the connection opened. */
  atMs: z.number().nonnegative(),
});
export type FiredFault = z.infer<typeof FiredFaultSchema>;

/** The reply text a reject code gets when a rule gives none. */
export function defaultFaultText(code: number): string {
  switch (code) {
    case 421:
      return '4.3.2 Service not available, closing transmission channel';
    case 450:
      return '4.2.1 Mailbox unavailable, try again later';
    case 451:
      return '4.3.0 Local error in processing, try again later';
    case 452:
      return '4.2.2 Mailbox full';
    case 550:
      return '5.1.1 Mailbox unavailable';
    case 552:
      return '5.3.4 Message too big for system';
    case 553:
      return '5.1.3 Mailbox name not allowed';
    case 554:
      return '5.0.0 Transaction failed';
    default:
      return `${Math.floor(code / 100)}.0.0 Rejected by a fault rule`;
  }
}

/** The seeded generator behind `probability`: mulberry32, the same sequence for the same seed. */
export function faultRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Scope = Pick<FaultRuleInput, 'match' | 'times' | 'nth' | 'probability' | 'seed' | 'id'>;

/** Ready-made behaviours of real receiving servers, as fault rules. */
export const faults = {
  /**
   * Greylisting: the first attempt of a new sender/recipient/client triple gets
   * `451 4.7.1`, and so does every retry sooner than `retryAfterMs`; later ones are accepted.
   */
  greylisting(options: Scope & { retryAfterMs?: number } = {}): FaultRuleInput {
    const { retryAfterMs = 0, ...scope } = options;
    return { ...scope, at: 'rcpt', action: { greylist: { retryAfterMs } } };
  },
  /** Rate limiting: more than `max` messages per `windowMs` from one sender get `code` (451 by default, or 421). */
  rateLimit(options: Scope & { max: number; windowMs: number; code?: 421 | 450 | 451 | 452 }): FaultRuleInput {
    const { max, windowMs, code = 451, ...scope } = options;
    return { ...scope, at: 'mail', action: { rateLimit: { max, windowMs, code } } };
  },
  /** Mailbox full: `452 4.2.2` at RCPT. */
  mailboxFull(options: Scope = {}): FaultRuleInput {
    return { ...options, at: 'rcpt', action: { reply: { code: 452, text: '4.2.2 Mailbox full' } } };
  },
  /** Unknown user: `550 5.1.1` at RCPT. */
  unknownUser(options: Scope = {}): FaultRuleInput {
    return { ...options, at: 'rcpt', action: { reply: { code: 550, text: '5.1.1 User unknown' } } };
  },
  /** Message too big: `552 5.3.4` once the message is in. */
  messageTooBig(options: Scope = {}): FaultRuleInput {
    return { ...options, at: 'end-of-data', action: { reply: { code: 552, text: '5.3.4 Message too big for system' } } };
  },
};
