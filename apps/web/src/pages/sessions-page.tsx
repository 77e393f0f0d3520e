import { useEffect, useState } from 'react';
import type { MailwrightError, SmtpSession } from '@mailwright/core';
import { api, asApiError } from '../api/client';
import { TlsBadge } from '../components/tls-badge';
import { formatFullTime, formatListTime } from '../lib/format';
import { Link, navigate, sessionHref } from '../router';
import { useStream } from '../state/stream-context';

const SESSION_LIMIT = 200;

/** Newest first, each session once (a session frame replaces the earlier state of that session). */
function upsert(sessions: SmtpSession[], session: SmtpSession): SmtpSession[] {
  const rest = sessions.filter((existing) => existing.id !== session.id);
  return [session, ...rest].sort((a, b) => (a.openedAt < b.openedAt ? 1 : a.openedAt > b.openedAt ? -1 : 0)).slice(0, SESSION_LIMIT);
}

/** The sessions from REST, then kept current by `session` frames of the stream. */
function useSessions(): { sessions: SmtpSession[]; error: MailwrightError | null; loading: boolean } {
  const stream = useStream();
  const [sessions, setSessions] = useState<SmtpSession[]>([]);
  const [error, setError] = useState<MailwrightError | null>(null);
  const [loading, setLoading] = useState(true);
  useEffect(() => {
    let active = true;
    const subscription = stream.subscribe({ events: ['session'], onSession: (session) => setSessions((previous) => upsert(previous, session)) });
    const load = (): void => {
      api.listSessions(SESSION_LIMIT).then(
        (page) => {
          if (!active) return;
          setSessions((previous) => previous.reduce(upsert, page.sessions));
          setLoading(false);
        },
        (cause: unknown) => {
          if (!active) return;
          setError(asApiError(cause));
          setLoading(false);
        },
      );
    };
    load();
    const unlisten = stream.listen({ onReconnected: load });
    return () => {
      active = false;
      subscription.close();
      unlisten();
    };
  }, [stream]);
  return { sessions, error, loading };
}

function SessionStatus({ session }: { session: SmtpSession }) {
  if (session.error) {
    return (
      <span className="bad" title={session.error.message}>
        {session.error.stage === 'tls' ? 'TLS failed' : session.error.stage === 'smtp' ? 'SMTP error' : 'Socket error'}: <code>{session.error.code}</code>
      </span>
    );
  }
  if (!session.closedAt) return <span className="muted">open</span>;
  return <span className="ok">ok</span>;
}

/** Every SMTP connection, including failed handshakes and sessions that carried no mail. */
export function SessionsPage({ query }: { query: URLSearchParams }) {
  const { sessions, error, loading } = useSessions();
  const onlyWithoutMail = query.get('mail') === 'none';
  const shown = onlyWithoutMail ? sessions.filter((session) => session.messageIds.length === 0) : sessions;
  return (
    <div className="sessions-page">
      <div className="toolbar">
        <h1>SMTP sessions</h1>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={onlyWithoutMail}
            onChange={(event) => navigate(event.target.checked ? '/sessions?mail=none' : '/sessions', { replace: true })}
          />
          Only sessions without mail
        </label>
      </div>
      {error && (
        <p className="error-box" role="alert">
          {error.message}
        </p>
      )}
      {loading && <p className="empty">Loading…</p>}
      {!loading && shown.length === 0 && !error && <p className="empty">No sessions{onlyWithoutMail ? ' without mail' : ''} yet.</p>}
      {shown.length > 0 && (
        <div className="table-scroll">
          <table className="sessions" data-testid="sessions-table">
            <thead>
              <tr>
                <th scope="col">Opened</th>
                <th scope="col">Listener</th>
                <th scope="col">Client</th>
                <th scope="col">Delivery</th>
                <th scope="col">AUTH</th>
                <th scope="col">Mail</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((session) => (
                <tr key={session.id} data-testid="session-row" data-id={session.id} className={session.error ? 'failed' : undefined}>
                  <td>
                    <Link href={sessionHref(session.id)} title={formatFullTime(session.openedAt)}>
                      {formatListTime(session.openedAt)}
                    </Link>
                  </td>
                  <td>
                    {session.listener} <span className="muted">:{session.localPort}</span>
                  </td>
                  <td className="mono">
                    {session.remoteAddress}
                    {session.clientName && <div className="muted">{session.clientName}</div>}
                  </td>
                  <td>{session.error?.stage === 'tls' ? <span className="muted">no TLS session</span> : <TlsBadge tls={session.tls} />}</td>
                  <td>
                    {session.auth ? <span className="mono">{session.auth.username}</span> : <span className="muted">—</span>}
                    {session.authBeforeTls && <div className="bad">before TLS</div>}
                  </td>
                  <td>{session.messageIds.length}</td>
                  <td data-testid="session-result">
                    <SessionStatus session={session} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
