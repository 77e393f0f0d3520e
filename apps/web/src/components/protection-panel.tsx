import { useEffect, useState } from 'react';
import type { EncryptionVerdict, MessageDetail, Protection, ProtectionKind, ProtectionSummary, SignatureVerdict } from '@mailwright/core';
import { api } from '../api/client';
import { formatFullTime } from '../lib/format';
import { useStream } from '../state/stream-context';
import { Fact, Facts } from './facts';
import { LockClosed, Seal } from './icons';

/** How often, and how many times, a message still being examined is read again. */
const PENDING_POLL_MS = 300;
const PENDING_POLLS = 40;

/** The name of each kind of protection, as people say it. */
export const PROTECTION_KIND_NAMES: Record<ProtectionKind, string> = { none: 'None', smime: 'S/MIME', 'pgp-mime': 'PGP/MIME', 'pgp-inline': 'Inline PGP' };

function protectionOf(message: MessageDetail): Protection | null {
  return message.protection ?? null;
}

/**
 * The message's protection record, read again (bounded) while it is being examined, and again
 * when the stream says it was re-examined (by anyone); null without a message or a record.
 * `replace` puts a record in place (a re-examination's answer).
 */
export function useSettledProtection(message: MessageDetail | null): { protection: Protection | null; gaveUp: boolean; replace(protection: Protection): void } {
  const id = message?.id ?? null;
  const initial = message ? protectionOf(message) : null;
  const [state, setState] = useState({ id, protection: initial, gaveUp: false });
  const current = state.id === id ? state : { id, protection: initial, gaveUp: false };
  const pending = id !== null && current.protection?.status === 'pending' && !current.gaveUp;
  useEffect(() => {
    if (!pending || id === null) return;
    let active = true;
    let polls = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = (): void => {
      timer = setTimeout(() => {
        polls += 1;
        api.getMessage(id).then(
          (detail) => {
            if (!active) return;
            const protection = protectionOf(detail);
            if (protection?.status === 'done') setState({ id, protection, gaveUp: false });
            else if (polls >= PENDING_POLLS) setState({ id, protection, gaveUp: true });
            else poll();
          },
          () => active && setState((previous) => ({ ...previous, id, gaveUp: true })),
        );
      }, PENDING_POLL_MS);
    };
    poll();
    return () => {
      active = false;
      clearTimeout(timer);
    };
  }, [id, pending]);
  const stream = useStream();
  useEffect(() => {
    if (id === null) return;
    let active = true;
    const unlisten = stream.listen({
      onProtection: (examined) => {
        if (examined !== id) return;
        api.getMessage(id).then(
          (detail) => {
            const protection = protectionOf(detail);
            if (active && protection?.status === 'done') setState({ id, protection, gaveUp: false });
          },
          () => undefined,
        );
      },
    });
    return () => {
      active = false;
      unlisten();
    };
  }, [stream, id]);
  return { ...current, replace: (protection: Protection) => setState({ id, protection, gaveUp: false }) };
}

function Signature({ signature, index }: { signature: SignatureVerdict; index: number }) {
  const who = signature.signer ?? signature.subject ?? signature.keyId ?? 'Unknown signer';
  return (
    <li className="protection-signature" data-testid="protection-signature">
      <div>
        <span data-testid="protection-signer">{who}</span>
        <span className="muted"> #{index + 1}</span>
      </div>
      <div>
        <span
          className={`verdict verdict-${signature.valid ? 'ok' : 'bad'}`}
          data-testid="protection-signature-valid"
          data-verdict={signature.valid ? 'pass' : 'fail'}
        >
          {signature.valid ? 'verifies' : 'does not verify'}
        </span>
        {' · '}
        <span className={`verdict verdict-${signature.trusted ? 'ok' : 'bad'}`} data-testid="protection-trust" data-trusted={signature.trusted}>
          {signature.trusted ? 'trusted' : 'not trusted'}
        </span>
      </div>
      {signature.reason && <div data-testid="protection-signature-reason">{signature.reason}</div>}
      <div className="muted">
        {[
          `${signature.algorithm} with ${signature.digestAlgorithm}`,
          signature.signedAt === null ? null : `signed ${formatFullTime(signature.signedAt)}`,
          signature.subject !== null && signature.subject !== who ? signature.subject : null,
        ]
          .filter(Boolean)
          .join(' · ')}
      </div>
      {(signature.fingerprint ?? signature.keyId) && (
        <div className="mono wrap muted" data-testid="protection-fingerprint">
          {signature.fingerprint ?? `key id ${signature.keyId ?? ''}`}
        </div>
      )}
    </li>
  );
}

