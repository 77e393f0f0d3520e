import net from 'node:net';
import tls from 'node:tls';
import { ErrorCode, isMailwrightError, type KeyType, type ListenerInfo } from '@mailwright/core';
import type { MessageStore } from '../store/message-store.js';
import type { CertificateAndKey, TestAuthority } from '../tls/test-authority.js';
import type { ServerMetrics } from '../server-metrics.js';
import type { Logger } from '../logger.js';
import { SessionRecorder } from './session-recorder.js';
import { tlsFailureCode } from './tls-info.js';
import { acceptImplicitTls } from './implicit-tls.js';
import { assertTlsCapabilities, effectiveCipherList, sessionIdContextOf } from './tls-capabilities.js';
import { peekClientHello } from './client-hello.js';
import { starttlsPolicyInterceptors, MUST_STARTTLS_REPLY } from './connection-policy.js';
import {
  createSmtpEngine,
  openSmtpConnection,
  type SmtpConnection,
  type SmtpEngineOptions,
  type SmtpReplyError,
  type SmtpSessionState,
  type SmtpTranscriptSink,
} from './smtp-engine.js';
import { checkCredentials } from './check-credentials.js';
import { toNewMessage } from './new-message.js';
import type { ConnectionLimits, ConnectionRefusal } from './connection-limits.js';
import { CommandDeadlines } from './command-deadlines.js';
import type { FaultRegistry } from '../faults/fault-registry.js';

const HANDSHAKE_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 2_000;
const SOCKET_TIMEOUT_MS = 60_000;
/** Time a refused connection has to read its 421 before its socket is destroyed. */
const REFUSED_LINGER_MS = 1_000;

/** What every listener shares: the store, the CA, users and limits. */
export interface CaptureContext {
  store: MessageStore;
  authority: TestAuthority;
  /** A certificate given with --tls-cert/--tls-key; used instead of the `valid` profile. */
  customCertificate: CertificateAndKey | null;
  /** Greeting name. */
  hostname: string;
  /** username → password; empty = any credentials are accepted. */
  users: ReadonlyMap<string, string>;
  maxMessageSize: number;
  maxRecipients: number;
  /** Connections open at once, shared by every listener. */
  connectionLimits: ConnectionLimits;
  /** Time to send one whole command line, in milliseconds. */
  commandTimeoutMs: number;
  /** Time to send a whole message after DATA, in milliseconds. */
  dataTimeoutMs: number;
  /** Fault rules, shared by every listener. */
  faults?: FaultRegistry;
  logger: Logger;
  /** Where the listener counts replies, messages and sessions. */
  metrics?: ServerMetrics;
}

/** A connection handed to the SMTP engine, with its record, its deadlines and its place under the connection limits. */
interface LiveSession {
  connection: SmtpConnection;
  recorder: SessionRecorder;
  deadline: CommandDeadlines;
  /** Frees its place under the connection limits (once, however often called). */
  release(): void;
}

/** A running listener. */
export interface StartedCaptureListener {
  readonly info: ListenerInfo;
  /** Whether the socket is bound and accepting connections. */
  isListening(): boolean;
  close(): Promise<void>;
}

/** An error the SMTP engine turns into a reply: `responseCode` plus the text. */
function smtpReply(responseCode: number, text: string): SmtpReplyError {
  return Object.assign(new Error(text), { responseCode });
}

/**
 * Starts one SMTP listener that captures every message with the record of its delivery.
 * The SMTP engine speaks the protocol on the sockets this listener accepts (and, for
 * implicit TLS, secures), so that failed handshakes become sessions too.
 */
