import { describe, expect, it } from 'vitest';
import { SAFE_FILENAME_MAX_BYTES, safeContentType, safeFilename } from './safe-attachment.js';

describe('safeFilename', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Windows\\win.ini', 'win.ini'],
    ['a\u0000b\r\nc.txt', 'a_b__c.txt'],
    ['what?<>|*.txt', 'what_____.txt'],
    ['  .hidden.  ', 'hidden'],
    ['NUL', '_NUL'],
    ['lpt1.log', '_lpt1.log'],
    ['données été.csv', 'données été.csv'],
  ])('%j → %j', (name, safe) => {
    expect(safeFilename(name, '2')).toBe(safe);
  });

  it.each([null, '', '..', '/', '\u0001\u0002', '...'])('falls back to attachment-<partId> for %j', (name) => {
    expect(safeFilename(name, '1.2')).toBe('attachment-1.2');
  });

  it('cuts a long name to the byte limit, keeping its extension and whole characters', () => {
    const safe = safeFilename(`${'é'.repeat(300)}.tar.gz`, '3');
    expect(Buffer.byteLength(safe)).toBeLessThanOrEqual(SAFE_FILENAME_MAX_BYTES);
    expect(safe.endsWith('é.gz')).toBe(true);
    expect(safe).not.toContain('\ufffd');
  });
});

describe('safeContentType', () => {
  it.each([
    ['text/plain', 'text/plain'],
    ['Application/PDF', 'application/pdf'],
    ['application/x\u0001evil', 'application/octet-stream'],
    ['text/html\r\nSet-Cookie: a=b', 'application/octet-stream'],
    ['', 'application/octet-stream'],
    [undefined, 'application/octet-stream'],
    ['noslash', 'application/octet-stream'],
  ])('%j → %j', (value, safe) => {
    expect(safeContentType(value)).toBe(safe);
  });
});
