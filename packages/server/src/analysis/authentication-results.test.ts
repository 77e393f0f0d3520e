import { expect, test } from 'vitest';
import { formatAuthenticationResults } from './authentication-results.js';

const none = { result: 'none', reason: null } as const;

test('values that are not tokens are quoted, comments escaped (RFC 8601 §2.2)', () => {
  const value = formatAuthenticationResults(
    'mx.example',
    {
      dkim: [
        {
          ...none,
          result: 'fail',
          domain: 'example.com',
          selector: 's1',
          algorithm: 'rsa-sha256',
          signature: 'ab/cd+ef==',
          canonicalization: 'relaxed/relaxed',
          bodyHashMatched: false,
          keyBits: null,
          bodyLengthLimit: null,
          unsignedBodyBytes: 0,
          aligned: true,
          reason: 'body hash did not verify (changed)',
        },
      ],
      spf: { ...none, domain: 'example.com', clientIp: '192.0.2.1', mechanism: null, lookups: 0, voidLookups: 0, record: null },
      helo: null,
      dmarc: {
        ...none,
        domain: 'example.com',
        organizationalDomain: 'example.com',
        policy: null,
        p: null,
        sp: null,
        spfAligned: false,
        dkimAligned: false,
        spfAlignment: 'relaxed',
        dkimAlignment: 'relaxed',
        record: null,
      },
      arc: null,
    },
    { mailFrom: 'a b@example.com', helo: null, headerFromDomain: 'example.com' },
  );
  expect(value).toBe(
    'mx.example; dkim=fail (body hash did not verify \\(changed\\)) header.d=example.com header.s=s1 header.a=rsa-sha256 header.b="ab/cd+ef"; spf=none smtp.mailfrom="a b@example.com"; dmarc=none header.from=example.com',
  );
});
