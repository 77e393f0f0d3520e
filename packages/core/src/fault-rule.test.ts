import { describe, expect, it } from 'vitest';
import { FaultRuleSchema, faultRandom, faults } from './fault-rule.js';

function problems(input: unknown): string[] {
  const parsed = FaultRuleSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('FaultRuleSchema', () => {
  it('accepts each kind of action at its stage', () => {
    expect(problems({ at: 'rcpt', action: { reply: { code: 451, text: '4.7.1 Try later' } }, match: { recipient: 'a@b.test' }, times: 1 })).toEqual([]);
    expect(problems({ at: 'connect', action: { delay: 500 } })).toEqual([]);
    expect(problems({ at: 'mail', action: { disconnect: true } })).toEqual([]);
    expect(problems({ at: 'data', action: { disconnectMidData: true } })).toEqual([]);
    expect(problems({ at: 'starttls', action: { tlsFailure: true } })).toEqual([]);
    expect(problems({ at: 'ehlo', action: { slowReply: { byteDelayMs: 5 } } })).toEqual([]);
    expect(problems({ at: 'rcpt', action: { reply: { code: 550 } }, probability: 0.5, seed: 7 })).toEqual([]);
  });

  it('refuses unknown stages, codes outside 400–599, delays over the cap, each with its own problem', () => {
    expect(problems({ at: 'helo', action: { delay: 1 } })[0]).toMatch(/^at: /);
    expect(problems({ at: 'rcpt', action: { reply: { code: 250 } } }).join()).toMatch(/reject code is 400 to 599/);
    expect(problems({ at: 'rcpt', action: { reply: { code: 600 } } }).join()).toMatch(/reject code is 400 to 599/);
    expect(problems({ at: 'rcpt', action: { delay: 60_001 } }).join()).toMatch(/at most 60000 ms/);
    expect(problems({ at: 'rcpt', action: { reply: { code: 451, text: 'a\r\n250 ok' } } }).join()).toMatch(/without CR or LF/);
  });

  it('refuses a match on what a stage cannot know yet, and actions out of place', () => {
    expect(problems({ at: 'mail', action: { reply: { code: 451 } }, match: { recipient: 'a@b.test' } })).toEqual([
      'match.recipient: recipient is not known yet at "mail" (only from "rcpt" on)',
    ]);
    expect(problems({ at: 'rcpt', action: { tlsFailure: true } })).toEqual(['action.tlsFailure: tlsFailure applies at "starttls", not "rcpt"']);
    expect(problems({ at: 'rcpt', action: { reply: { code: 451 } }, times: 1, nth: 2 })).toEqual(['nth: give times or nth, not both']);
  });

  it('builds the ready-made behaviours as valid rules', () => {
    for (const rule of [
      faults.greylisting({ retryAfterMs: 1000, match: { recipient: 'a@b.test' } }),
      faults.rateLimit({ max: 2, windowMs: 60_000 }),
      faults.mailboxFull(),
      faults.unknownUser({ match: { recipient: 'x@b.test' } }),
      faults.messageTooBig(),
    ])
      expect(problems(rule)).toEqual([]);
    expect(faults.mailboxFull().action).toEqual({ reply: { code: 452, text: '4.2.2 Mailbox full' } });
  });
});

describe('faultRandom', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = faultRandom(42);
    const b = faultRandom(42);
    const c = faultRandom(43);
    const seqA = Array.from({ length: 20 }, a);
    expect(Array.from({ length: 20 }, b)).toEqual(seqA);
    expect(Array.from({ length: 20 }, c)).not.toEqual(seqA);
    expect(seqA.every((value) => value >= 0 && value < 1)).toBe(true);
  });
});
