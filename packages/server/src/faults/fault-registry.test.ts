import { describe, expect, it } from 'vitest';
import { FaultRegistry, faultStageBit, type FaultAttempt } from './fault-registry.js';

const attempt = (overrides: Partial<FaultAttempt> = {}): FaultAttempt => ({
  listener: 'smtp',
  remoteAddress: '127.0.0.1',
  clientName: 'client.test',
  user: null,
  sender: 'app@x.test',
  recipients: [{ address: 'a@x.test' }],
  line: null,
  ...overrides,
});

describe('FaultRegistry', () => {
  it('finds rules scoped by recipient or sender among many others, in the order added, case-insensitively', () => {
    const registry = new FaultRegistry();
    const others = Array.from({ length: 900 }, (_, index) => ({
      at: index % 2 === 0 ? 'rcpt' : 'mail',
      action: { reply: { code: 451 } },
      match: index % 2 === 0 ? { recipient: `r${index}@other.test` } : { sender: `s${index}@other.test` },
    }));
    registry.add(others);
    const [bySender, byRecipient, anyone] = registry.add([
      { id: 'by-sender', at: 'data', action: { reply: { code: 452 } }, match: { sender: 'App@X.test' } },
      { id: 'by-recipient', at: 'data', action: { reply: { code: 550 } }, match: { recipient: 'A@x.TEST' } },
      { id: 'anyone', at: 'mail', action: { reply: { code: 421 } }, match: { listener: 'lab' } },
    ]);
    expect(registry.check('data', attempt())?.rule).toBe(bySender?.id);
    expect(registry.check('data', attempt({ sender: 'other@x.test' }))?.rule).toBe(byRecipient?.id);
    expect(registry.check('data', attempt({ sender: 'other@x.test', recipients: [{ address: 'b@x.test' }] }))).toBeNull();
    expect(registry.check('mail', attempt({ line: 'MAIL FROM:<s1@other.test>' }))).toMatchObject({ code: 451, argument: 's1@other.test' });
    expect(registry.check('mail', attempt({ line: 'MAIL FROM:<nobody@x.test>' }))).toBeNull();
    expect(registry.check('mail', attempt({ listener: 'lab', line: 'MAIL FROM:<nobody@x.test>' }))?.rule).toBe(anyone?.id);
    expect(registry.check('rcpt', attempt({ line: 'RCPT TO:<R0@Other.test>' }))).toMatchObject({ code: 451, recipients: ['R0@Other.test'] });
  });

  it('clears a stage bit when its last rule goes, and fires times/nth as counted', () => {
    const registry = new FaultRegistry();
    const [once] = registry.add([{ at: 'end-of-data', action: { disconnect: true }, times: 1 }]);
    expect(registry.stages).toBe(faultStageBit('end-of-data'));
    expect(registry.check('end-of-data', attempt())?.fault).toEqual({ kind: 'disconnect' });
    expect(registry.check('end-of-data', attempt())).toBeNull();
    expect(registry.get(once?.id ?? '')).toMatchObject({ matched: 2, fired: 1 });
    expect(registry.remove(once?.id ?? '')).toBe(true);
    expect(registry.stages).toBe(0);
    registry.add([{ at: 'ehlo', action: { delay: 1 }, nth: 2 }]);
    expect([1, 2, 3].map(() => registry.check('ehlo', attempt()) !== null)).toEqual([false, true, false]);
  });

  it('greylists a triple until it retries after the delay', () => {
    let now = 1_000;
    const registry = new FaultRegistry({ now: () => now });
    registry.add([{ at: 'rcpt', action: { greylist: { retryAfterMs: 300 } } }]);
    const rcpt = attempt({ line: 'RCPT TO:<a@x.test>' });
    expect(registry.check('rcpt', rcpt)?.fault).toMatchObject({ kind: 'reply', code: 451 });
    now += 299;
    expect(registry.check('rcpt', rcpt)).not.toBeNull();
    now += 1;
    expect(registry.check('rcpt', rcpt)).toBeNull();
    expect(registry.check('rcpt', attempt({ line: 'RCPT TO:<b@x.test>' }))).not.toBeNull();
  });
});
