import { useEffect, useRef } from 'react';
import type { CapturedMessage } from '@mailwright/core';
import { formatFullTime, formatListTime, formatSize, recipientsOf, senderOf } from '../lib/format';
import { Link, messageHref } from '../router';
import { readState } from '../state/read-state';
import { Paperclip, Trash } from './icons';
import { AuthenticationBadge, type BadgeVerdicts } from './authentication-panel';
import { ProtectionBadge } from './protection-panel';
import { TlsBadge } from './tls-badge';

/** One message in the inbox. */
function MessageRow({ message, selected, onDelete }: { message: CapturedMessage; selected: boolean; onDelete(id: string): void }) {
  const unread = !readState.isRead(message.id);
  const ref = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (selected) ref.current?.scrollIntoView({ block: 'nearest' });
  }, [selected]);
  const attachments = message.attachments.filter((attachment) => !attachment.contentId || attachment.filename);
  // The list carries the verdicts only; a message with nothing to judge (no signature, SPF or DMARC record) gets no badge.
  const verdicts = (message as CapturedMessage & { authentication?: BadgeVerdicts | null }).authentication ?? null;
  const judged = verdicts !== null && [verdicts.dkim, verdicts.spf, verdicts.dmarc].some((verdict) => verdict !== 'none');
  return (
    <li
      ref={ref}
      className={`message-row${unread ? ' unread' : ''}${selected ? ' selected' : ''}`}
      data-testid="message-row"
      data-id={message.id}
      aria-selected={selected}
    >
      <Link href={messageHref(message.id)} className="row-link">
        <span className="unread-dot" aria-label={unread ? 'Unread' : undefined} />
        <span className="row-from" title={message.from ? `${message.from.name} <${message.from.address}>`.trim() : message.envelope.mailFrom}>
          {senderOf(message)}
        </span>
        <span className="row-to" title={message.envelope.rcptTo.join(', ')}>
          <span className="muted">to</span> {recipientsOf(message)}
        </span>
        <span className="row-subject">
          <span className="subject">{message.subject || '(no subject)'}</span>
          {message.snippet && <span className="snippet">— {message.snippet}</span>}
        </span>
        <span className="row-meta">
          {attachments.length > 0 && (
            <span
              className="attachment-marker"
              title={`${attachments.length} attachment${attachments.length === 1 ? '' : 's'}`}
              data-testid="attachment-marker"
            >
              <Paperclip />
              <span className="visually-hidden">{attachments.length} attachments</span>
            </span>
          )}
          {message.protection && <ProtectionBadge protection={message.protection} />}
          {judged && <AuthenticationBadge verdicts={verdicts} />}
          <TlsBadge tls={message.tls} />
          <span className="row-size">{formatSize(message.size)}</span>
          <time className="row-time" dateTime={message.receivedAt} title={formatFullTime(message.receivedAt)}>
            {formatListTime(message.receivedAt)}
          </time>
        </span>
      </Link>
      <button type="button" className="icon-button row-delete" title="Delete" aria-label={`Delete “${message.subject}”`} onClick={() => onDelete(message.id)}>
        <Trash />
      </button>
    </li>
  );
}

/** The inbox list, newest first. */
export function MessageList({ messages, selectedId, onDelete }: { messages: CapturedMessage[]; selectedId: string | null; onDelete(id: string): void }) {
  return (
    <ul className="message-list" aria-label="Messages" data-testid="message-list">
      {messages.map((message) => (
        <MessageRow key={message.id} message={message} selected={message.id === selectedId} onDelete={onDelete} />
      ))}
    </ul>
  );
}
