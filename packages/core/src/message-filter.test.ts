import { describe, expect, it } from 'vitest';
import { compileFilter, hasVerdictFilter, pickFilter, isEmptyFilter, REGEX_WORK_BUDGET } from './message-filter.js';
import { plaintextTlsInfo, type CapturedMessage } from './captured-message.js';

function message(overrides: Partial<CapturedMessage> = {}): CapturedMessage {
  return {
    id: '01TEST',
    seq: 1,
    receivedAt: '2026-01-01T00:00:00.000Z',
    envelope: { mailFrom: 'app@example.test', rcptTo: ['bcc@example.test'], requireTls: false, smtpUtf8: false, body: '7bit' },
    from: { name: 'The App', address: 'noreply@example.test' },
    to: [{ name: 'Alice', address: 'alice@example.test' }],
    cc: [{ name: '', address: 'carol@example.test' }],
    replyTo: [],
    subject: 'Reset your password',
    messageId: null,
    date: null,
    size: 100,
    snippet: 'Click the link',
    attachments: [],
    tls: { ...plaintextTlsInfo(true), mode: 'starttls', protocol: 'TLSv1.3' },
    auth: null,
    sessionId: 's1',
    listener: 'smtp',
    tags: ['signup'],
    ...overrides,
  };
}

describe('compileFilter', () => {
  it('matches `to` against envelope recipients (Bcc) and To/Cc headers', () => {
    expect(compileFilter({ to: 'bcc@example.test' })({ message: message() })).toBe(true);
    expect(compileFilter({ to: 'ALICE@' })({ message: message() })).toBe(true);
    expect(compileFilter({ to: 'carol' })({ message: message() })).toBe(true);
    expect(compileFilter({ to: 'dave' })({ message: message() })).toBe(false);
  });

  it('matches `from` against the envelope sender and the From header', () => {
    expect(compileFilter({ from: 'app@' })({ message: message() })).toBe(true);
    expect(compileFilter({ from: 'noreply' })({ message: message() })).toBe(true);
    expect(compileFilter({ from: 'other' })({ message: message() })).toBe(false);
  });

  it('supports regular expressions with the re: prefix, with and without flags', () => {
    expect(compileFilter({ subject: 're:^Reset' })({ message: message() })).toBe(true);
    expect(compileFilter({ subject: 're:^reset' })({ message: message() })).toBe(false);
    expect(compileFilter({ subject: 're:/^reset/i' })({ message: message() })).toBe(true);
  });

  it('matches `text` in the text body when given, else in the snippet', () => {
    expect(compileFilter({ text: 'token=abc' })({ message: message(), text: 'your token=abc here' })).toBe(true);
    expect(compileFilter({ text: 'token=abc' })({ message: message() })).toBe(false);
    expect(compileFilter({ text: 'click' })({ message: message() })).toBe(true);
  });

  it('matches tls modes, `any` meaning any TLS', () => {
    expect(compileFilter({ tls: 'starttls' })({ message: message() })).toBe(true);
    expect(compileFilter({ tls: 'any' })({ message: message() })).toBe(true);
    expect(compileFilter({ tls: 'none' })({ message: message() })).toBe(false);
    expect(compileFilter({ tls: 'any' })({ message: message({ tls: plaintextTlsInfo() }) })).toBe(false);
  });

  it('combines fields with AND', () => {
    expect(compileFilter({ to: 'alice', tag: 'signup', listener: 'smtp' })({ message: message() })).toBe(true);
    expect(compileFilter({ to: 'alice', listener: 'smtps' })({ message: message() })).toBe(false);
  });

  it('rejects a broken regular expression and unknown fields with INVALID_FILTER', () => {
    expect(() => compileFilter({ subject: 're:(' })).toThrow(expect.objectContaining({ code: 'INVALID_FILTER', statusCode: 400 }));
    expect(() => compileFilter({ nope: 'x' } as never)).toThrow(expect.objectContaining({ code: 'INVALID_FILTER' }));
  });
});

describe('protection filters', () => {
  const summary = { status: 'done', kind: 'smime', signed: true, encrypted: true, decrypted: false } as const;

  it('match encrypted, signed and the technology once the protection is done', () => {
    const smime = message({ protection: summary });
    expect(compileFilter({ encrypted: 'true', signed: 'true', protection: 'smime' })({ message: smime })).toBe(true);
    expect(compileFilter({ encrypted: 'false' })({ message: smime })).toBe(false);
    expect(compileFilter({ protection: 'pgp' })({ message: smime })).toBe(false);
    expect(compileFilter({ protection: 'pgp' })({ message: message({ protection: { ...summary, kind: 'pgp-inline' } }) })).toBe(true);
    expect(compileFilter({ signed: 'false' })({ message: message({ protection: { ...summary, kind: 'none', signed: false } }) })).toBe(true);
  });

  it('match nothing while the protection is pending or absent, and make a wait wait for it', () => {
    const pending = message({ protection: { ...summary, status: 'pending' } });
    expect(compileFilter({ encrypted: 'true' })({ message: pending })).toBe(false);
    expect(compileFilter({ encrypted: 'false' })({ message: pending })).toBe(false);
    expect(compileFilter({ signed: 'false' })({ message: message() })).toBe(false);
    expect(hasVerdictFilter({ protection: 'smime' })).toBe(true);
    expect(hasVerdictFilter({ subject: 'x' })).toBe(false);
  });

  it('refuse values other than true and false', () => {
    expect(() => compileFilter({ encrypted: 'yes' as 'true' })).toThrow(/encrypted/);
  });
});

