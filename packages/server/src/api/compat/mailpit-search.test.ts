import { describe, expect, it } from 'vitest';
import { parseMailpitSearch, parseSearchDate, splitSearch } from './mailpit-search.js';

describe('splitSearch', () => {
  it('splits on spaces and keeps quoted stretches together, without their quotes', () => {
    expect(splitSearch('subject:"two words"  from:a@b.test "exact phrase" -tag:x')).toEqual(['subject:two words', 'from:a@b.test', 'exact phrase', '-tag:x']);
    expect(splitSearch('   ')).toEqual([]);
  });
});

describe('parseSearchDate', () => {
  it('reads a wall-clock time in the zone given, across a daylight-saving change', () => {
    expect(parseSearchDate('2024-01-15', 'UTC')).toBe(Date.parse('2024-01-15T00:00:00Z'));
    expect(parseSearchDate('2024-01-15 13:45', 'Europe/Berlin')).toBe(Date.parse('2024-01-15T12:45:00Z'));
    // Summer time in Berlin (UTC+2); the change was on 31 March 2024 at 01:00 UTC.
    expect(parseSearchDate('2024-03-31 05:00', 'Europe/Berlin')).toBe(Date.parse('2024-03-31T03:00:00Z'));
    expect(parseSearchDate('2024-03-30 23:00', 'Europe/Berlin')).toBe(Date.parse('2024-03-30T22:00:00Z'));
    // Still winter time, though the same clock reading taken as UTC would be after the change.
    expect(parseSearchDate('2024-03-31 01:30', 'Europe/Berlin')).toBe(Date.parse('2024-03-31T00:30:00Z'));
    expect(parseSearchDate('2024-07-01T10:00:00Z', 'Europe/Berlin')).toBe(Date.parse('2024-07-01T10:00:00Z'));
  });

  it('refuses what is not a date', () => {
    expect(parseSearchDate('2024-13-01', 'UTC')).toBeNull();
    expect(parseSearchDate('soon', undefined)).toBeNull();
  });
});

describe('parseMailpitSearch', () => {
  it('ignores terms without a letter or digit and empty field values, as Mailpit does', () => {
    expect(parseMailpitSearch('-- ! to: "" subject:')).toEqual([]);
    expect(parseMailpitSearch('to:a@b.test -is:read')).toHaveLength(2);
  });

  it('refuses an unreadable size, date or time zone with 400 INVALID_FILTER', () => {
    for (const [query, tz] of [['larger:huge'], ['before:someday'], ['after:2024-01-01', 'Nowhere/City']] as [string, string?][]) {
      expect(() => parseMailpitSearch(query, tz)).toThrow(expect.objectContaining({ code: 'INVALID_FILTER', statusCode: 400 }));
    }
  });
});
