import { useEffect, useState } from 'react';
import type { CapturedMessage, MessageDetail } from '@mailwright/core';
import { api } from '../api/client';
import { AuthenticationJump, AuthenticationPanel, useSettledAuthentication } from '../components/authentication-panel';
import { DeliveryPanel } from '../components/delivery-panel';
import { Alert } from '../components/delivery';
import { HtmlView } from '../components/html-view';
import { ArrowLeft, ChevronDown, ChevronUp, Download, Trash } from '../components/icons';
import { AttachmentsView, HeadersView, SourceView, TextView } from '../components/message-views';
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

function TabPanel({ tab, message }: { tab: Tab; message: MessageDetail }) {
  switch (tab) {
    case 'html':
      return message.html !== null ? <HtmlView message={message} /> : <p className="muted">This message has no HTML body.</p>;
    case 'text':
      return <TextView message={message} />;
    case 'source':
      return <SourceView message={message} />;
    case 'headers':
      return <HeadersView message={message} />;
    case 'attachments':
      return <AttachmentsView message={message} />;
  }
}

/** One message: its bodies, source, headers and attachments, beside how it was delivered. */
export function MessagePage({ id, tab, inboxHref, previous, next, onDelete, onTitle }: MessagePageProps) {
  const detail = useAsync(`message:${id}`, () => api.getMessage(id));
  const stream = useStream();
  const [deleted, setDeleted] = useState<string | null>(null);
  const message = detail.status === 'ready' ? detail.value : null;
  const { authentication, gaveUp } = useSettledAuthentication(message);
  const current: Tab = message ? ((TABS as readonly string[]).includes(tab ?? '') ? (tab as Tab) : defaultTab(message)) : 'html';

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
                    {name === 'attachments' && message.attachments.length > 0 && <span className="count">{message.attachments.length}</span>}
                  </Link>
                ))}
              </div>
              <div className="tab-panel" role="tabpanel" id="message-tab-panel">
                <TabPanel tab={current} message={message} />
              </div>
            </section>
            <div className="side-panels">
              <DeliveryPanel message={message} />
              <AuthenticationPanel authentication={authentication} gaveUp={gaveUp} />
            </div>
          </div>
        </>
      )}
    </article>
  );
}