function Encryption({ encryption }: { encryption: EncryptionVerdict }) {
  return (
    <Facts title="Encryption">
      <Fact label="Content" mono testId="protection-algorithm" value={encryption.algorithm} />
      <Fact
        label="Decrypted"
        testId="protection-decrypted"
        value={
          encryption.decrypted ? (
            <span className="verdict verdict-ok">yes, with a registered key</span>
          ) : (
            <>
              <span className="verdict verdict-bad">no</span>
              {encryption.reason && <div className="muted">{encryption.reason}</div>}
            </>
          )
        }
      />
      <Fact
        label={`Recipient${encryption.recipients.length === 1 ? '' : 's'}`}
        value={
          encryption.recipients.length === 0 ? null : (
            <ul className="plain-list protection-recipients">
              {encryption.recipients.map((recipient, index) => (
                <li key={index} data-testid="protection-recipient">
                  {recipient.address && <strong>{recipient.address} </strong>}
                  <span className="mono wrap">{recipient.id}</span>
                  <span className="muted"> · {recipient.keyTransport}</span>
                </li>
              ))}
            </ul>
          )
        }
      />
    </Facts>
  );
}

/** What a protection is, in a few words: `Signed and encrypted (sign then encrypt)`. */
function describe(protection: Protection): string {
  if (!protection.signed && !protection.encrypted) return 'Not signed or encrypted';
  const what = protection.signed && protection.encrypted ? 'Signed and encrypted' : protection.signed ? 'Signed' : 'Encrypted';
  return protection.order === null ? what : `${what} (${protection.order.replaceAll('-', ' ')})`;
}

/**
 * End-to-end protection: the kind (S/MIME, PGP/MIME, inline PGP), each signature with its signer,
 * whether it verifies and is trusted (or why not), the encryption with its algorithm and
 * recipients and whether Mailwright decrypted it, and the weak choices found. "Re-examine" reads
 * the message again with the keys registered now.
 */
