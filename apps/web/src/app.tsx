import { useCallback, useEffect, useMemo, useState } from 'react';
import { isMailwrightError, type MessageFilter } from '@mailwright/core';
import { api, apiToken } from './api/client';
import { ShortcutsDialog } from './components/modal';
import { TokenForm } from './components/token-form';
import { TopBar } from './components/top-bar';
import { showUnread } from './lib/favicon';
import { isForeignKeyPress } from './lib/keyboard';
import { filterFromQuery, inboxHref } from './lib/search-query';
import { InboxPage } from './pages/inbox-page';
import { MessagePage } from './pages/message-page';
import { SessionPage } from './pages/session-page';
import { SessionsPage } from './pages/sessions-page';
import { messageHref, navigate, useRoute } from './router';
import { useStream } from './state/stream-context';
import { useMessageList } from './state/use-message-list';
import { useUnreadCount } from './state/use-unread-count';

const NOTICE_MS = 5_000;

/** The viewer: routes, the live inbox list shared by the inbox and message pages, and the keyboard. */
export function App() {
  const stream = useStream();
  const route = useRoute();

  // The inbox keeps its search while a message is open, so j/k walk the same list.
  const routeInbox = route.page === 'inbox' ? inboxHref(filterFromQuery(route.query)) : null;
  const [inboxLocation, setInboxLocation] = useState(routeInbox ?? '/');
  if (routeInbox !== null && routeInbox !== inboxLocation) setInboxLocation(routeInbox);
  const filter = useMemo(() => filterFromQuery(new URLSearchParams(inboxLocation.slice(1))), [inboxLocation]);

  const list = useMessageList(stream, filter);
  const unread = useUnreadCount(stream);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [shortcutsOpen, setShortcutsOpen] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [messageTitle, setMessageTitle] = useState({ id: '', title: '' });

  const currentId = route.page === 'message' ? route.id : selectedId;
  const index = list.messages.findIndex((message) => message.id === currentId);
  const previous = index > 0 ? (list.messages[index - 1] ?? null) : null;
  const next = index >= 0 ? (list.messages[index + 1] ?? null) : null;

  useEffect(() => {
    if (route.page === 'message') setSelectedId(route.id);
  }, [route]);

  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setNotice(null), NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice]);

  const pageTitle =
    route.page === 'message'
      ? messageTitle.id === route.id
        ? messageTitle.title
        : 'Message'
      : route.page === 'sessions' || route.page === 'session'
        ? 'Sessions'
        : 'Inbox';
  useEffect(() => showUnread(unread, `${pageTitle} — Mailwright`), [unread, pageTitle]);

  const showMessageTitle = useCallback(
    (id: string, title: string) => setMessageTitle((previous) => (previous.id === id && previous.title === title ? previous : { id, title })),
    [],
  );

  const changeFilter = useCallback((next: MessageFilter) => navigate(inboxHref(next), { replace: true }), []);

  const deleteMessage = useCallback(
    (id: string) => {
      const at = list.messages.findIndex((message) => message.id === id);
      const successor = at === -1 ? null : (list.messages[at + 1] ?? list.messages[at - 1] ?? null);
      list.drop([id]);
      setSelectedId((selected) => (selected === id || selected === null ? (successor?.id ?? null) : selected));
      if (route.page === 'message' && route.id === id) navigate(successor ? messageHref(successor.id) : inboxLocation, { replace: true });
      api.deleteMessage(id).catch((error: unknown) => {
        if (!(isMailwrightError(error) && error.statusCode === 404))
          setNotice(`The message could not be deleted: ${error instanceof Error ? error.message : String(error)}`);
      });
    },
    [list, route, inboxLocation],
  );

  const clearInbox = useCallback(async () => {
    try {
      // Every loaded message matches the filter: the list shows nothing else.
      await api.deleteMessages(filter);
      list.drop(list.messages.map((message) => message.id));
      setSelectedId(null);
    } catch (error) {
      setNotice(`The messages could not be deleted: ${error instanceof Error ? error.message : String(error)}`);
    }
  }, [list, filter]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === '?' && !isForeignKeyPress(event)) {
        event.preventDefault();
        setShortcutsOpen(true);
        return;
      }
      if (isForeignKeyPress(event)) return;
      const inInbox = route.page === 'inbox';
      const inMessage = route.page === 'message';
      const move = (step: 1 | -1): void => {
        const messages = list.messages;
        if (messages.length === 0) return;
        const from = messages.findIndex((message) => message.id === currentId);
        const target = from === -1 ? messages[0] : messages[Math.min(messages.length - 1, Math.max(0, from + step))];
        if (!target) return;
        if (inMessage) navigate(messageHref(target.id), { replace: true });
        else setSelectedId(target.id);
      };
      const key = event.key;
      let handled = true;
      if ((key === 'j' || (inInbox && key === 'ArrowDown')) && (inInbox || inMessage)) move(1);
      else if ((key === 'k' || (inInbox && key === 'ArrowUp')) && (inInbox || inMessage)) move(-1);
      else if ((key === 'Enter' || key === 'o') && inInbox && currentId && !(event.target instanceof HTMLElement && event.target.closest('a, button')))
        navigate(messageHref(currentId));
      else if ((key === 'Delete' || key === '#') && (inInbox || inMessage) && currentId) deleteMessage(currentId);
      else if ((key === 'Escape' || key === 'u') && inMessage) navigate(inboxLocation);
      else if ((key === 'Escape' || key === 'u') && route.page === 'session') navigate('/sessions');
      else if (key === '/') {
        if (!inInbox) navigate(inboxLocation);
        requestAnimationFrame(() => document.getElementById('search')?.focus());
      } else handled = false;
      if (handled) event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [route, list.messages, currentId, inboxLocation, deleteMessage]);

  let page;
  if (list.error?.statusCode === 401) return <TokenForm rejected={apiToken() !== null} />;
  switch (route.page) {
    case 'inbox':
      page = <InboxPage list={list} filter={filter} selectedId={selectedId} onFilterChange={changeFilter} onDelete={deleteMessage} onClear={clearInbox} />;
      break;
    case 'message':
      page = (
        <MessagePage
          id={route.id}
          tab={route.tab}
          inboxHref={inboxLocation}
          previous={previous}
          next={next}
          onDelete={deleteMessage}
          onTitle={showMessageTitle}
        />
      );
      break;
    case 'sessions':
      page = <SessionsPage query={route.query} />;
      break;
    case 'session':
      page = <SessionPage id={route.id} />;
      break;
    default:
      page = <p className="empty">There is no page here.</p>;
  }

  return (
    <div className="app">
      <TopBar route={route} unread={unread} onShowShortcuts={() => setShortcutsOpen(true)} />
      <main className="main">{page}</main>
      {notice && (
        <div className="notice" role="status">
          {notice}
        </div>
      )}
      <ShortcutsDialog open={shortcutsOpen} onClose={() => setShortcutsOpen(false)} />
    </div>
  );
}
