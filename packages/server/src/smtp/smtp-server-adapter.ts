import type net from 'node:net';
import type tls from 'node:tls';
import type { Writable } from 'node:stream';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection, verifyPeerCertificate } from 'smtp-server/lib/smtp-connection.js';

// The one module that reaches into smtp-server's private parts. Everything else uses
// smtp-server's public API (SMTPServer, its options and handlers) or the interface below.
// smtp-server is pinned to the exact version these internals were read from (package.json);
// smtp-server-adapter.test.ts checks each of them, so an upgrade that moves one fails there,
// by name, instead of here at run time. docs/internals.md lists the hooks that would let
// this module go.

/** The smtp-server version this adapter was written for: the exact pin in package.json. */
export const SMTP_SERVER_VERSION = '3.21.6';

/** What smtp-server writes in its command log in place of credentials (AUTH arguments, AUTH continuation lines). */
export const REDACTED_CREDENTIALS = '/* secured */';

/** Receives smtp-server's protocol log, per connection. */
export interface SmtpTranscriptSink {
  /** A command line from the client; credentials already replaced by {@link REDACTED_CREDENTIALS}. */
  command(connectionId: string, line: string): void;
  /** A reply as written; a multi-line reply is one payload with CRLF between its lines. */
  reply(connectionId: string, payload: string): void;
  /** A socket or TLS error of the connection, including those smtp-server logs but never emits. */
  error(connectionId: string, error: unknown): void;
}

/** The commands whose handling can be taken over per connection (see {@link SmtpConnectionHooks.intercept}). */
export type InterceptableCommand = 'STARTTLS' | 'AUTH';

/** What a connection does beyond smtp-server's own protocol handling. */
export interface SmtpConnectionHooks {
  /**
   * Called with a command line (as received) before smtp-server handles it: return true when the
   * interceptor has answered it itself (smtp-server then does nothing with it), false to leave it
   * to smtp-server.
   */
  intercept?: Partial<Record<InterceptableCommand, (line: string, connection: SmtpConnection) => boolean>>;
  /**
   * Called once smtp-server has answered 220 to STARTTLS, with the plaintext socket before the TLS
   * handshake starts on it: nothing more is read from it as a command, and the handshake waits for
   * `proceed()`. Bytes read from the socket in between must be put back (`socket.unshift`).
   */
  onStarttls?(socket: net.Socket, proceed: () => void): void;
  /** An error smtp-server emits for the connection (socket errors outside the quiet ones, failed STARTTLS handshakes). */
  onError?(error: Error & { code?: string }): void;
}

/** One connection smtp-server speaks SMTP on. */
export interface SmtpConnection {
  /** The session id given to {@link openSmtpConnection}; smtp-server's `session.id` too. */
  readonly id: string;
  /** Whether the connection is encrypted (implicit TLS, or after STARTTLS). */
  readonly secure: boolean;
  /** Whether a mail transaction is open: MAIL FROM was accepted and the message has not been answered. */
  readonly inTransaction: boolean;
  /**
   * Starts the session: the socket is read from now on and the greeting is written at once, before
   * this returns. smtp-server's own start waits 100 ms first to catch clients that talk before the
   * greeting (an anti-spam measure that would cost every test 100 ms per connection).
   */
  start(): void;
  /** Writes one reply; a 421 also closes the connection (smtp-server's rule). */
  reply(code: number, text: string): void;
  /** Ends the connection: what was written is flushed, the client's side is waited for a bounded time. */
  close(): void;
}

type CommandHandler = (command: Buffer, callback: () => void) => void;

/** The private members of an smtp-server 3.21 connection this adapter uses. */
interface ConnectionInternals {
  session: { envelope?: { mailFrom?: unknown } };
  secure: boolean;
  _socket: net.Socket;
  _parser: Writable;
  _setListeners(callback: () => void): void;
  connectionReady(next?: () => void): void;
  send(code: number, data?: string): void;
  close(): void;
  upgrade(callback: () => void, secureCallback?: () => void): void;
  handler_STARTTLS: CommandHandler;
  handler_AUTH: CommandHandler;
}

/** The logger calls smtp-server makes that carry the protocol log (3.21: `_onCommand`, `send`, `_onError`). */
interface LogFields {
  cid?: string;
  tnx?: string;
  err?: unknown;
}

