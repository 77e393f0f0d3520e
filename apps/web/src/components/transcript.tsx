import type { TlsInfo, TranscriptLine } from '@mailwright/core';
import { formatOffset } from '../lib/format';
import { LockClosed } from './icons';

type Row = { kind: 'line'; line: TranscriptLine; gap: number } | { kind: 'tls'; at: number; text: string };

function handshakeText(tls: TlsInfo): string {
  const cipher = tls.cipher?.standardName ?? tls.cipher?.name;
  return ['TLS handshake', tls.protocol, cipher].filter(Boolean).join(' · ');
}

/** The transcript with the TLS handshake marked where it happened. */
function rowsOf(transcript: readonly TranscriptLine[], tls: TlsInfo): Row[] {
  const rows: Row[] = [];
  // A failed handshake keeps the mode it attempted, with no protocol: no handshake to mark.
  const established = tls.protocol !== null;
  if (established && tls.mode === 'implicit') rows.push({ kind: 'tls', at: 0, text: `${handshakeText(tls)} (implicit, before the greeting)` });
  let previousAt = 0;
  let startTlsRequested = false;
  for (const line of transcript) {
    rows.push({ kind: 'line', line, gap: line.at - previousAt });
    previousAt = line.at;
    if (line.dir === 'client' && /^STARTTLS\b/i.test(line.line)) startTlsRequested = true;
    else if (startTlsRequested && line.dir === 'server') {
      startTlsRequested = false;
      if (line.line.startsWith('220') && established && tls.mode === 'starttls') rows.push({ kind: 'tls', at: line.at, text: handshakeText(tls) });
    }
  }
  return rows;
}

/** The SMTP dialogue as a timeline: time since the connection opened, who spoke, what was said. */
export function Transcript({ transcript, tls }: { transcript: readonly TranscriptLine[]; tls: TlsInfo }) {
  if (transcript.length === 0) return <p className="muted">Nothing was said on this connection.</p>;
  return (
    <ol className="transcript" data-testid="transcript">
      {rowsOf(transcript, tls).map((row, index) =>
        row.kind === 'tls' ? (
          <li key={index} className="transcript-tls">
            <span className="transcript-at">{formatOffset(row.at)}</span>
            <span className="transcript-marker">
              <LockClosed width={12} height={12} /> {row.text}
            </span>
          </li>
        ) : (
          <li key={index} className={`transcript-line dir-${row.line.dir}${row.gap >= 100 ? ' slow' : ''}${row.line.fault ? ' fault' : ''}`}>
            <span className="transcript-at" title={`+${formatOffset(row.gap)} after the previous line`}>
              {formatOffset(row.line.at)}
            </span>
            <span className="transcript-dir" aria-label={row.line.fault ? 'fault' : row.line.dir === 'client' ? 'client' : 'server'}>
              {row.line.fault ? '!' : row.line.dir === 'client' ? 'C' : 'S'}
            </span>
            <code className="transcript-text">{row.line.line}</code>
          </li>
        ),
      )}
    </ol>
  );
}
