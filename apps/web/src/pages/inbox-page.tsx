import { useEffect, useState } from 'react';
import type { MessageFilter, ServerInfo } from '@mailwright/core';
import { api } from '../api/client';
import { ConfirmDialog } from '../components/modal';
import { MessageList } from '../components/message-list';
import { SearchBar } from '../components/search-bar';
import { hasCriteria } from '../lib/search-query';
import { readState } from '../state/read-state';
import type { MessageList as MessageListState } from '../state/use-message-list';

interface InboxPageProps {
  list: MessageListState;
  filter: MessageFilter;
  selectedId: string | null;
  onFilterChange(filter: MessageFilter): void;
  onDelete(id: string): void;
  /** Deletes the messages matching the filter, every message when it has no criteria. */
  onClear(): Promise<void>;
}

/** Where to send mail, for an empty inbox. */
function EmptyInbox({ filtered }: { filtered: boolean }) {
  const [info, setInfo] = useState<ServerInfo | null>(null);
  useEffect(() => {
    if (!filtered) api.info().then(setInfo, () => undefined);
  }, [filtered]);
  if (filtered)
    return (
      <p className="empty" data-testid="no-match">
        No message matches this search.
      </p>
    );
  return (
    <div className="empty" data-testid="empty-inbox">
      <p>No mail yet. New messages appear here as they arrive.</p>
      {info && (
        <ul className="listener-hints">
          {info.listeners.map((listener) => (
            <li key={listener.name}>
              <code>
                {listener.host}:{listener.port}
              </code>{' '}
              — {listener.name}, {listener.tls === 'implicit' ? 'implicit TLS' : listener.tls === 'starttls' ? 'STARTTLS offered' : 'plaintext'}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The inbox: search, the live list, and clearing it (or what the search matches). */
export function InboxPage({ list, filter, selectedId, onFilterChange, onDelete, onClear }: InboxPageProps) {
  const [confirming, setConfirming] = useState(false);
  const filtered = hasCriteria(filter);
  const unreadShown = list.messages.filter((message) => !readState.isRead(message.id));
  return (
    <div className="inbox-page">
      <div className="toolbar">
        <SearchBar filter={filter} onChange={onFilterChange} />
        <div className="toolbar-actions">
          <span className="total" data-testid="message-total">
            {list.status === 'ready' ? `${list.total} ${filtered ? 'matching' : list.total === 1 ? 'message' : 'messages'}` : ''}
          </span>
          <button
            type="button"
            className="button"
            disabled={unreadShown.length === 0}
            onClick={() => readState.markRead(...unreadShown.map((message) => message.id))}
          >
            Mark all read
          </button>
          <button
            type="button"
            className="button button-danger"
            data-testid="clear-inbox"
            disabled={list.status !== 'ready' || list.total === 0}
            onClick={() => setConfirming(true)}
          >
            {filtered ? 'Delete matching' : 'Clear inbox'}
          </button>
        </div>
      </div>
      {list.status === 'error' && (
        <p className="error-box" role="alert">
          {list.error?.message ?? 'The messages could not be loaded.'}
        </p>
      )}
      {list.status === 'loading' && <p className="empty">Loading…</p>}
      {list.status === 'ready' && list.messages.length === 0 && <EmptyInbox filtered={filtered} />}
      {list.messages.length > 0 && <MessageList messages={list.messages} selectedId={selectedId} onDelete={onDelete} />}
      {list.status === 'ready' && list.messages.length < list.total && (
        <div className="load-more">
          <button type="button" className="button" onClick={list.loadMore} disabled={list.loadingMore}>
            {list.loadingMore ? 'Loading…' : `Load older messages (${list.total - list.messages.length} more)`}
          </button>
        </div>
      )}
      <ConfirmDialog
        open={confirming}
        title={filtered ? 'Delete the matching messages?' : 'Clear the inbox?'}
        message={
          filtered
            ? `The ${list.total === 1 ? 'message' : `${list.total} messages`} matching the search will be deleted; the others are kept. This cannot be undone.`
            : 'Every captured message on this server will be deleted. This cannot be undone.'
        }
        confirmLabel={filtered ? 'Delete matching messages' : 'Delete all messages'}
        onCancel={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          void onClear();
        }}
      />
    </div>
  );
}
