import { Link, type Route } from '../router';
import { useStreamStatus } from '../state/stream-context';
import { useTheme } from '../state/theme';
import { Envelope, Keyboard, Monitor, Moon, Sun } from './icons';

const STATUS_TEXT = { live: 'Live', connecting: 'Connecting…', offline: 'Reconnecting…' } as const;
const THEME_TEXT = { system: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' } as const;

/** The bar across the top: where you are, whether updates are live, theme and shortcuts. */
export function TopBar({ route, unread, onShowShortcuts }: { route: Route; unread: number; onShowShortcuts(): void }) {
  const status = useStreamStatus();
  const [theme, cycleTheme] = useTheme();
  const inInbox = route.page === 'inbox' || route.page === 'message';
  const inSessions = route.page === 'sessions' || route.page === 'session';
  return (
    <header className="top-bar">
      <Link href="/" className="brand" aria-label="Mailwright inbox">
        <Envelope width={20} height={20} />
        <span>Mailwright</span>
      </Link>
      <nav className="top-nav" aria-label="Sections">
        <Link href="/" aria-current={inInbox ? 'page' : undefined}>
          Inbox
          {unread > 0 && (
            <span className="count" data-testid="unread-count" aria-label={`${unread} unread`}>
              {unread}
            </span>
          )}
        </Link>
        <Link href="/sessions" aria-current={inSessions ? 'page' : undefined}>
          Sessions
        </Link>
      </nav>
      <div className="top-actions">
        <span
          className={`stream-status stream-${status}`}
          data-testid="stream-status"
          role="status"
          title={status === 'live' ? 'New mail appears as it arrives' : 'Waiting for the server'}
        >
          <span className="dot" aria-hidden="true" />
          {STATUS_TEXT[status]}
        </span>
        <button type="button" className="icon-button" onClick={onShowShortcuts} title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts">
          <Keyboard />
        </button>
        <button type="button" className="icon-button" onClick={cycleTheme} title={THEME_TEXT[theme]} aria-label={THEME_TEXT[theme]} data-testid="theme-toggle">
          {theme === 'system' ? <Monitor /> : theme === 'light' ? <Sun /> : <Moon />}
        </button>
      </div>
    </header>
  );
}
