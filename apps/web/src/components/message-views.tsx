import type { ReactNode } from 'react';
import type { MessageDetail } from '@mailwright/core';
import { api } from '../api/client';
import { formatSize } from '../lib/format';
import { useAsync } from '../state/use-async';
import { Download } from './icons';

/** The message is the decrypted view (`?view=decrypted`): its attachments are read from there too. */
export function isDecryptedView(message: MessageDetail): boolean {
  return message.view === 'decrypted';
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"')\]]+/g;

/** Text with its http(s) addresses as links that open in a new tab. */
function Linkified({ text }: { text: string }) {
  const parts: ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const index = match.index;
    parts.push(text.slice(last, index));
    parts.push(
      <a key={index} href={match[0]} target="_blank" rel="noopener noreferrer">
        {match[0]}
      </a>,
    );
    last = index + match[0].length;
  }
  parts.push(text.slice(last));
  return <>{parts}</>;
}

/** The plain-text body. */
export function TextView({ message }: { message: MessageDetail }) {
  if (message.text === null) return <p className="muted">This message has no text body.</p>;
  return (
    <pre className="body-text" data-testid="text-body">
      <Linkified text={message.text} />
    </pre>
  );
}

/** The message exactly as received. */
export function SourceView({ message }: { message: MessageDetail }) {
  const raw = useAsync(`raw:${message.id}`, () => api.getRaw(message.id));
  return (
    <div className="source-view">
      <div className="view-actions">
        <a className="button" href={api.rawUrl(message.id, true)} download>
          <Download /> Download .eml
        </a>
      </div>
      {raw.status === 'loading' && <p className="muted">Loading…</p>}
      {raw.status === 'error' && <p className="error-box">{raw.error.message}</p>}
      {raw.status === 'ready' && (
        <pre className="source" data-testid="raw-source">
          {raw.value}
        </pre>
      )}
    </div>
  );
}

/** Every header, in order, each value on its own row. */
export function HeadersView({ message }: { message: MessageDetail }) {
  const rows = Object.entries(message.headers).flatMap(([name, values]) => values.map((value, index) => ({ name, value, key: `${name}:${index}` })));
  return (
    <table className="headers" data-testid="headers">
      <tbody>
        {rows.map((row) => (
          <tr key={row.key}>
            <th scope="row">{row.name}</th>
            <td>{row.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Attachments and inline parts, each downloadable. */
export function AttachmentsView({ message }: { message: MessageDetail }) {
  if (message.attachments.length === 0) return <p className="muted">This message has no attachments.</p>;
  return (
    <ul className="attachments" data-testid="attachments">
      {message.attachments.map((attachment) => {
        // Shown as the sender named it; saved under the name the server made safe (no path, no control characters).
        const name = attachment.filename ?? attachment.safeFilename;
        return (
          <li key={attachment.partId}>
            <a
              className="attachment"
              href={api.attachmentUrl(message.id, attachment.partId, isDecryptedView(message))}
              download={attachment.safeFilename}
              data-testid="attachment-link"
            >
              <Download />
              <span className="attachment-name">{name}</span>
              <span className="muted">
                {attachment.contentType} · {formatSize(attachment.size)}
                {attachment.contentId ? ' · inline' : ''}
              </span>
            </a>
          </li>
        );
      })}
    </ul>
  );
}
