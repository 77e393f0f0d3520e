import { useCallback, useEffect, useRef, useState } from 'react';
import type { CapturedMessage, MailwrightError, MessageFilter } from '@mailwright/core';
import { api, asApiError } from '../api/client';
import type { MailStream } from '../api/stream';

const PAGE_SIZE = 50;
const MAX_RELOAD = 1000;

/** A live, newest-first list of the messages matching a filter. */
export interface MessageList {
  messages: CapturedMessage[];
  /** How many messages match on the server (the list may hold fewer: see `loadMore`). */
  total: number;
  status: 'loading' | 'ready' | 'error';
  error: MailwrightError | null;
  loadingMore: boolean;
  /** Fetches the next older page. */
  loadMore(): void;
  /** Drops messages from the list right away (their deletion is under way). */
  drop(ids: readonly string[]): void;
}

interface ListState {
  messages: CapturedMessage[];
  total: number;
  status: MessageList['status'];
  error: MailwrightError | null;
}

const INITIAL: ListState = { messages: [], total: 0, status: 'loading', error: null };

/** Inserts by seq, newest first, once. */
function insert(messages: CapturedMessage[], message: CapturedMessage): CapturedMessage[] {
  if (messages.some((existing) => existing.id === message.id)) return messages;
  const index = messages.findIndex((existing) => existing.seq < message.seq);
  return index === -1 ? [...messages, message] : [...messages.slice(0, index), message, ...messages.slice(index)];
}

function without(state: ListState, ids: readonly string[]): ListState {
  const gone = new Set(ids);
  const messages = state.messages.filter((message) => !gone.has(message.id));
  const removed = state.messages.length - messages.length;
  return removed === 0 ? state : { ...state, messages, total: Math.max(messages.length, state.total - removed) };
}

/**
 * The first page comes from REST; the stream then delivers everything newer (subscribing
 * with `since` = the newest seq of that page, so nothing falls in between), and deletions.
 * After a dropped connection the page is reloaded, since deletions are not replayed.
 */
export function useMessageList(stream: MailStream, filter: MessageFilter): MessageList {
  const [state, setState] = useState<ListState>(INITIAL);
  const [loadingMore, setLoadingMore] = useState(false);
  const filterKey = JSON.stringify(filter);
  const latest = useRef(state);
  latest.current = state;

  useEffect(() => {
    const query = JSON.parse(filterKey) as MessageFilter;
    let active = true;
    let subscription: { close(): void } | null = null;
    setState(INITIAL);

    // Messages the stream delivers while a (re)load is on its way, to merge into its result.
    let arrivals: CapturedMessage[] | null = null;

    const load = async (limit: number): Promise<void> => {
      arrivals = [];
      try {
        const page = await api.listMessages(query, { limit });
        if (!active) return;
        const arrived = arrivals;
        setState({
          messages: arrived.reduce(insert, page.messages),
          total: page.total + arrived.filter((m) => !page.messages.some((p) => p.id === m.id)).length,
          status: 'ready',
          error: null,
        });
        subscription ??= stream.subscribe({
          filter: query,
          since: page.messages[0]?.seq ?? 0,
          onMessage(message) {
            arrivals?.push(message);
            setState((previous) =>
              previous.messages.some((m) => m.id === message.id)
                ? previous
                : { ...previous, messages: insert(previous.messages, message), total: previous.total + 1 },
            );
          },
        });
      } catch (error) {
        if (active) setState({ ...INITIAL, status: 'error', error: asApiError(error) });
      } finally {
        arrivals = null;
      }
    };

    void load(PAGE_SIZE);
    const unlisten = stream.listen({
      onDeleted: (ids) => setState((previous) => without(previous, ids)),
      onCleared: () => setState((previous) => ({ ...previous, messages: [], total: 0 })),
      // Mail arrives with its verdicts pending; the row's badge appears when they are done.
      onAuthentication: (id, authentication) =>
        setState((previous) =>
          previous.messages.some((m) => m.id === id)
            ? { ...previous, messages: previous.messages.map((m) => (m.id === id ? { ...m, authentication } : m)) }
            : previous,
        ),
      // Likewise the lock badge, when the protection is examined (or re-examined after a key was registered).
      onProtection: (id, protection) =>
        setState((previous) =>
          previous.messages.some((m) => m.id === id)
            ? { ...previous, messages: previous.messages.map((m) => (m.id === id ? { ...m, protection } : m)) }
            : previous,
        ),
      onReconnected: () => void load(Math.min(MAX_RELOAD, Math.max(PAGE_SIZE, latest.current.messages.length))),
    });
    return () => {
      active = false;
      subscription?.close();
      unlisten();
    };
  }, [stream, filterKey]);

  const loadMore = useCallback(() => {
    const oldest = latest.current.messages.at(-1);
    if (!oldest || loadingMore) return;
    setLoadingMore(true);
    api
      .listMessages(JSON.parse(filterKey) as MessageFilter, { limit: PAGE_SIZE, before: oldest.seq })
      .then((page) => setState((previous) => ({ ...previous, messages: page.messages.reduce(insert, previous.messages) })))
      .catch(() => undefined)
      .finally(() => setLoadingMore(false));
  }, [filterKey, loadingMore]);

  const drop = useCallback((ids: readonly string[]) => setState((previous) => without(previous, ids)), []);

  return { ...state, loadingMore, loadMore, drop };
}