describe('full addresses', () => {
  const ab = message({
    envelope: { mailFrom: 'xb@example.test', rcptTo: ['ab@example.test'], requireTls: false, smtpUtf8: false, body: '7bit' },
    from: { name: 'b@example.test', address: 'xb@example.test' },
    to: [{ name: 'b@example.test', address: 'ab@example.test' }],
    cc: [{ name: '', address: 'b@example.test.evil' }],
  });

  it('match one address exactly in `to`, never a longer one that contains it', () => {
    expect(compileFilter({ to: 'b@example.test' })({ message: ab })).toBe(false);
    expect(compileFilter({ to: 'ab@example.test' })({ message: ab })).toBe(true);
    expect(compileFilter({ to: 'AB@Example.TEST' })({ message: ab })).toBe(true);
    expect(compileFilter({ to: 'b@example.test.evil' })({ message: ab })).toBe(true);
  });

  it('match the envelope recipient exactly (Bcc) and To/Cc header addresses exactly', () => {
    const bcc = message({ envelope: { ...ab.envelope, rcptTo: ['b@example.test'] }, to: [], cc: [] });
    expect(compileFilter({ to: 'b@example.test' })({ message: bcc })).toBe(true);
    const header = message({ envelope: { ...ab.envelope, rcptTo: [] }, to: [], cc: [{ name: '', address: 'B@example.test' }] });
    expect(compileFilter({ to: 'b@example.test' })({ message: header })).toBe(true);
  });

  it('match `from` exactly', () => {
    expect(compileFilter({ from: 'b@example.test' })({ message: ab })).toBe(false);
    expect(compileFilter({ from: 'xb@example.test' })({ message: ab })).toBe(true);
  });

  it('leave partial terms as substrings (domain, @domain, local@, names)', () => {
    expect(compileFilter({ to: 'example.test' })({ message: ab })).toBe(true);
    expect(compileFilter({ to: '@example.test' })({ message: ab })).toBe(true);
    expect(compileFilter({ to: 'ab@' })({ message: ab })).toBe(true);
    expect(compileFilter({ to: 're:b@example' })({ message: ab })).toBe(true);
    expect(compileFilter({ from: 'b@' })({ message: ab })).toBe(true);
  });
});

describe('regular expressions', () => {
  it('run on a linear-time engine: a catastrophic pattern returns on a long subject', () => {
    const subject = `${'a'.repeat(100_000)}!`;
    const matcher = compileFilter({ subject: 're:(a+)+$' });
    expect(matcher({ message: message({ subject }) })).toBe(false);
    expect(matcher({ message: message({ subject: 'aaaa' }) })).toBe(true);
    expect(compileFilter({ text: 're:/^(a|aa)+$/' })({ message: message(), text: subject })).toBe(false);
  });

  it('test a value up to REGEX_WORK_BUDGET / program size characters, so one test is bounded', () => {
    // A large program (over 300 instructions) sees a shorter prefix than a simple one.
    const large = 're:(?s)[^#]{300}TAIL';
    const within = `${'a'.repeat(1_000)}TAIL`;
    const beyond = `${'a'.repeat(REGEX_WORK_BUDGET / 300)}TAIL`;
    expect(compileFilter({ text: large })({ message: message(), text: within })).toBe(true);
    expect(compileFilter({ text: large })({ message: message(), text: beyond })).toBe(false);
    // A simple pattern sees the whole of a long value.
    expect(compileFilter({ text: 're:TAIL$' })({ message: message(), text: beyond })).toBe(true);
  });

  it('accept the JavaScript spellings people write: flags, \\u escapes, escaped slashes', () => {
    expect(compileFilter({ subject: 're:/^RESET/i' })({ message: message() })).toBe(true);
    expect(compileFilter({ subject: 're:/caf\\u00e9/' })({ message: message({ subject: 'café' }) })).toBe(true);
    expect(compileFilter({ text: 're:/a\\/b/' })({ message: message(), text: 'see a/b' })).toBe(true);
    expect(compileFilter({ text: 're:/^b.c$/s' })({ message: message(), text: 'b\nc' })).toBe(true);
    expect(compileFilter({ text: 're:/^c$/m' })({ message: message(), text: 'b\nc' })).toBe(true);
    expect(compileFilter({ text: 're:^c$' })({ message: message(), text: 'b\nc' })).toBe(false);
  });

  it('refuse what RE2 cannot honour, with INVALID_FILTER and the reason', () => {
    for (const [pattern, reason] of [
      ['re:(a)\\1', /invalid escape/],
      ['re:a(?=b)', /unsupported Perl syntax/],
      ['re:(?<!a)b', /invalid named capture/],
      ['re:/a/x', /unknown flag "x"/],
      ['re:(?:[a-z]{1,50}){1,20}', /too complex/],
    ] as const) {
      expect(() => compileFilter({ subject: pattern }), pattern).toThrow(
        expect.objectContaining({ code: 'INVALID_FILTER', statusCode: 400, message: expect.stringMatching(reason) }),
      );
    }
  });

  it('bound the pattern length', () => {
    expect(() => compileFilter({ subject: `re:${'a'.repeat(1001)}` })).toThrow(expect.objectContaining({ code: 'INVALID_FILTER' }));
  });
});

describe('pickFilter', () => {
  it('takes filter fields from a query record and ignores the rest', () => {
    expect(pickFilter({ to: 'a', limit: '5', subject: ['x', 'y'], text: '' })).toEqual({ to: 'a', subject: 'y' });
    expect(isEmptyFilter(pickFilter({ limit: '1' }))).toBe(true);
  });
});
