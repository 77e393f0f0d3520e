import type { TlsInfo } from '@mailwright/core';
import { deliveryLabel } from '../lib/format';
import { LockClosed, LockOpen } from './icons';

/** How a message travelled, at a glance: a closed lock over TLS, an open warning lock in plaintext. */
export function TlsBadge({ tls, large = false }: { tls: TlsInfo; large?: boolean }) {
  const secure = tls.mode !== 'none';
  const label = deliveryLabel(tls);
  const detail = secure
    ? [label, tls.cipher?.standardName ?? tls.cipher?.name].filter(Boolean).join(' — ')
    : 'Sent without TLS: readable by anyone on the path';
  return (
    <span className={`tls-badge ${secure ? 'tls-secure' : 'tls-plain'}${large ? ' tls-large' : ''}`} title={detail} data-tls-mode={tls.mode}>
      {secure ? <LockClosed /> : <LockOpen />}
      <span>{label}</span>
    </span>
  );
}
