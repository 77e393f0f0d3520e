import { useEffect, useState } from 'react';
import type { CapturedMessage, MessageDetail } from '@mailwright/core';
import { api } from '../api/client';
import { AuthenticationJump, AuthenticationPanel, useSettledAuthentication } from '../components/authentication-panel';
import { DeliveryPanel } from '../components/delivery-panel';
import { Alert } from '../components/delivery';
import { HtmlView } from '../components/html-view';
import { ArrowLeft, ChevronDown, ChevronUp, Download, LockOpen, Trash } from '../components/icons';
import { AttachmentsView, HeadersView, SourceView, TextView } from '../components/message-views';
import { ProtectionJump, ProtectionPanel, useSettledProtection } from '../components/protection-panel';
import { TlsBadge } from '../components/tls-badge';
import { formatAddress, formatFullTime, formatSize } from '../lib/format';
import { isForeignKeyPress } from '../lib/keyboard';
import { Link, messageHref, navigate } from '../router';
import { readState } from '../state/read-state';
import { useStream } from '../state/stream-context';
import { useAsync } from '../state/use-async';

const TABS = ['html', 'text', 'source', 'headers', 'attachments'] as const;
type Tab = (typeof TABS)[number];
const TAB_NAMES: Record<Tab, string> = { html: 'HTML', text: 'Text', source: 'Source', headers: 'Headers', attachments: 'Attachments' };

interface MessagePageProps {
  id: string;
  tab: string | null;
  inboxHref: string;
  previous: CapturedMessage | null;
  next: CapturedMessage | null;
  onDelete(id: string): void;
  /** Reports the page title (the subject). */
  onTitle(id: string, title: string): void;
}

function defaultTab(message: MessageDetail): Tab {
  return message.html !== null ? 'html' : 'text';
}

/** Labelled rows; empty values are left out. */
function HeaderRows({ rows }: { rows: [string, string | null][] }) {
  return (
    <dl className="header-rows">
      {rows
        .filter(([, value]) => value)
        .map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd data-testid={`header-${label.toLowerCase()}`}>{value}</dd>
          </div>
        ))}
    </dl>
  );
}

/** The addresses and dates of a message. */
function MessageHeader({ message }: { message: MessageDetail }) {
  return (
    <div className="message-addresses">
      <HeaderRows
        rows={[
          ['From', message.from ? formatAddress(message.from) : message.envelope.mailFrom],
          ['To', message.to.map(formatAddress).join(', ') || null],
          ['Cc', message.cc.map(formatAddress).join(', ') || null],
          ['Reply-To', message.replyTo.map(formatAddress).join(', ') || null],
        ]}
      />
      <HeaderRows
        rows={[
          ['Date', message.date ? formatFullTime(message.date) : null],
          ['Received', formatFullTime(message.receivedAt)],
          ['Size', formatSize(message.size)],
        ]}
      />
    </div>
  );
}

/** `shown` is what the views show (the decrypted message, or the message as received); Source is always the bytes received. */
function TabPanel({ tab, message, shown }: { tab: Tab; message: MessageDetail; shown: MessageDetail }) {
  switch (tab) {
    case 'html':
      return shown.html !== null ? <HtmlView message={shown} /> : <p className="muted">This message has no HTML body.</p>;
    case 'text':
      return <TextView message={shown} />;
    case 'source':
      return <SourceView message={message} />;
    case 'headers':
      return <HeadersView message={shown} />;
    case 'attachments':
      return <AttachmentsView message={shown} />;
  }
}

/**
 * The decrypted message, once a registered key decrypted it (read again after each examination),
 * and whether it is shown in place of the message as received.
 */
function useDecrypted(id: string, examinedAt: string | null, decrypted: boolean): MessageDetail | null {
  const state = useAsync(`decrypted:${id}:${decrypted ? (examinedAt ?? '') : 'none'}`, () => (decrypted ? api.getDecrypted(id) : Promise.resolve(null)));
  return state.status === 'ready' ? state.value : null;
}

/** The marker over a decrypted message: what is shown is Mailwright's decryption, not what was received. */
function DecryptedMarker({ showing, onToggle }: { showing: boolean; onToggle(): void }) {
  return (
    <div className={`decrypted-marker${showing ? '' : ' decrypted-marker-off'}`} data-testid="decrypted-marker" data-showing={showing}>
      <LockOpen />
      <span>
        {showing ? (
          <>
            <strong>Decrypted by Mailwright</strong> with a registered key. The message as received is encrypted; Source and the .eml download are the bytes
            received.
          </>
        ) : (
          <>This message is encrypted; Mailwright decrypted it with a registered key.</>
        )}
      </span>
      <button type="button" className="button" data-testid="toggle-decrypted" onClick={onToggle}>
        {showing ? 'Show as received' : 'Show decrypted'}
      </button>
    </div>
  );
}

