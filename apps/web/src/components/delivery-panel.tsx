import type { CapturedMessage } from '@mailwright/core';
import { api } from '../api/client';
import { Link, sessionHref } from '../router';
import { useAsync } from '../state/use-async';
import { AuthFacts, ConnectionFacts, DeliveryWarnings, EnvelopeFacts, FaultFacts, TlsFacts } from './delivery';
import { TlsBadge } from './tls-badge';
import { Transcript } from './transcript';

/** How a message was delivered: TLS, AUTH, envelope and the SMTP dialogue that carried it. */
export function DeliveryPanel({ message }: { message: CapturedMessage }) {
  const session = useAsync(`session:${message.id}`, () => api.getMessageSession(message.id));
  const loaded = session.status === 'ready' ? session.value : null;
  return (
    <aside className="delivery-panel" id="delivery" aria-labelledby="delivery-title" data-testid="delivery-panel" tabIndex={-1}>
      <div className="panel-heading">
        <h2 id="delivery-title">Delivery</h2>
        <TlsBadge tls={message.tls} large />
      </div>
      <DeliveryWarnings tls={message.tls} session={loaded} />
      <TlsFacts tls={message.tls} />
      <AuthFacts auth={message.auth} authBeforeTls={loaded?.authBeforeTls} />
      <EnvelopeFacts envelope={message.envelope} />
      <ConnectionFacts session={loaded} listener={message.listener} />
      <FaultFacts session={loaded} />
      <section className="facts">
        <h3>
          SMTP transcript
          {loaded && (
            <Link href={sessionHref(loaded.id)} className="heading-link">
              session
            </Link>
          )}
        </h3>
        {session.status === 'loading' && <p className="muted">Loading…</p>}
        {session.status === 'error' && (
          <p className="muted">{session.error.statusCode === 404 ? 'The session of this message is no longer kept.' : session.error.message}</p>
        )}
        {loaded && <Transcript transcript={loaded.transcript} tls={loaded.tls} />}
      </section>
    </aside>
  );
}