/**
 * Creates the SMTPServer that {@link openSmtpConnection} hands sockets to. Its log goes to
 * `transcript` and nowhere else; the listening socket of the SMTPServer itself is not used.
 */
export function createSmtpServer(options: Omit<SMTPServerOptions, 'logger'>, transcript: SmtpTranscriptSink): SMTPServer {
  const noop = (): void => undefined;
  const logger = {
    level: 'debug',
    // Commands are logged as (fields, 'C:', line), replies as (fields, 'S:', payload).
    debug(fields: LogFields, marker: string, line: unknown) {
      if (fields.cid === undefined) return;
      if (marker === 'C:' && fields.tnx === 'command') transcript.command(fields.cid, String(line));
      else if (marker === 'S:' && fields.tnx === 'send') transcript.reply(fields.cid, String(line));
    },
    // Connection errors are logged as (fields, '%s %s %s', connectionId, remoteAddress, message);
    // some (a client resetting during STARTTLS) are logged and never emitted.
    error(fields: LogFields, _format: string, connectionId?: unknown) {
      if (fields.tnx === 'error' && typeof connectionId === 'string') transcript.error(connectionId, fields.err);
    },
    trace: noop,
    info: noop,
    warn: noop,
    fatal: noop,
  } as unknown as SMTPServer['logger'];
  const server = new SMTPServer({ ...options, logger } as SMTPServerOptions);
  // smtp-server wraps a given logger in a layer that copies every entry, a dozen times per
  // message; the transcript needs the calls only.
  server.logger = logger;
  return server;
}

/**
 * Gives an accepted socket (plain, or already secured for implicit TLS) to smtp-server as a
 * connection with the session id `id`. Nothing is read or written until {@link SmtpConnection.start}.
 */
export function openSmtpConnection(server: SMTPServer, socket: net.Socket, id: string, hooks: SmtpConnectionHooks = {}): SmtpConnection {
  const connection = new SMTPConnection(server, socket, { id });
  const internals = connection as unknown as ConnectionInternals;
  const handle: SmtpConnection = {
    id,
    get secure() {
      return internals.secure;
    },
    get inTransaction() {
      return Boolean(internals.session.envelope?.mailFrom);
    },
    start() {
      internals._setListeners(() => internals.connectionReady());
    },
    reply(code, text) {
      internals.send(code, text);
    },
    close() {
      internals.close();
    },
  };
  const { intercept, onStarttls, onError } = hooks;
  if (onError) connection.on('error', onError);
  if (intercept?.STARTTLS) internals.handler_STARTTLS = interceptCommand(internals.handler_STARTTLS, intercept.STARTTLS, handle, connection);
  if (intercept?.AUTH) internals.handler_AUTH = interceptCommand(internals.handler_AUTH, intercept.AUTH, handle, connection);
  if (onStarttls) {
    const upgrade = internals.upgrade.bind(connection);
    internals.upgrade = (callback, secureCallback) => {
      const plain = internals._socket;
      // The upgrade would unpipe the command parser itself; done first, nothing sent after
      // STARTTLS reaches it while the hook holds the socket.
      plain.unpipe(internals._parser);
      onStarttls(plain, () => upgrade(callback, secureCallback));
    };
  }
  return handle;
}

function interceptCommand(
  handler: CommandHandler,
  interceptor: (line: string, connection: SmtpConnection) => boolean,
  handle: SmtpConnection,
  connection: SMTPConnection,
): CommandHandler {
  const original = handler.bind(connection);
  return (command, callback) => {
    if (interceptor(command.toString(), handle)) return callback();
    original(command, callback);
  };
}

/**
 * Judges the client certificate once the server side of a handshake on a bare `tls.TLSSocket` is
 * done, the way tls.Server does for the sockets it accepts (on a bare socket `authorized` stays
 * false and `rejectUnauthorized` is not enforced): sets `authorized`/`authorizationError` and
 * returns the error that must end the connection, if any. smtp-server does the same after STARTTLS.
 */
export function verifyClientCertificate(socket: tls.TLSSocket, options: { requestCert: boolean; rejectUnauthorized: boolean }): Error | null {
  return verifyPeerCertificate(socket, options);
}
