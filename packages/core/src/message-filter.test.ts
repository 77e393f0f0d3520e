import { describe, expect, it } from 'vitest';
import { compileFilter, pickFilter, isEmptyFilter } from './message-filter.js';
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

describe('pickFilter', () => {
  it('takes filter fields from a query record and ignores the rest', () => {
    expect(pickFilter({ to: 'a', limit: '5', subject: ['x', 'y'], text: '' })).toEqual({ to: 'a', subject: 'y' });
    expect(isEmptyFilter(pickFilter({ limit: '1' }))).toBe(true);
  });
});