export async function startCaptureListener(
  info: Omit<ListenerInfo, 'port' | 'keyType'> & { port: number; keyType: KeyType },
  context: CaptureContext,
): Promise<StartedCaptureListener> {
  const { store, logger } = context;
  // The certificate given with --tls-cert replaces the test CA's `valid` one of the default key type.
  const customCertificate = info.certificate === 'valid' && info.keyType === 'ecdsa-p256' ? context.customCertificate : null;
  const certificate = customCertificate ?? (await context.authority.serverCertificate(info.certificate, info.keyType));
  const implicit = info.tls === 'implicit';
  const requestCert = info.clientCertificate !== 'off';
  const ciphers = effectiveCipherList(info);
  const secureContextOptions = {
    key: certificate.key,
    cert: certificate.cert,
    ca: requestCert ? [context.authority.caPem] : undefined,
    minVersion: info.minVersion,
    maxVersion: info.maxVersion,
    ...(ciphers ? { ciphers } : {}),
    sessionIdContext: sessionIdContextOf(info.name),
  } satisfies tls.SecureContextOptions;
  const tlsOptions = {
    ...secureContextOptions,
    requestCert,
    rejectUnauthorized: info.clientCertificate === 'require',
  };
  // Whatever this listener cannot do is refused now, not discovered by every client later.
  const usesTls = implicit || (info.tls === 'starttls' && (info.starttls === 'offer' || info.starttls === 'require'));
  const verifiedContext = await assertTlsCapabilities(info, secureContextOptions, usesTls);

  /** Live SMTP connections by session id, with what belongs to each. */
  const live = new Map<string, LiveSession>();
  let closing = false;
  const shutDown = (id: string): void => live.get(id)?.connection.reply(421, `${context.hostname} Service shutting down`);
  const save = (recorder: SessionRecorder): void => {
    store.saveSession(recorder.session).catch((error: unknown) => logger.error({ err: error, listener: info.name }, 'could not save session'));
  };

  const policy = info.starttls;
  const requireTls = !implicit && policy === 'require';
  const disabledCommands: string[] = [];
  if (implicit || policy === 'off') disabledCommands.push('STARTTLS');
  if (info.auth === 'off') disabledCommands.push('AUTH');

  const counts = context.metrics?.listener(info.name);
  const transcript: SmtpTranscriptSink = {
    command: (id, line) => live.get(id)?.recorder.client(line),
    reply: (id, payload) => {
      counts?.reply(payload);
      live.get(id)?.recorder.server(payload);
    },
    error: (id, error) => live.get(id)?.recorder.connectionError(error),
  };
  // STARTTLS prefers the server's cipher order, as it always has.
  const starttlsContext =
    disabledCommands.includes('STARTTLS') || policy === 'fail' ? null : tls.createSecureContext({ honorCipherOrder: true, ...secureContextOptions });
  const options: SmtpEngineOptions = {
    name: context.hostname,
    banner: 'Mailwright',
    secure: implicit,
    disabledCommands,
    authMethods: context.users.size > 0 ? ['PLAIN', 'LOGIN', 'CRAM-MD5'] : ['PLAIN', 'LOGIN'],
    authOptional: info.auth !== 'required',
    size: context.maxMessageSize,
    socketTimeoutMs: SOCKET_TIMEOUT_MS,
    starttls: starttlsContext
      ? { secureContext: starttlsContext, requestCert: tlsOptions.requestCert, rejectUnauthorized: tlsOptions.rejectUnauthorized }
      : null,
    transcript,

    onSecure(socket, session, callback) {
      const current = live.get(session.id);
      const recorder = current?.recorder;
      // After STARTTLS the commands arrive on the TLS socket.
      if (!implicit) current?.deadline.watch(socket);
      if (recorder) {
        recorder.secured(socket, implicit ? 'implicit' : 'starttls');
        save(recorder);
      }
      callback();
    },

    onAuth(auth, session, callback) {
      const recorder = live.get(session.id)?.recorder;
      const secure = session.secure;
      // Credentials sent in plaintext are accepted and recorded (authBeforeTls): catching
      // that is the point of a test harness.
      recorder?.credentialsSent(secure);
      if (requireTls && !secure) return callback(smtpReply(530, MUST_STARTTLS_REPLY));
      if (!checkCredentials(auth, context.users)) return callback(smtpReply(535, '5.7.8 Authentication credentials invalid'));
      recorder?.authenticated({ mechanism: auth.method, username: auth.username });
      callback(null, auth.username);
    },

    onMailFrom(address, session, callback) {
      if (requireTls && !session.secure) return callback(smtpReply(530, MUST_STARTTLS_REPLY));
      callback();
    },

    onRcptTo(address, session, callback) {
      if (requireTls && !session.secure) return callback(smtpReply(530, MUST_STARTTLS_REPLY));
      if (session.envelope.rcptTo.length >= context.maxRecipients) {
        return callback(smtpReply(452, `4.5.3 Too many recipients (at most ${context.maxRecipients})`));
      }
      callback();
    },

    onDataStart(session) {
      live.get(session.id)?.deadline.dataStarted();
    },

    onData(message, session, callback) {
      const current = live.get(session.id);
      current?.deadline.dataEnded();
      if (message.sizeExceeded) {
        callback(smtpReply(552, `5.3.4 Message exceeds the maximum size of ${context.maxMessageSize} bytes`));
        return;
      }
      const recorder = current?.recorder;
      captureMessage(message.raw, session, recorder).then(
        (id) => {
          callback(null, `2.0.0 Ok: queued as ${id}`);
          // The session record is updated once the reply is written: the client does not wait for it.
          counts?.messageStored(recorder?.session.tls.mode ?? 'none', message.raw.length);
          if (recorder) {
            recorder.messageStored(id);
            save(recorder);
          }
          // Shutting down: the transaction that was allowed to finish has finished.
          if (closing) setImmediate(() => shutDown(session.id));
        },
        (error: unknown) => {
          logger.error({ err: error, listener: info.name }, 'could not store message');
          // No room left (a full disk, a read-only data directory): 452 4.3.1, RFC 3463's "mail system full".
          if (isMailwrightError(error) && error.code === ErrorCode.STORAGE_FULL) callback(smtpReply(452, '4.3.1 Insufficient system storage, try again later'));
          else callback(smtpReply(451, '4.3.0 Could not store the message, try again'));
        },
      );
    },

    faults: context.faults && {
      get stages() {
        return (context.faults as FaultRegistry).stages;
      },
      check(stage, session, argument) {
        const current = live.get(session.id);
        if (!current) return null;
        const record = current.recorder.session;
        const envelope = session.envelope;
        const firing = (context.faults as FaultRegistry).check(stage, {
          listener: info.name,
          remoteAddress: record.remoteAddress,
          clientName: record.clientName,
          user: session.user ?? (stage === 'auth' ? argument : null),
          sender: envelope.mailFrom?.address ?? null,
          recipients: envelope.rcptTo,
          line: stage === 'mail' || stage === 'rcpt' ? argument : null,
        });
        if (firing === null) return null;
        if (stage === 'end-of-data') current.deadline.dataEnded();
        current.recorder.faultFired(firing);
        return firing.fault;
      },
    },

    onClose(session) {
      const current = live.get(session.id);
      if (!current) return;
      live.delete(session.id);
      current.release();
      current.deadline.stop();
      current.recorder.closed();
      counts?.sessionClosed(current.recorder.session);
      save(current.recorder);
    },
  };

  async function captureMessage(raw: Buffer, session: SmtpSessionState, recorder: SessionRecorder | undefined): Promise<string> {
    const message = await store.addMessage(toNewMessage(raw, session, recorder, info.name));
    return message.id;
  }

  const engine = createSmtpEngine(options);

  /** Hands an (already secured, for implicit TLS) socket to the SMTP engine. */
  function startSession(socket: net.Socket, recorder: SessionRecorder, release: () => void): void {
    const deadline = new CommandDeadlines({
      commandTimeoutMs: context.commandTimeoutMs,
      dataTimeoutMs: context.dataTimeoutMs,
      onCommandTimeout: (kind) => {
        if (kind === 'command') cutOff(connection, recorder, 421, 'command_timeout', `a command line was not completed within ${context.commandTimeoutMs} ms`);
        else {
          recorder.failed({
            stage: 'tls',
            code: 'handshake_timeout',
            message: `The STARTTLS handshake was not completed within ${context.commandTimeoutMs} ms`,
          });
          socket.destroy();
        }
      },
      onDataTimeout: () => cutOff(connection, recorder, 451, 'data_timeout', `the message was not completed within ${context.dataTimeoutMs} ms`),
    });
    const connection = openSmtpConnection(engine, socket, recorder.session.id, {
      intercept: starttlsPolicyInterceptors(policy, recorder),
      // The handshake deadline starts from the 220 to STARTTLS, not from what the client sends.
      // The ClientHello is read before OpenSSL gets it, for the SNI of handshakes that fail.
      onStarttls: implicit
        ? undefined
        : (plain, proceed) => {
            deadline.handshakeStarted();
            peekClientHello(plain, (hello) => {
              recorder.clientHello(hello);
              proceed();
            });
          },
      onError: (error) => {
        // A failed STARTTLS handshake reaches the recorder through the transcript and is named
        // when the connection closes; anything else is a socket error.
        if (!recorder.upgrading) recorder.failed({ stage: 'socket', code: error.code ?? 'socket_error', message: error.message });
        logger.debug({ err: error, listener: info.name, session: connection.id }, 'connection error');
      },
    });
    live.set(connection.id, { connection, recorder, deadline, release });
    connection.start();
    deadline.watch(socket);
    save(recorder);
  }

  /** Ends a connection that ran out of time: the reply, the record, then close. */
  function cutOff(connection: SmtpConnection, recorder: SessionRecorder, responseCode: 421 | 451, code: string, reason: string): void {
    recorder.failed({ stage: 'smtp', code, message: `Closed: ${reason}` });
    connection.reply(responseCode, `4.4.2 ${context.hostname} Timeout: ${reason}, closing connection`);
    live.get(connection.id)?.deadline.stop();
    connection.close();
  }

  /** Answers a connection over a limit with 421 and closes it; recorded as a session. */
  function refuse(socket: net.Socket, refusal: Exclude<ConnectionRefusal, null>): void {
    const reason = refusal === 'too_many_connections' ? 'too many connections' : 'too many connections from your address';
    const recorder = new SessionRecorder(originOf(socket));
    recorder.failed({ stage: 'smtp', code: refusal, message: `Refused: ${reason}` });
    socket.on('error', () => undefined);
    // An implicit-TLS client expects a handshake, not a plaintext line: it is closed without one.
    if (implicit) socket.destroy();
    else {
      const reply = `421 4.7.0 ${context.hostname} Error: ${reason}, try again later`;
      recorder.server(reply);
      counts?.reply(reply);
      // A client that never closes its side must not keep the descriptor the limits protect:
      // whatever it sends is discarded, and the socket is destroyed shortly after the reply.
      refusedSockets.add(socket);
      const linger = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
      linger.unref();
      socket.once('close', () => {
        clearTimeout(linger);
        refusedSockets.delete(socket);
      });
      socket.resume();
      socket.end(`${reply}\r\n`);
    }
    recorder.closed();
    counts?.sessionClosed(recorder.session);
    save(recorder);
  }

  function originOf(socket: net.Socket): ConstructorParameters<typeof SessionRecorder>[0] {
    return {
      id: newSessionId(),
      listener: info.name,
      localPort: socket.localPort ?? 0,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
    };
  }

  const secureContext = implicit ? verifiedContext : null;
  const sockets = new Set<net.Socket>();
  /** Connections refused over a limit whose 421 is still on its way. */
  const refusedSockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const remoteAddress = socket.remoteAddress ?? '';
    const refusal = context.connectionLimits.admit(remoteAddress);
    if (refusal !== null) {
      refuse(socket, refusal);
      return;
    }
    socket.setNoDelay(true);
    sockets.add(socket);
    // Once, from whichever close is seen: the plain socket's or, after STARTTLS, the TLS socket's.
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      sockets.delete(socket);
      context.connectionLimits.release(remoteAddress);
    };
    socket.once('close', release);
    const recorder = new SessionRecorder(originOf(socket));
    if (!secureContext) {
      startSession(socket, recorder, release);
      return;
    }
    acceptImplicitTls(
      socket,
      { secureContext, requestCert: tlsOptions.requestCert, rejectUnauthorized: tlsOptions.rejectUnauthorized, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS },
      (tlsSocket, hello) => {
        recorder.clientHello(hello);
        startSession(tlsSocket, recorder, release);
      },
      (error, hello) => {
        release();
        recorder.clientHello(hello);
        recorder.handshakeFailed('implicit', {
          stage: 'tls',
          code: tlsFailureCode(error),
          message: error instanceof Error ? error.message : 'connection closed during the TLS handshake',
        });
        recorder.closed();
        counts?.sessionClosed(recorder.session);
        save(recorder);
      },
    );
  });
  server.on('error', (error) => logger.error({ err: error, listener: info.name }, 'listener error'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: info.host, port: info.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  const started: ListenerInfo = { ...info, keyType: customCertificate ? null : info.keyType, port: address.port };

  return {
    info: started,
    isListening: () => server.listening,
    // Stop accepting; idle sessions get 421 at once, a transaction in flight gets
    // CLOSE_TIMEOUT_MS to finish, then whatever is left (handshakes included) is cut.
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of refusedSockets) socket.destroy();
      for (const [id, { connection }] of live) {
        if (!connection.inTransaction) shutDown(id);
      }
      const force = setTimeout(() => {
        for (const id of live.keys()) shutDown(id);
        for (const socket of sockets) socket.destroy();
      }, CLOSE_TIMEOUT_MS);
      force.unref();
      await closed;
      clearTimeout(force);
    },
  };
}

let sessionCounter = 0;
const SESSION_PREFIX = Date.now().toString(36);

/** A short, unique, sortable session id. */
function newSessionId(): string {
  sessionCounter += 1;
  return `${SESSION_PREFIX}${sessionCounter.toString(36).padStart(6, '0')}`;
}
