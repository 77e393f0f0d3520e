import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** The pages of the viewer, parsed from the address. */
export type Route =
  | { page: 'inbox'; query: URLSearchParams }
  | { page: 'message'; id: string; tab: string | null }
  | { page: 'sessions'; query: URLSearchParams }
  | { page: 'session'; id: string }
  | { page: 'not-found' };

const NAVIGATE_EVENT = 'mailwright:navigate';

function parse(): Route {
  const { pathname, search } = location;
  const query = new URLSearchParams(search);
  if (pathname === '/' || pathname === '') return { page: 'inbox', query };
  let match = /^\/messages\/([^/]+)\/?$/.exec(pathname);
  if (match?.[1]) return { page: 'message', id: decodeURIComponent(match[1]), tab: query.get('tab') };
  if (/^\/sessions\/?$/.test(pathname)) return { page: 'sessions', query };
  match = /^\/sessions\/([^/]+)\/?$/.exec(pathname);
  if (match?.[1]) return { page: 'session', id: decodeURIComponent(match[1]) };
  return { page: 'not-found' };
}

let current = { href: '', route: parse() };

function snapshot(): Route {
  if (current.href !== location.href) current = { href: location.href, route: parse() };
  return current.route;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE_EVENT, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE_EVENT, onChange);
  };
}

/** The current route; re-renders on navigation. */
export function useRoute(): Route {
  return useSyncExternalStore(subscribe, snapshot);
}

/** Goes to an address inside the viewer without reloading. */
export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (href === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/** A link inside the viewer: a real `<a href>` (open in a new tab works), navigated in place on a plain click. */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const handleClick = (event: MouseEvent<HTMLAnchorElement>): void => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handleClick} {...rest} />;
}

/** The address of a message page. */
export const messageHref = (id: string, tab?: string): string => `/messages/${encodeURIComponent(id)}${tab ? `?tab=${tab}` : ''}`;

/** The address of a session page. */
export const sessionHref = (id: string): string => `/sessions/${encodeURIComponent(id)}`;
