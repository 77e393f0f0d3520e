import type { DmarcVerdict } from '@mailwright/core';

/** A DMARC verdict of `none` for `domain` with nothing evaluated yet: the base others spread over. */
export function emptyDmarcVerdict(domain: string, reason: string | null): DmarcVerdict {
  return {
    result: 'none',
    domain,
    organizationalDomain: domain,
    policy: null,
    p: null,
    sp: null,
    spfAligned: false,
    dkimAligned: false,
    spfAlignment: 'relaxed',
    dkimAlignment: 'relaxed',
    record: null,
    reason,
  };
}
