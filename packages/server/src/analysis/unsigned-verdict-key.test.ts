import { describe, expect, it } from 'vitest';
import { unsignedVerdictKey } from './unsigned-verdict-key.js';

const input = { mailFrom: 'a@example.com', helo: 'client.example', clientIp: '192.0.2.1', authservId: 'mx.test' };
const message = (header: string, body = 'hello\r\n'): Buffer => Buffer.from(`${header}\r\n\r\n${body}`);
const plain = 'From: Alice <a@example.com>\r\nTo: b@example.net\r\nSubject: one\r\nMessage-ID: <1@example.com>';

describe('unsignedVerdictKey', () => {
  it('is the same for unsigned messages that differ only where verdicts do not look', () => {
    const key = unsignedVerdictKey(input, message(plain));
    expect(key).not.toBeNull();
    const other = 'From: Alice <a@example.com>\r\nTo: c@example.net\r\nSubject: two\r\n  folded\r\nMessage-ID: <2@example.com>';
    expect(unsignedVerdictKey(input, message(other, 'another body\r\n'.repeat(50)))).toBe(key);
    expect(unsignedVerdictKey(input, new Uint8Array(message(plain)))).toBe(key);
  });

  it('differs with the From and Return-Path fields, the envelope, the client and the authserv-id', () => {
    const key = unsignedVerdictKey(input, message(plain));
    const keys = [
      unsignedVerdictKey(input, message(plain.replace('From: Alice <a@example.com>', 'From: Alice <a@example.org>'))),
      unsignedVerdictKey(input, message(plain.replace('From: Alice <a@example.com>', 'From: Alice\r\n <a@example.org>'))),
      unsignedVerdictKey(input, message(`${plain}\r\nFrom: b@example.org`)),
      unsignedVerdictKey(input, message(`${plain}\r\nReturn-Path: <b@example.org>`)),
      unsignedVerdictKey({ ...input, mailFrom: '' }, message(plain)),
      unsignedVerdictKey({ ...input, helo: 'other.example' }, message(plain)),
      unsignedVerdictKey({ ...input, helo: null }, message(plain)),
      unsignedVerdictKey({ ...input, clientIp: '192.0.2.2' }, message(plain)),
      unsignedVerdictKey({ ...input, clientIpSource: 'listener' }, message(plain)),
      unsignedVerdictKey({ ...input, authservId: 'mx2.test' }, message(plain)),
    ];
    expect(new Set([key, ...keys]).size).toBe(keys.length + 1);
    expect(keys).not.toContain(null);
  });

  it('is null for a signed message, and for a header block that could be read more than one way', () => {
    for (const header of [
      `DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s1; b=abc\r\n${plain}`,
      `${plain}\r\ndkim-signature: v=1`,
      `ARC-Seal: i=1; a=rsa-sha256; cv=none\r\n${plain}`,
      `${plain}\r\nARC-Authentication-Results: i=1; mx.example`,
      `${plain}\r\nFrom : b@example.org`,
      `${plain}\r\nno colon here`,
      ` ${plain}`,
      plain.replace('\r\nTo:', '\nTo:'),
      plain.replace('\r\nTo:', '\rTo:'),
      plain.replace('Alice', 'Älice'),
      plain.replace('Alice', 'Al\0ice'),
    ]) {
      expect(unsignedVerdictKey(input, message(header)), header).toBeNull();
    }
    expect(unsignedVerdictKey(input, Buffer.from(`${plain}\r\n`))).toBeNull();
    expect(unsignedVerdictKey(input, Buffer.from(`\r\n\r\nbody`))).toBeNull();
  });
});
