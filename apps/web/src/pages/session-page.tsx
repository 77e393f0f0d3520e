import { api } from '../api/client';
import { AuthFacts, ConnectionFacts, DeliveryWarnings, FaultFacts, TlsFacts } from '../components/delivery';
import { ArrowLeft } from '../components/icons';
import { TlsBadge } from '../components/tls-badge';
import { Transcript } from '../components/transcript';
import { Link, messageHref } from '../router';
import { useAsync } from '../state/use-async';

/** One SMTP session: its TLS, AUTH, error, messages and transcript. */
export function SessionPage({ id }: { id: string }) {
  const state = useAsync(`session:${id}`, () => api.getSession(id));
  return (
    <article className="session-page" data-testid="session-page">
      <div className="message-nav">
        <Link href="/sessions" className="button button-quiet">
          <ArrowLeft /> Sessions
        </Link>
      </div>
      {state.status === 'loading' && <p className="empty">Loading…</p>}
      {state.status === 'error' && (
        <p className="error-box" role="alert">
          {state.error.statusCode === 404 ? 'This session is no longer kept.' : state.error.message}
        </p>
      )}
      {state.status === 'ready' && (
        <div className="session-layout">
          <div className="message-title">
            <h1>
              Session <code>{state.value.id}</code>
            </h1>
            {!state.value.error && <TlsBadge tls={state.value.tls} />}
          </div>
          <DeliveryWarnings tls={state.value.tls} session={state.value} />
          <div className="session-columns">
            <div>
              <ConnectionFacts session={state.value} listener={state.value.listener} />
              <FaultFacts session={state.value} />
              <TlsFacts tls={state.value.tls} handshakeFailed={state.value.error?.stage === 'tls'} />
              <AuthFacts auth={state.value.auth} authBeforeTls={state.value.authBeforeTls} />
              <section className="facts">
                <h3>Messages</h3>
                {state.value.messageIds.length === 0 ? (
                  <p className="muted">This session carried no mail.</p>
                ) : (
                  <ul className="plain-list">
                    {state.value.messageIds.map((messageId) => (
                      <li key={messageId}>
                        <Link href={messageHref(messageId)} className="mono">
                          {messageId}
                        </Link>
                      </li>
                    ))}
                  </ul>
                )}
              </section>
            </div>
            <section className="facts">
              <h3>SMTP transcript</h3>
              <Transcript transcript={state.value.transcript} tls={state.value.tls} />
            </section>
          </div>
        </div>
      )}
    </article>
  );
}
