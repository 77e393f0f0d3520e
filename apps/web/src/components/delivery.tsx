import type { ReactNode } from 'react';
import type { AuthInfo, CapturedMessage, SmtpSession, TlsInfo } from '@mailwright/core';
import { formatFullTime, formatOffset, tlsModeName } from '../lib/format';
import { Fact, Facts } from './facts';
import { Warning } from './icons';

/** A warning that stands out. */
export function Alert({ children, testId }: { children: ReactNode; testId?: string }) {
  return (
    <div className="alert" role="alert" data-testid={testId}>
      <Warning width={18} height={18} />
      <div>{children}</div>
    </div>
  );
}

/** The warnings a delivery deserves: plaintext, credentials before TLS, a failed session. */
export function DeliveryWarnings({ tls, session }: { tls: TlsInfo; session: SmtpSession | null }) {
  return (
    <>
      {session?.authBeforeTls && (
        <Alert testId="auth-before-tls">
          <strong>Credentials were sent before TLS.</strong> The client authenticated on a plaintext connection, so the password crossed the network
          unencrypted.
        </Alert>
      )}
      {tls.mode === 'none' && session?.error?.stage !== 'tls' && (
        <Alert testId="plaintext-warning">
          <strong>No TLS: this connection was plaintext.</strong>{' '}
          {tls.starttlsOffered ? 'STARTTLS was offered, but the client did not use it.' : 'The server did not offer STARTTLS on this connection.'}
        </Alert>
      )}
      {session?.error && (
        <Alert testId="session-error">
          <strong>
            {session.error.stage === 'tls' ? 'TLS handshake failed' : session.error.stage === 'smtp' ? 'SMTP error' : 'Connection error'}:{' '}
            <code>{session.error.code}</code>
          </strong>{' '}
          {session.error.message}
        </Alert>
      )}
    </>
  );
}

/** Listener, peer and timing of a connection. */
export function ConnectionFacts({ session, listener }: { session: SmtpSession | null; listener: string }) {
  const duration = session?.closedAt ? new Date(session.closedAt).getTime() - new Date(session.openedAt).getTime() : null;
  return (
    <Facts title="Connection">
      <Fact label="Listener" testId="delivery-listener" value={session ? `${listener} (port ${session.localPort})` : listener} />
      {session && (
        <>
          <Fact label="Client" mono value={`${session.remoteAddress}:${session.remotePort}`} />
          <Fact label={session.greeting ?? 'Greeting'} mono value={session.clientName} />
          <Fact label="Opened" value={formatFullTime(session.openedAt)} />
          <Fact label="Duration" value={duration === null ? 'open' : formatOffset(duration)} />
        </>
      )}
    </Facts>
  );
}

/** The fault rules that fired on the connection, where, and what they did. */
export function FaultFacts({ session }: { session: SmtpSession | null }) {
  const faults = session?.faults ?? [];
  if (faults.length === 0) return null;
  return (
    <Facts title="Faults">
      {faults.map((fault, index) => (
        <Fact
          key={index}
          label={fault.at}
          mono
          testId="delivery-fault"
          value={`${fault.rule}: ${fault.code === null ? fault.action : `${fault.action} ${fault.code}`}${fault.argument ? ` (${fault.argument})` : ''}`}
        />
      ))}
    </Facts>
  );
}

/** Everything about the TLS of a connection. */
export function TlsFacts({ tls, handshakeFailed = false }: { tls: TlsInfo; handshakeFailed?: boolean }) {
  const certificate = tls.clientCertificate;
  return (
    <Facts title="TLS">
      <Fact
        label="Mode"
        testId="delivery-mode"
        value={handshakeFailed ? <span className="bad">handshake failed, no TLS session</span> : tlsModeName(tls.mode)}
      />
      <Fact label="STARTTLS offered" value={tls.starttlsOffered ? 'yes' : 'no'} />
      {tls.mode !== 'none' && (
        <>
          <Fact label="Protocol" testId="delivery-protocol" value={tls.protocol} />
          <Fact label="Cipher" testId="delivery-cipher" mono value={tls.cipher?.standardName ?? tls.cipher?.name} />
          {tls.cipher && tls.cipher.name !== tls.cipher.standardName && <Fact label="OpenSSL name" mono value={tls.cipher.name} />}
          <Fact label="SNI" testId="delivery-sni" mono value={tls.servername ?? <span className="muted">none sent</span>} />
          {tls.alpnProtocol && <Fact label="ALPN" mono value={tls.alpnProtocol} />}
          <Fact label="Resumed" value={tls.resumed ? 'yes' : 'no'} />
          <Fact
            label="Client certificate"
            testId="delivery-client-certificate"
            value={
              certificate ? (
                <div className="certificate">
                  <div className="mono">{certificate.subject}</div>
                  <div className="muted">issued by {certificate.issuer}</div>
                  <div>
                    {certificate.authorized ? (
                      <span className="ok">trusted</span>
                    ) : (
                      <span className="bad">not trusted{certificate.authorizationError ? `: ${certificate.authorizationError}` : ''}</span>
                    )}
                  </div>
                  <div className="muted">
                    valid {certificate.validFrom} – {certificate.validTo}
                  </div>
                  <details>
                    <summary>Serial and fingerprint</summary>
                    <div className="mono wrap">serial {certificate.serialNumber}</div>
                    <div className="mono wrap">SHA-256 {certificate.fingerprint256}</div>
                  </details>
                </div>
              ) : (
                <span className="muted">none presented</span>
              )
            }
          />
        </>
      )}
    </Facts>
  );
}

/** Who authenticated, and how. */
export function AuthFacts({ auth, authBeforeTls }: { auth: AuthInfo | null; authBeforeTls: boolean | undefined }) {
  return (
    <Facts title="Authentication">
      {auth ? (
        <>
          <Fact label="Mechanism" testId="delivery-auth-mechanism" mono value={auth.mechanism} />
          <Fact label="User" testId="delivery-auth-user" mono value={auth.username} />
          {authBeforeTls !== undefined && <Fact label="Before TLS" value={authBeforeTls ? <span className="bad">yes — in plaintext</span> : 'no'} />}
        </>
      ) : (
        <Fact label="AUTH" testId="delivery-auth-mechanism" value={<span className="muted">not used</span>} />
      )}
    </Facts>
  );
}

/** What the client said in MAIL FROM and RCPT TO. */
export function EnvelopeFacts({ envelope }: { envelope: CapturedMessage['envelope'] }) {
  return (
    <Facts title="Envelope">
      <Fact label="MAIL FROM" testId="delivery-mail-from" mono value={envelope.mailFrom || '<>'} />
      <Fact
        label="RCPT TO"
        testId="delivery-rcpt-to"
        mono
        value={
          <ul className="plain-list">
            {envelope.rcptTo.map((recipient) => (
              <li key={recipient}>{recipient}</li>
            ))}
          </ul>
        }
      />
      <Fact label="BODY" mono value={envelope.body.toUpperCase()} />
      <Fact label="SMTPUTF8" value={envelope.smtpUtf8 ? 'yes' : 'no'} />
      <Fact label="REQUIRETLS" value={envelope.requireTls ? 'yes' : 'no'} />
    </Facts>
  );
}