export function ProtectionPanel({
  messageId,
  protection,
  gaveUp,
  onExamined,
}: {
  messageId: string;
  protection: Protection | null;
  gaveUp: boolean;
  onExamined(protection: Protection): void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const reexamine = (): void => {
    setBusy(true);
    setError(null);
    api.reexamineProtection(messageId).then(
      (examined) => {
        setBusy(false);
        onExamined(examined);
      },
      (failure: unknown) => {
        setBusy(false);
        setError(failure instanceof Error ? failure.message : String(failure));
      },
    );
  };
  return (
    <aside className="side-panel protection-panel" id="protection" aria-labelledby="protection-title" data-testid="protection-panel" tabIndex={-1}>
      <div className="panel-heading">
        <h2 id="protection-title">Protection</h2>
        {protection?.status === 'done' && <ProtectionBadge protection={protection} large />}
      </div>
      {protection === null && <p className="muted">This message was not examined for S/MIME or OpenPGP.</p>}
      {protection?.status === 'pending' && (
        <p className="muted" data-testid="protection-pending">
          {gaveUp ? 'Still being examined; reload to look again.' : 'Examining S/MIME and OpenPGP…'}
        </p>
      )}
      {protection?.status === 'done' && (
        <>
          <Facts title="End to end">
            <Fact label="Kind" testId="protection-kind" value={PROTECTION_KIND_NAMES[protection.kind]} />
            <Fact label="Protection" testId="protection-summary" value={describe(protection)} />
            {protection.computedAt && <Fact label="Examined" value={formatFullTime(protection.computedAt)} />}
          </Facts>
          {protection.signatures.length > 0 && (
            <section className="facts">
              <h3>Signature{protection.signatures.length === 1 ? '' : 's'}</h3>
              <ol className="plain-list protection-signatures">
                {protection.signatures.map((signature, index) => (
                  <Signature key={index} signature={signature} index={index} />
                ))}
              </ol>
            </section>
          )}
          {protection.encryption && <Encryption encryption={protection.encryption} />}
          {protection.warnings.length > 0 && (
            <section className="facts">
              <h3>Warnings</h3>
              <ul className="plain-list" data-testid="protection-warnings">
                {protection.warnings.map((warning) => (
                  <li key={warning} className="verdict verdict-bad" data-testid="protection-warning">
                    {warning}
                  </li>
                ))}
              </ul>
            </section>
          )}
          {protection.reason && (
            <p data-testid="protection-reason">
              <strong>Examination stopped:</strong> {protection.reason}
            </p>
          )}
        </>
      )}
      {protection !== null && (
        <div>
          <button
            type="button"
            className="button"
            data-testid="reexamine-protection"
            disabled={busy}
            title="Examine again with the keys registered now"
            onClick={reexamine}
          >
            {busy ? 'Examining…' : 'Re-examine'}
          </button>
          {error && (
            <p className="error-box" role="alert" data-testid="reexamine-error">
              {error}
            </p>
          )}
        </div>
      )}
    </aside>
  );
}

/**
 * A message's end-to-end protection at a glance: a lock for encrypted mail, a seal for signed
 * mail, with the kind. Nothing for unprotected mail or mail still being examined.
 */
export function ProtectionBadge({ protection, large = false }: { protection: Protection | ProtectionSummary; large?: boolean }) {
  if (protection.status !== 'done' || (!protection.encrypted && !protection.signed)) return null;
  const kind = PROTECTION_KIND_NAMES[protection.kind];
  const what = protection.encrypted && protection.signed ? 'signed and encrypted' : protection.encrypted ? 'encrypted' : 'signed';
  const decrypted = 'signatures' in protection ? (protection.encryption?.decrypted ?? false) : protection.decrypted;
  // Only the whole record knows its signatures: a list's summary cannot show one that fails.
  const broken = 'signatures' in protection && protection.signatures.some((signature) => !signature.valid);
  const title = `${kind} ${what}${protection.encrypted ? (decrypted ? ', decrypted by Mailwright' : ', not decrypted') : ''}${
    broken ? ', a signature does not verify' : ''
  }`;
  return (
    <span
      className={`protection-badge${large ? ' protection-badge-large' : ''}${broken ? ' protection-badge-broken' : ''}`}
      data-testid="protection-badge"
      data-kind={protection.kind}
      data-encrypted={protection.encrypted}
      data-signed={protection.signed}
      title={title}
      aria-label={title}
    >
      {protection.encrypted ? <LockClosed /> : <Seal />}
      <span>{kind}</span>
    </span>
  );
}

/** The protection in the message header: a button that brings the Protection panel into view. */
export function ProtectionJump({ protection }: { protection: Protection | null }) {
  if (protection?.status !== 'done' || (!protection.encrypted && !protection.signed)) return null;
  return (
    <button
      type="button"
      className="auth-jump"
      data-testid="protection-jump"
      aria-label="Show the end-to-end protection"
      onClick={() => {
        const panel = document.getElementById('protection');
        panel?.scrollIntoView({ block: 'start' });
        panel?.focus({ preventScroll: true });
      }}
    >
      <ProtectionBadge protection={protection} />
    </button>
  );
}
