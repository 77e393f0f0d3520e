const ACCENT = '#2563eb';
const BADGE = '#dc2626';

/** The favicon: an envelope, with the unread count on a badge when there is unread mail. */
export function faviconSvg(unread: number): string {
  const text = unread > 99 ? '99+' : String(unread);
  const badge =
    unread > 0
      ? `<circle cx="23" cy="9" r="9" fill="${BADGE}"/><text x="23" y="13" font-family="system-ui,sans-serif" font-size="${text.length > 2 ? 8 : 11}" font-weight="700" text-anchor="middle" fill="#fff">${text}</text>`
      : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="1" y="7" width="26" height="20" rx="4" fill="${ACCENT}"/><path d="m3 10 11 8 11-8" fill="none" stroke="#fff" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"/>${badge}</svg>`;
}

/** Shows the unread count in the tab: the title's `(3)` prefix and the favicon badge. */
export function showUnread(unread: number, title: string): void {
  document.title = unread > 0 ? `(${unread}) ${title}` : title;
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) {
    link = document.createElement('link');
    link.rel = 'icon';
    document.head.append(link);
  }
  link.type = 'image/svg+xml';
  link.href = `data:image/svg+xml,${encodeURIComponent(faviconSvg(unread))}`;
}