/** One message: its bodies, source, headers and attachments, beside how it was delivered. */
export function MessagePage({ id, tab, inboxHref, previous, next, onDelete, onTitle }: MessagePageProps) {
  const detail = useAsync(`message:${id}`, () => api.getMessage(id));
  const stream = useStream();
  const [deleted, setDeleted] = useState<string | null>(null);
  const message = detail.status === 'ready' ? detail.value : null;
  const { authentication, gaveUp } = useSettledAuthentication(message);
  const settledProtection = useSettledProtection(message);
  const { protection } = settledProtection;
  const decrypted = useDecrypted(id, protection?.computedAt ?? null, protection?.status === 'done' && (protection.encryption?.decrypted ?? false));
  // Which message is shown as received instead of decrypted (by the marker's toggle).
  const [receivedFor, setReceivedFor] = useState<string | null>(null);
  const showReceived = receivedFor === id;
  const shown = decrypted !== null && !showReceived ? decrypted : message;
  const current: Tab = shown ? ((TABS as readonly string[]).includes(tab ?? '') ? (tab as Tab) : defaultTab(shown)) : 'html';

  useEffect(() => {
    if (message) readState.markRead(message.id);
  }, [message]);

  useEffect(
    () =>
      stream.listen({
        onDeleted: (ids) => ids.includes(id) && setDeleted(id),
        onCleared: () => setDeleted(id),
      }),
    [stream, id],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (isForeignKeyPress(event) || !message) return;
      const index = Number(event.key) - 1;
      const target = TABS[index];
      if (target) {
        event.preventDefault();
        navigate(messageHref(id, target), { replace: true });
      } else if (event.key === 'd') {
        event.preventDefault();
        const panel = document.getElementById('delivery');
        panel?.scrollIntoView({ block: 'start' });
        panel?.focus({ preventScroll: true });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [id, message]);

  useEffect(() => {
    if (message) onTitle(message.id, message.subject || '(no subject)');
  }, [message, onTitle]);

  const title = message?.subject || '(no subject)';
  return (
    <article className="message-page" data-testid="message-page">
      <div className="message-nav">
        <Link href={inboxHref} className="button button-quiet">
          <ArrowLeft /> Inbox
        </Link>
        <span className="spacer" />
        <Link
          href={previous ? messageHref(previous.id) : '#'}
          className="icon-button"
          aria-disabled={!previous}
          aria-label="Newer message (k)"
          title="Newer message (k)"
          onClick={(event) => !previous && event.preventDefault()}
        >
          <ChevronUp />
        </Link>
        <Link
          href={next ? messageHref(next.id) : '#'}
          className="icon-button"
          aria-disabled={!next}
          aria-label="Older message (j)"
          title="Older message (j)"
          onClick={(event) => !next && event.preventDefault()}
        >
          <ChevronDown />
        </Link>
        {message && (
          <a className="icon-button" href={api.rawUrl(message.id, true)} download title="Download .eml" aria-label="Download .eml">
            <Download />
          </a>
        )}
        <button type="button" className="button button-danger" data-testid="delete-message" disabled={!message || deleted === id} onClick={() => onDelete(id)}>
          <Trash /> Delete
        </button>
      </div>

      {detail.status === 'loading' && <p className="empty">Loading…</p>}
      {detail.status === 'error' && (
        <p className="error-box" role="alert">
          {detail.error.statusCode === 404 ? 'This message does not exist (any more).' : detail.error.message}
        </p>
      )}
      {deleted === id && (
        <p className="error-box" role="status" data-testid="message-deleted">
          This message was deleted.
        </p>
      )}

      {message && (
        <>
          <header className="message-header">
            <div className="message-title">
              <h1 data-testid="message-subject">{title}</h1>
              <TlsBadge tls={message.tls} />
              <AuthenticationJump authentication={authentication} />
              <ProtectionJump protection={protection} />
            </div>
            <MessageHeader message={message} />
          </header>
          {(message.parseError !== null || message.truncated.length > 0) && (
            <Alert testId="parse-notice">
              {message.parseError !== null ? <strong>{message.parseError}</strong> : <strong>Part of this message is not shown in full.</strong>}
              <ul>
                {message.truncated.map((cut) => (
                  <li key={cut.part}>
                    {cut.part}: {cut.reason}
                  </li>
                ))}
              </ul>
              The Source tab and the .eml download have the complete message.
            </Alert>
          )}
          {decrypted !== null && <DecryptedMarker showing={!showReceived} onToggle={() => setReceivedFor(showReceived ? null : id)} />}
          <div className="message-layout">
            <section className="message-content">
              <div className="tabs" role="tablist" aria-label="Message views">
                {TABS.map((name, index) => (
                  <Link
                    key={name}
                    role="tab"
                    href={messageHref(id, name)}
                    aria-selected={current === name}
                    aria-controls="message-tab-panel"
                    className="tab"
                    data-testid={`tab-${name}`}
                    title={`${TAB_NAMES[name]} (${index + 1})`}
                    onClick={(event) => {
                      event.preventDefault();
                      navigate(messageHref(id, name), { replace: true });
                    }}
                  >
                    {TAB_NAMES[name]}
                    {name === 'attachments' && (shown ?? message).attachments.length > 0 && (
                      <span className="count">{(shown ?? message).attachments.length}</span>
                    )}
                  </Link>
                ))}
              </div>
              <div className="tab-panel" role="tabpanel" id="message-tab-panel">
                <TabPanel tab={current} message={message} shown={shown ?? message} />
              </div>
            </section>
            <div className="side-panels">
              <DeliveryPanel message={message} />
              <AuthenticationPanel authentication={authentication} gaveUp={gaveUp} />
              <ProtectionPanel messageId={message.id} protection={protection} gaveUp={settledProtection.gaveUp} onExamined={settledProtection.replace} />
            </div>
          </div>
        </>
      )}
    </article>
  );
}
