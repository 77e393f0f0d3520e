import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { domainToUnicode } from 'node:url';
import type { FaultStage } from '@mailwright/core';
import { MessageReader } from './message-reader.js';
import { faultStageBit, type SmtpFault } from '../faults/fault-registry.js';

// Mailwright's SMTP protocol engine: one object per connection, reading command lines from the
// socket's 'data' events and writing replies straight to the socket. It speaks what a capturing
// server needs (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, VRFY, HELP, STARTTLS, AUTH PLAIN,
// LOGIN and CRAM-MD5, PIPELINING, SIZE, 8BITMIME, SMTPUTF8, REQUIRETLS) with the reply codes
// and texts of smtp-server 3.21, which Mailwright was built on before.

/** What the transcript shows in place of credentials (AUTH arguments, AUTH continuation lines). */
export const REDACTED_CREDENTIALS = '/* secured */';

/** Time a connection the server has closed (QUIT, a 421) waits for the client's side, at most. */
const HALF_CLOSE_TIMEOUT_MS = 5_000;
/** Longest command line, line end excluded. */
const MAX_COMMAND_LENGTH = 16 * 1024;
/** Unknown commands (and unauthenticated ones where AUTH is required) before the connection is closed. */
const MAX_BAD_COMMANDS = 10;
/** Pipelined commands handled in one go before other work gets the event loop. */
const MAX_COMMANDS_PER_TURN = 100;
const MAX_HELO_HOSTNAME_LENGTH = 300;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\x00-\x1F\x7F-\x9F]/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ADDRESS_UNSAFE_CHARS = /[\x00-\x1F\x7F-\x9F\u200B\u2060\uFEFF]/;
const HTTP_REQUEST = /^(OPTIONS|GET|HEAD|POST|PUT|DELETE|TRACE|CONNECT) \/.* HTTP\/\d\.\d$/i;
const QUIET_SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const MAIL_VALUE_PARAMS = ['BODY', 'SIZE', 'RET', 'ENVID'];
const RCPT_VALUE_PARAMS = ['NOTIFY', 'ORCPT'];
const LF = 0x0a;
const CR = 0x0d;
/** A fatal TLS `handshake_failure` alert record, what a server that cannot agree on a handshake sends. */
const TLS_HANDSHAKE_FAILURE_ALERT = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
const BIT = {
  connect: faultStageBit('connect'),
  ehlo: faultStageBit('ehlo'),
  starttls: faultStageBit('starttls'),
  auth: faultStageBit('auth'),
  mail: faultStageBit('mail'),
  rcpt: faultStageBit('rcpt'),
  data: faultStageBit('data'),
  'end-of-data': faultStageBit('end-of-data'),
} as const;

/** The stage of a command verb, for fault rules (AUTH is checked once the credentials are in). */
function commandStage(verb: string): FaultStage | null {
  switch (verb) {
    case 'EHLO':
    case 'HELO':
      return 'ehlo';
    case 'STARTTLS':
      return 'starttls';
    case 'MAIL':
      return 'mail';
    case 'RCPT':
      return 'rcpt';
    case 'DATA':
      return 'data';
    default:
      return null;
  }
}

/** Receives the protocol log, per connection. */
export interface SmtpTranscriptSink {
  /** A command line from the client; credentials already replaced by {@link REDACTED_CREDENTIALS}. */
  command(connectionId: string, line: string): void;
  /** A reply as written; a multi-line reply is one payload with CRLF between its lines. */
  reply(connectionId: string, payload: string): void;
  /** A socket or TLS error of the connection, including the quiet ones that are not passed to `onError`. */
  error(connectionId: string, error: unknown): void;
}

/** The commands whose handling can be taken over per connection (see {@link SmtpConnectionHooks.intercept}). */
export type InterceptableCommand = 'STARTTLS' | 'AUTH';

/** What a connection does beyond the engine's own protocol handling. */
export interface SmtpConnectionHooks {
  /**
   * Called with a command line (as received) before the engine handles it: return true when the
   * interceptor has answered it itself, false to leave it to the engine.
   */
  intercept?: Partial<Record<InterceptableCommand, (line: string, connection: SmtpConnection) => boolean>>;
  /**
   * Called once the engine has answered 220 to STARTTLS, with the plaintext socket before the TLS
   * handshake starts on it: nothing more is read from it as a command, and the handshake waits for
   * `proceed()`. Bytes read from the socket in between must be put back (`socket.unshift`).
   */
  onStarttls?(socket: net.Socket, proceed: () => void): void;
  /** An error of the connection (socket errors outside the quiet ones, failed STARTTLS handshakes). */
  onError?(error: Error & { code?: string }): void;
}

/** One connection the engine speaks SMTP on. */
export interface SmtpConnection {
  /** The session id given to {@link openSmtpConnection}. */
  readonly id: string;
  /** Whether the connection is encrypted (implicit TLS, or after STARTTLS). */
  readonly secure: boolean;
  /** Whether a mail transaction is open: MAIL FROM was accepted and the message has not been answered. */
  readonly inTransaction: boolean;
  /** Starts the session: the socket is read from now on and the greeting is written at once. */
  start(): void;
  /** Writes one reply; a 421 also closes the connection. */
  reply(code: number, text: string): void;
  /** Ends the connection: what was written is flushed, the client's side is waited for a bounded time. */
  close(): void;
}

/** A MAIL FROM or RCPT TO address with its parameters (upper-case keys; `true` for a flag). */
export interface SmtpAddress {
  address: string;
  args: Record<string, string | true>;
}

/** The mail transaction under way. */
export interface SmtpEnvelope {
  /** The sender once MAIL FROM was accepted (`''` for the null sender), else null. */
  mailFrom: SmtpAddress | null;
  rcptTo: SmtpAddress[];
  requireTLS: boolean;
  bodyType: '7bit' | '8bitmime';
  smtpUtf8: boolean;
}

/** What the handlers learn about a connection. */
export interface SmtpSessionState {
  readonly id: string;
  readonly secure: boolean;
  /** The authenticated user name, or null. */
  readonly user: string | null;
  readonly envelope: SmtpEnvelope;
}

/** Credentials a client sent with AUTH. */
export interface SmtpAuthentication {
  method: 'PLAIN' | 'LOGIN' | 'CRAM-MD5';
  username: string;
  /** The password (PLAIN, LOGIN); CRAM-MD5 sends none, see `validatePassword`. */
  password: string | null;
  /** Whether `password` is the user's: compared with the password, or checked against the CRAM-MD5 response. */
  validatePassword(password: string): boolean;
}

/** An error a handler answers with: `responseCode` (550 by default) and the message as text. */
export type SmtpReplyError = Error & { responseCode?: number };

/** A message received after DATA. */
export interface SmtpReceivedMessage {
  /** The message, dot-unstuffed; empty when it went over the size limit. */
  raw: Buffer;
  /** Bytes received (dot-unstuffed), whether kept or not. */
  size: number;
  /** The message went over `size` and was not kept. */
  sizeExceeded: boolean;
}

/** How the engine behaves, and what it asks the application. */
export interface SmtpEngineOptions {
  /** Name in the greeting and the EHLO reply. */
  name: string;
  /** Text after `ESMTP` in the greeting. */
  banner: string;
  /** The socket is already secured (implicit TLS). */
  secure: boolean;
  /** Commands refused as unknown and not advertised (`STARTTLS`, `AUTH`). */
  disabledCommands: readonly string[];
  /** AUTH mechanisms advertised and accepted. */
  authMethods: readonly SmtpAuthentication['method'][];
  /** MAIL, RCPT and DATA are allowed without AUTH. */
  authOptional: boolean;
  /** Message size limit in bytes, advertised with SIZE. */
  size: number;
  /** Idle time before a connection is closed with 421. */
  socketTimeoutMs: number;
  /** How STARTTLS secures a connection (null: STARTTLS cannot be offered). */
  starttls: { secureContext: tls.SecureContext; requestCert: boolean; rejectUnauthorized: boolean } | null;
  transcript: SmtpTranscriptSink;
  /** The connection is secured (before the greeting for implicit TLS, after the handshake for STARTTLS). */
  onSecure(socket: tls.TLSSocket, session: SmtpSessionState, done: () => void): void;
  onAuth(auth: SmtpAuthentication, session: SmtpSessionState, done: (error: SmtpReplyError | null, user?: string) => void): void;
  onMailFrom(address: SmtpAddress, session: SmtpSessionState, done: (error?: SmtpReplyError | null) => void): void;
  onRcptTo(address: SmtpAddress, session: SmtpSessionState, done: (error?: SmtpReplyError | null) => void): void;
  /** DATA was accepted (354): the message is on its way. */
  onDataStart?(session: SmtpSessionState): void;
  /** The message is in; `done` with the 250 text, or an error to answer instead. */
  onData(message: SmtpReceivedMessage, session: SmtpSessionState, done: (error: SmtpReplyError | null, text?: string) => void): void;
  /** The connection closed (called once, on a later tick). */
  onClose(session: SmtpSessionState): void;
  /** Fault rules to apply, if any. */
  faults?: SmtpFaultHook;
}

/** Fault rules as the engine sees them (see `FaultRegistry`). */
export interface SmtpFaultHook {
  /** One bit per stage that has rules (`faultStageBit`): a stage without any costs one bit test. */
  readonly stages: number;
  /**
   * What to do at `stage`, or null to go on as usual. `argument` is the command line at
   * `ehlo`/`mail`/`rcpt`, the user name at `auth`, else null.
   */
  check(stage: FaultStage, session: SmtpSessionState, argument: string | null): SmtpFault | null;
}

/** The engine's state shared by every connection of one listener. */
export interface SmtpEngine {
  readonly options: SmtpEngineOptions;
}

/** Creates the engine that {@link openSmtpConnection} hands sockets to. */
export function createSmtpEngine(options: SmtpEngineOptions): SmtpEngine {
  return { options };
}

/**
 * Gives an accepted socket (plain, or already secured for implicit TLS) to the engine as a
 * connection with the session id `id`. Nothing is read or written until {@link SmtpConnection.start}.
 */
export function openSmtpConnection(engine: SmtpEngine, socket: net.Socket, id: string, hooks: SmtpConnectionHooks = {}): SmtpConnection {
  return new EngineConnection(engine.options, socket, id, hooks);
}

/**
 * Judges the client certificate once the server side of a handshake on a bare `tls.TLSSocket` is
 * done, the way tls.Server does for the sockets it accepts (on a bare socket `authorized` stays
 * false and `rejectUnauthorized` is not enforced): sets `authorized`/`authorizationError` and
 * returns the error that must end the connection, if any.
 */
export function verifyClientCertificate(socket: tls.TLSSocket, options: { requestCert: boolean; rejectUnauthorized: boolean }): Error | null {
  if (!options.requestCert) return null;
  // OpenSSL fails the handshake only for a missing required certificate; an untrusted one is the
  // server's to judge afterwards, from the verification result of the handshake.
  const handle = (socket as unknown as { _handle?: { verifyError?: () => (Error & { code?: string }) | null } })._handle;
  if (!handle || typeof handle.verifyError !== 'function') return null;
  const verifyError = handle.verifyError();
  if (verifyError) {
    (socket as { authorizationError: string | Error }).authorizationError = verifyError.code ?? verifyError.message;
    return options.rejectUnauthorized ? verifyError : null;
  }
  (socket as { authorized: boolean }).authorized = true;
  return null;
}

type Continuation = (line: string) => void;

function replyError(responseCode: number, message: string): SmtpReplyError {
  return Object.assign(new Error(message), { responseCode });
}

function emptyEnvelope(): SmtpEnvelope {
  return { mailFrom: null, rcptTo: [], requireTLS: false, bodyType: '7bit', smtpUtf8: false };
}

/** `+XX` hex escapes of RFC 3461 xtext. */
function decodeXtext(value: string): string {
  return value.includes('+') ? value.replace(/\+([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16))) : value;
}

/** `::ffff:1.2.3.4` is `1.2.3.4`. */
function normalizeAddress(address: string): string {
  return address.replace(/^::ffff:/i, '').toLowerCase();
}

/** A TLS handshake error as reported: a socket that just closed becomes a `SocketError`. */
function handshakeError(error: unknown): Error & { code?: string } {
  const err = error as (Error & { code?: string; responseCode?: number }) | null | undefined;
  if (err && /SSL[23]*_GET_CLIENT_HELLO|ssl[23]*_read_bytes|ssl_bytes_to_cipher_list/i.test(err.message)) {
    err.message = 'Failed to establish TLS session';
    err.responseCode = 500;
    err.code = err.code ?? 'TLSError';
  }
  if (!err?.message) return Object.assign(new Error('Socket closed while initiating TLS'), { code: 'SocketError', responseCode: 500 });
  return err;
}

/** Parses `MAIL FROM:<…> params` or `RCPT TO:<…> params`; null when malformed. */
function parseAddressCommand(name: 'MAIL FROM' | 'RCPT TO', line: string): (SmtpAddress & { duplicate: string | null }) | null {
  const colon = line.indexOf(':');
  if (colon < 0 || line.slice(0, colon).trim().toUpperCase() !== name) return null;
  const parts = line
    .slice(colon + 1)
    .trim()
    .split(/\s+/);
  let address = parts.shift() ?? '';
  if (!/^<[^<>]*>$/.test(address)) return null;
  // RFC 5321 section 4.1.2 and appendix C: a source route is accepted and ignored.
  address = address.slice(1, -1).replace(/^@[^\s,:@]+(?:,@[^\s,:@]+)*:/, '');
  const args: Record<string, string | true> = {};
  let duplicate: string | null = null;
  for (const param of parts) {
    const [rawKey = '', ...rest] = param.split('=');
    const key = rawKey.toUpperCase();
    if (key.trim() === '') continue;
    let value: string | true = rest.join('=') || true;
    if (typeof value === 'string') {
      value = decodeXtext(value);
      // No control characters (CRLF smuggled in as +0D+0A): they would end up in replies and logs.
      if (CONTROL_CHARS.test(value)) return null;
    }
    if (key in args) duplicate = key;
    args[key] = value;
  }
  if (address !== '' && !isAcceptableAddress(name, address)) return null;
  return { address: address === '' ? '' : normalizeDomain(address), args, duplicate };
}

function isAcceptableAddress(name: 'MAIL FROM' | 'RCPT TO', address: string): boolean {
  if (ADDRESS_UNSAFE_CHARS.test(address)) return false;
  // RFC 5321 section 4.1.1.3: the domainless postmaster recipient must be accepted.
  if (name === 'RCPT TO' && address.toLowerCase() === 'postmaster') return true;
  const at = address.split('@');
  if (at.length !== 2) return false;
  const [local = '', domain = ''] = at;
  if (!local || !domain) return false;
  // RFC 5321 section 4.5.3.1.3: a path is at most 256 octets with its brackets.
  if (local.length + 1 + domain.length > 253) return false;
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  if (domain.startsWith('[') && domain.endsWith(']')) {
    const literal = domain.slice(1, -1);
    return literal.toUpperCase().startsWith('IPV6:') ? net.isIPv6(literal.slice(5)) : net.isIPv4(literal);
  }
  return !(
    domain.startsWith('.') ||
    domain.endsWith('.') ||
    domain.includes('..') ||
    domain.includes('.-') ||
    domain.includes('-.') ||
    !/^[a-zA-Z0-9\u0080-\uFFFF.-]+$/.test(domain)
  );
}

/** An A-label domain (`xn--…`) is recorded in its Unicode form, the rest as sent. */
function normalizeDomain(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  const domain = address.slice(at + 1);
  if (domain.startsWith('[') || !/(^|\.)xn--/i.test(domain)) return address;
  const unicode = domainToUnicode(domain);
  return unicode ? `${address.slice(0, at)}@${unicode}` : address;
}

class EngineConnection implements SmtpConnection {
  readonly id: string;
  readonly #options: SmtpEngineOptions;
  readonly #hooks: SmtpConnectionHooks;
  readonly #name: string;
  readonly #clientHostname: string;
  #socket: net.Socket;
  #secure: boolean;
  #user: string | null = null;
  #envelope: SmtpEnvelope = emptyEnvelope();
  readonly #session: SmtpSessionState;
  /** The HELO/EHLO name, once greeted. */
  #greeted: string | null = null;
  #continuation: Continuation | null = null;
  #unrecognized = 0;
  #unauthenticated = 0;
  /** Bytes received and not yet handled (a partial line, or lines waiting for a handler). */
  #pending: Buffer | null = null;
  /** A handler has not answered yet: nothing more is read until it has. */
  #busy = false;
  #upgrading = false;
  #closing = false;
  #closed = false;
  #closeTimer: NodeJS.Timeout | null = null;
  /** The message being received after DATA, or null outside the DATA phase. */
  #message: MessageReader | null = null;
  /** A fault asked for the next reply to be written one byte at a time, this many ms apart (0: no). */
  #slowReplyMs = 0;
  /** A slow reply is being written: input waits for it. */
  #slowWriting = false;
  readonly #onData = (chunk: Buffer): void => this.#received(chunk);
  readonly #onSocketError = (error: Error): void => this.#error(error);
  readonly #onSocketClose = (): void => this.#onClose();
  readonly #onTimeout = (): void => this.#timedOut();

  constructor(options: SmtpEngineOptions, socket: net.Socket, id: string, hooks: SmtpConnectionHooks) {
    this.id = id;
    this.#options = options;
    this.#hooks = hooks;
    this.#socket = socket;
    this.#secure = options.secure;
    this.#name = options.name;
    this.#clientHostname = `[${normalizeAddress(socket.remoteAddress ?? '')}]`;
    const session = { id } as SmtpSessionState;
    Object.defineProperties(session, {
      secure: { get: () => this.#secure, enumerable: true },
      user: { get: () => this.#user, enumerable: true },
      envelope: { get: () => this.#envelope, enumerable: true },
    });
    this.#session = session;
  }

  get secure(): boolean {
    return this.#secure;
  }

  get inTransaction(): boolean {
    return this.#envelope.mailFrom !== null;
  }

  start(): void {
    const socket = this.#socket;
    socket.on('close', this.#onSocketClose);
    socket.on('error', this.#onSocketError);
    socket.setTimeout(this.#options.socketTimeoutMs, this.#onTimeout);
    const greet = (): void => {
      if (this.#closing || this.#closed) return;
      const faults = this.#options.faults;
      const fault = faults !== undefined && (faults.stages & BIT.connect) !== 0 ? faults.check('connect', this.#session, null) : null;
      if (fault !== null) {
        // A refused greeting ends the connection (RFC 5321 section 3.1 lets a 554 wait for QUIT; clients hang up either way).
        if (fault.kind === 'reply') return this.#closeAfter(fault.code, fault.text);
        return this.#applyFault(fault, sayHello);
      }
      sayHello();
    };
    const sayHello = (): void => {
      if (this.#closing || this.#closed) return;
      this.#send(220, `${this.#name} ESMTP ${this.#options.banner}`);
      socket.on('data', this.#onData);
    };
    if (this.#secure && socket instanceof tls.TLSSocket) this.#options.onSecure(socket, this.#session, greet);
    else greet();
  }

  reply(code: number, text: string): void {
    this.#send(code, text);
  }

  close(): void {
    const socket = this.#socket;
    if (!socket.destroyed && socket.writable) socket.end();
    if (this.#closing) return;
    this.#closing = true;
    // Nothing the client sends from now on is answered; its FIN must still be read.
    socket.off('data', this.#onData);
    this.#pending = null;
    if (!this.#upgrading && !socket.destroyed) socket.resume();
    // A client that never closes its side cannot keep the descriptor: this deadline does not move.
    this.#closeTimer = setTimeout(
      () => {
        if (!this.#socket.destroyed) this.#socket.destroy();
      },
      Math.min(this.#options.socketTimeoutMs, HALF_CLOSE_TIMEOUT_MS),
    );
    this.#closeTimer.unref();
  }

  // --- replies ---------------------------------------------------------------

  #send(code: number, text?: string | string[]): void {
    let payload: string;
    if (Array.isArray(text)) {
      const last = text.length - 1;
      payload = text.map((line, index) => `${code}${index < last ? '-' : ' '}${line}`).join('\r\n');
    } else payload = text ? `${code} ${text}` : `${code}`;
    // RFC 4954 section 4: an empty challenge is "334 " with the space.
    if (code === 334 && payload === '334') payload = '334 ';
    if (this.#slowReplyMs !== 0) return this.#sendSlowly(code, payload);
    const socket = this.#socket;
    // While a TLS handshake runs on the socket, a plaintext write would break it.
    if (!this.#upgrading && !socket.destroyed && socket.writable) {
      socket.write(`${payload}\r\n`);
      this.#options.transcript.reply(this.id, payload);
    }
    if (code === 421) this.close();
  }

  // --- input -----------------------------------------------------------------

  #received(chunk: Buffer): void {
    if (this.#closing) return;
    this.#pending = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    if (!this.#busy) this.#process();
  }

  /** Handles what is pending until it runs out, a handler has to be waited for, or the connection ends. */
  #process(): void {
    let commands = 0;
    while (this.#pending !== null && !this.#busy && !this.#closing && !this.#upgrading) {
      if (this.#message) {
        this.#readMessage(this.#message);
        continue;
      }
      const pending = this.#pending;
      const lineEnd = pending.indexOf(LF);
      if (lineEnd < 0) {
        if (pending.length > MAX_COMMAND_LENGTH) this.#commandTooLong();
        return;
      }
      const end = lineEnd > 0 && pending[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
      this.#pending = lineEnd + 1 < pending.length ? pending.subarray(lineEnd + 1) : null;
      if (end > MAX_COMMAND_LENGTH) {
        this.#commandTooLong();
        return;
      }
      this.#command(pending.toString('utf8', 0, end));
      if (this.#busy || this.#closing || this.#upgrading) break;
      // A client that pipelines without reading its replies is read no further until they are flushed.
      if (this.#socket.writableNeedDrain) return this.#waitForDrain();
      // A chunk full of pipelined commands does not hold the event loop for long.
      if (++commands >= MAX_COMMANDS_PER_TURN && this.#pending !== null) {
        this.#suspend();
        setImmediate(this.#resume);
        return;
      }
    }
    // The replies to pipelined commands are written before more commands are read.
    if (this.#pending === null && !this.#busy && !this.#closing && !this.#upgrading && this.#socket.writableNeedDrain) this.#waitForDrain();
  }

  #commandTooLong(): void {
    this.#pending = null;
    this.#send(421, 'Error: Command line too long');
  }

  #waitForDrain(): void {
    const socket = this.#socket;
    this.#busy = true;
    socket.pause();
    socket.once('drain', () => {
      this.#busy = false;
      if (!this.#closing && !this.#upgrading) socket.resume();
      this.#process();
    });
  }

  /** A handler answered: go on with what arrived in the meantime. */
  #resume = (): void => {
    if (this.#slowWriting) return;
    this.#busy = false;
    if (this.#closing || this.#upgrading) return;
    this.#socket.resume();
    this.#process();
  };

  /** Waits for a handler: the socket is not read until {@link #resume}. */
  #suspend(): void {
    this.#busy = true;
    this.#socket.pause();
  }

  // --- commands --------------------------------------------------------------

  #command(line: string): void {
    const space = line.indexOf(' ');
    const verb = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    this.#options.transcript.command(this.id, this.#redacted(verb, line));
    if (HTTP_REQUEST.test(line)) return this.#send(421, 'HTTP requests not allowed');
    const continuation = this.#continuation;
    if (continuation) {
      this.#continuation = null;
      return continuation(line);
    }
    if (!this.#isSupported(verb)) {
      this.#unrecognized += 1;
      if (this.#unrecognized >= MAX_BAD_COMMANDS) return this.#send(421, 'Error: too many unrecognized commands');
      return this.#send(500, 'Error: command not recognized');
    }
    const authRequired = this.#user === null && this.#isSupported('AUTH') && !this.#options.authOptional;
    if (authRequired && verb !== 'AUTH') {
      this.#unauthenticated += 1;
      if (this.#unauthenticated >= MAX_BAD_COMMANDS) return this.#send(421, 'Error: too many unauthenticated commands');
    }
    const transactional = verb === 'MAIL' || verb === 'RCPT' || verb === 'DATA';
    if (this.#greeted === null && (transactional || verb === 'AUTH')) return this.#send(503, 'Error: send HELO/EHLO first');
    if (authRequired && transactional) return this.#send(530, 'Error: authentication Required');
    const faults = this.#options.faults;
    if (faults !== undefined && faults.stages !== 0) {
      const stage = commandStage(verb);
      const fault = stage !== null && (faults.stages & BIT[stage]) !== 0 ? faults.check(stage, this.#session, line) : null;
      if (fault !== null) return this.#applyFault(fault, () => this.#dispatch(verb, line));
    }
    this.#dispatch(verb, line);
  }

  #dispatch(verb: string, line: string): void {
    switch (verb) {
      case 'EHLO':
        return this.#ehlo(line);
      case 'HELO':
        return this.#helo(line);
      case 'MAIL':
        return this.#mail(line);
      case 'RCPT':
        return this.#rcpt(line);
      case 'DATA':
        return this.#data();
      case 'RSET':
        this.#envelope = emptyEnvelope();
        return this.#send(250, 'Flushed');
      case 'NOOP':
        return this.#send(250, 'OK');
      case 'QUIT':
        this.#send(221, 'Bye');
        return this.close();
      case 'VRFY':
        if (!line.trim().split(/\s+/)[1]) return this.#send(501, 'Error: Syntax: VRFY address');
        return this.#send(252, 'Try to send something. No promises though');
      case 'HELP':
        return this.#send(214, 'See https://tools.ietf.org/html/rfc5321 for details');
      case 'STARTTLS':
        if (this.#hooks.intercept?.STARTTLS?.(line, this)) return;
        return this.#starttls(line);
      case 'AUTH':
        if (this.#hooks.intercept?.AUTH?.(line, this)) return;
        return this.#auth(line);
    }
  }

  /** The line as the transcript shows it: AUTH arguments and continuation lines are credentials. */
  #redacted(verb: string, line: string): string {
    if (this.#continuation) return REDACTED_CREDENTIALS;
    if (verb === 'AUTH') {
      const parts = line.trim().split(/\s+/);
      if (parts.length > 2) return `${parts.slice(0, 2).join(' ')} ${REDACTED_CREDENTIALS}`;
    }
    return line;
  }

  #isSupported(verb: string): boolean {
    switch (verb) {
      case 'EHLO':
      case 'HELO':
      case 'MAIL':
      case 'RCPT':
      case 'DATA':
      case 'RSET':
      case 'NOOP':
      case 'QUIT':
      case 'VRFY':
      case 'HELP':
        return true;
      case 'STARTTLS':
      case 'AUTH':
        return !this.#options.disabledCommands.includes(verb);
      default:
        return false;
    }
  }

  #helloName(line: string, syntax: string): string | null {
    const parts = line.trim().split(/\s+/);
    const hostname = parts[1] ?? '';
    if (parts.length !== 2) {
      this.#send(501, syntax);
      return null;
    }
    if (hostname.length > MAX_HELO_HOSTNAME_LENGTH || CONTROL_CHARS.test(hostname)) {
      this.#send(501, 'Error: Bad hostname syntax');
      return null;
    }
    return hostname.toLowerCase();
  }

  #ehlo(line: string): void {
    const hostname = this.#helloName(line, 'Error: syntax: EHLO hostname');
    if (hostname === null) return;
    this.#greeted = hostname;
    const options = this.#options;
    const features = [`${this.#name} Nice to meet you, ${this.#clientHostname}`, 'PIPELINING', '8BITMIME', 'SMTPUTF8'];
    if (options.authMethods.length > 0 && this.#isSupported('AUTH') && this.#user === null) features.push(['AUTH', ...options.authMethods].join(' '));
    if (!this.#secure && this.#isSupported('STARTTLS')) features.push('STARTTLS');
    if (this.#secure) features.push('REQUIRETLS');
    if (options.size) features.push(`SIZE ${options.size}`);
    this.#envelope = emptyEnvelope();
    this.#send(250, features);
  }

  #helo(line: string): void {
    const hostname = this.#helloName(line, 'Error: Syntax: HELO hostname');
    if (hostname === null) return;
    this.#greeted = hostname;
    this.#envelope = emptyEnvelope();
    this.#send(250, `${this.#name} Nice to meet you, ${this.#clientHostname}`);
  }

  /** 501 for a parameter given twice or one without its value; true when refused. */
  #refusedParams(parsed: { args: Record<string, string | true>; duplicate: string | null }, valued: readonly string[]): boolean {
    let error: string | null = null;
    if (parsed.duplicate) error = `Error: duplicate ${parsed.duplicate} parameter`;
    else {
      const valueless = valued.find((key) => parsed.args[key] !== undefined && (typeof parsed.args[key] !== 'string' || !parsed.args[key]));
      if (valueless) error = `Error: ${valueless} parameter requires a value`;
    }
    if (error === null) return false;
    this.#send(501, error);
    return true;
  }

  #mail(line: string): void {
    const parsed = parseAddressCommand('MAIL FROM', line);
    if (!parsed) return this.#send(501, 'Error: Bad sender address syntax');
    if (this.#refusedParams(parsed, MAIL_VALUE_PARAMS)) return;
    if (this.#envelope.mailFrom) return this.#send(503, 'Error: nested MAIL command');
    const { args } = parsed;
    const size = args.SIZE;
    if (typeof size === 'string') {
      if (!/^\d{1,20}$/.test(size)) return this.#send(501, 'Error: Bad message size syntax');
      if (this.#options.size && Number(size) > this.#options.size) {
        return this.#send(552, `Error: message exceeds fixed maximum message size ${this.#options.size}`);
      }
    }
    const body = typeof args.BODY === 'string' ? args.BODY.toLowerCase() : null;
    if (body !== null && body !== '7bit' && body !== '8bitmime') return this.#send(501, 'Invalid BODY parameter value. Must be 7BIT or 8BITMIME');
    if (args.SMTPUTF8 !== undefined && args.SMTPUTF8 !== true) return this.#send(501, 'Invalid SMTPUTF8 parameter. This flag does not accept a value');
    if (args.REQUIRETLS !== undefined) {
      if (!this.#secure) return this.#send(530, 'REQUIRETLS not permitted on non-TLS connections');
      if (args.REQUIRETLS !== true) return this.#send(501, 'Invalid REQUIRETLS parameter. This flag does not accept a value');
    }
    const envelope = this.#envelope;
    if (body !== null) envelope.bodyType = body;
    if (args.SMTPUTF8 === true) envelope.smtpUtf8 = true;
    if (args.REQUIRETLS === true) envelope.requireTLS = true;
    const address: SmtpAddress = { address: parsed.address, args };
    this.#ask((done) =>
      this.#options.onMailFrom(address, this.#session, (error) => {
        if (error) this.#send(error.responseCode ?? 550, error.message);
        else {
          this.#envelope.mailFrom = address;
          this.#send(250, 'Accepted');
        }
        done();
      }),
    );
  }

  #rcpt(line: string): void {
    const parsed = parseAddressCommand('RCPT TO', line);
    if (!parsed?.address) return this.#send(501, 'Error: Bad recipient address syntax');
    if (this.#refusedParams(parsed, RCPT_VALUE_PARAMS)) return;
    if (!this.#envelope.mailFrom) return this.#send(503, 'Error: need MAIL command');
    const address: SmtpAddress = { address: parsed.address, args: parsed.args };
    this.#ask((done) =>
      this.#options.onRcptTo(address, this.#session, (error) => {
        if (error) this.#send(error.responseCode ?? 550, error.message);
        else {
          // A repeated recipient (compared case-insensitively) replaces the earlier entry.
          const { rcptTo } = this.#envelope;
          const key = address.address.toLowerCase();
          const index = rcptTo.findIndex((rcpt) => rcpt.address.toLowerCase() === key);
          if (index >= 0) rcptTo[index] = address;
          else rcptTo.push(address);
          this.#send(250, 'Accepted');
        }
        done();
      }),
    );
  }

  /** Runs a handler that answers through a callback; input waits for it when it does not answer at once. */
  #ask(run: (done: () => void) => void): void {
    let answered = false;
    let waiting = false;
    run(() => {
      answered = true;
      if (waiting) this.#resume();
    });
    if (!answered) {
      waiting = true;
      this.#suspend();
    }
  }

  // --- DATA ------------------------------------------------------------------

  #data(): void {
    if (this.#envelope.rcptTo.length === 0) return this.#send(503, 'Error: need RCPT command');
    this.#message = new MessageReader(this.#options.size);
    this.#options.onDataStart?.(this.#session);
    this.#send(354, 'End data with <CR><LF>.<CR><LF>');
  }

  #readMessage(reader: MessageReader): void {
    const chunk = this.#pending as Buffer;
    const end = reader.read(chunk);
    if (end < 0) {
      this.#pending = null;
      return;
    }
    this.#pending = end < chunk.length ? chunk.subarray(end) : null;
    this.#message = null;
    const message: SmtpReceivedMessage = { raw: reader.message(), size: reader.size, sizeExceeded: reader.sizeExceeded };
    const faults = this.#options.faults;
    const fault = faults !== undefined && (faults.stages & BIT['end-of-data']) !== 0 ? faults.check('end-of-data', this.#session, null) : null;
    if (fault !== null) {
      if (fault.kind !== 'reply') return this.#applyFault(fault, () => this.#deliver(message));
      // Refused once it is in: the message is not kept, the transaction ends.
      this.#send(fault.code, fault.text);
      this.#envelope = emptyEnvelope();
      return;
    }
    this.#deliver(message);
  }

  #deliver(message: SmtpReceivedMessage): void {
    this.#ask((done) =>
      this.#options.onData(message, this.#session, (error, text) => {
        if (error) this.#send(error.responseCode ?? 450, error.message);
        else this.#send(250, text ?? 'OK: message queued');
        this.#unrecognized = 0;
        this.#envelope = emptyEnvelope();
        done();
      }),
    );
  }

  // --- STARTTLS ----------------------------------------------------------------

  #starttls(line: string): void {
    // RFC 3207: STARTTLS takes no parameters.
    if (line.trim().split(/\s+/).length > 1) return this.#send(501, 'Error: syntax: STARTTLS');
    if (this.#secure) return this.#send(503, 'Error: TLS already active');
    const starttls = this.#options.starttls;
    if (!starttls) return this.#send(454, 'TLS not available');
    this.#send(220, 'Ready to start TLS');
    // Whatever followed STARTTLS in plaintext is dropped: it must not run inside the TLS session.
    this.#pending = null;
    this.#upgrading = true;
    const plain = this.#socket;
    plain.off('data', this.#onData);
    const proceed = (): void => this.#upgrade(plain, starttls);
    if (this.#hooks.onStarttls) this.#hooks.onStarttls(plain, proceed);
    else proceed();
  }

  #upgrade(plain: net.Socket, options: NonNullable<SmtpEngineOptions['starttls']>): void {
    if (this.#closed) return;
    // The TLS socket has the idle timeout from now on; the plain one's close is still seen (once).
    plain.setTimeout(0);
    const secure = new tls.TLSSocket(plain, {
      isServer: true,
      secureContext: options.secureContext,
      requestCert: options.requestCert,
      rejectUnauthorized: options.rejectUnauthorized,
      SNICallback: (_servername, callback) => callback(null, options.secureContext),
    });
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      if (!secure.destroyed) secure.destroy();
      if (!plain.destroyed) plain.destroy();
      this.#error(handshakeError(error));
    };
    secure.once('close', this.#onSocketClose);
    secure.on('error', (error) => (this.#upgrading ? fail(error) : this.#error(error)));
    secure.setTimeout(this.#options.socketTimeoutMs, this.#onTimeout);
    // once: a TLS 1.2 client may renegotiate, and the session must not be reset again then.
    secure.once('secure', () => {
      if (this.#closed) return;
      const verifyError = verifyClientCertificate(secure, options);
      if (verifyError) {
        secure.destroy(verifyError);
        return;
      }
      this.#socket = secure;
      this.#secure = true;
      this.#upgrading = false;
      // RFC 3207 section 4.2: nothing learnt before STARTTLS survives it.
      this.#user = null;
      this.#greeted = null;
      this.#envelope = emptyEnvelope();
      this.#options.onSecure(secure, this.#session, () => {
        if (this.#closed || this.#closing) return;
        secure.on('data', this.#onData);
      });
    });
  }

  // --- AUTH --------------------------------------------------------------------

  #auth(line: string): void {
    const args = line.trim().split(/\s+/);
    args.shift();
    const method = (args.shift() ?? '').toUpperCase();
    if (this.#user !== null) return this.#send(503, 'Error: No identity changes permitted');
    if (!(this.#options.authMethods as readonly string[]).includes(method)) return this.#send(504, 'Error: Unrecognized authentication type');
    if (method === 'PLAIN') {
      if (args.length > 1) return this.#send(501, 'Error: syntax: AUTH PLAIN token');
      if (args.length === 0) {
        this.#continuation = (token) => this.#plain(true, token);
        return this.#send(334);
      }
      return this.#plain(false, args[0] as string);
    }
    if (method === 'LOGIN') {
      if (args.length > 1) return this.#send(501, 'Error: syntax: AUTH LOGIN');
      if (args.length === 0) {
        this.#continuation = (username) => this.#loginUsername(true, username);
        return this.#send(334, 'VXNlcm5hbWU6');
      }
      return this.#loginUsername(false, args[0] as string);
    }
    if (args.length > 0) return this.#send(501, 'Error: syntax: AUTH CRAM-MD5');
    const challenge = `<${randomBytes(16).toString('hex')}.${Math.floor(Date.now() / 1000)}@${this.#name}>`;
    this.#continuation = (token) => this.#cramMd5(challenge, token);
    this.#send(334, Buffer.from(challenge).toString('base64'));
  }

  #aborted(canAbort: boolean, token: string): boolean {
    if (!canAbort || token !== '*') return false;
    this.#send(501, 'Authentication aborted');
    return true;
  }

  #plain(canAbort: boolean, raw: string): void {
    const token = raw.trim();
    if (this.#aborted(canAbort, token)) return;
    const fields = Buffer.from(token, 'base64').toString().split('\x00');
    if (fields.length !== 3) return this.#send(501, 'Error: invalid userdata');
    const [authzid = '', authcid = '', password = ''] = fields;
    const username = authcid || authzid;
    if (CONTROL_CHARS.test(username) || CONTROL_CHARS.test(authzid)) return this.#send(501, 'Error: invalid userdata');
    this.#authenticate({ method: 'PLAIN', username, password, validatePassword: (known) => known === password });
  }

  #loginUsername(canAbort: boolean, raw: string): void {
    const token = raw.trim();
    if (this.#aborted(canAbort, token)) return;
    const username = Buffer.from(token, 'base64').toString();
    if (!username) return this.#send(501, 'Error: missing username');
    if (CONTROL_CHARS.test(username)) return this.#send(501, 'Error: invalid userdata');
    this.#continuation = (rawPassword) => {
      const passwordToken = rawPassword.trim();
      if (this.#aborted(true, passwordToken)) return;
      const password = Buffer.from(passwordToken, 'base64').toString();
      this.#authenticate({ method: 'LOGIN', username, password, validatePassword: (known) => known === password });
    };
    this.#send(334, 'UGFzc3dvcmQ6');
  }

  #cramMd5(challenge: string, raw: string): void {
    const token = raw.trim();
    if (this.#aborted(true, token)) return;
    const [username = '', response = ''] = Buffer.from(token, 'base64').toString().split(' ');
    const challengeResponse = response.toLowerCase();
    if (CONTROL_CHARS.test(username)) return this.#send(501, 'Error: invalid userdata');
    this.#authenticate({
      method: 'CRAM-MD5',
      username,
      password: null,
      validatePassword(password) {
        const expected = Buffer.from(createHmac('md5', password).update(challenge).digest('hex'));
        const received = Buffer.from(challengeResponse);
        return expected.length === received.length && timingSafeEqual(expected, received);
      },
    });
  }

  #authenticate(auth: SmtpAuthentication): void {
    const faults = this.#options.faults;
    const fault = faults !== undefined && (faults.stages & BIT.auth) !== 0 ? faults.check('auth', this.#session, auth.username) : null;
    if (fault !== null) return this.#applyFault(fault, () => this.#checkCredentials(auth));
    this.#checkCredentials(auth);
  }

  #checkCredentials(auth: SmtpAuthentication): void {
    this.#ask((done) =>
      this.#options.onAuth(auth, this.#session, (error, user) => {
        if (error) this.#send(error.responseCode ?? 535, error.message);
        else if (user === undefined) this.#send(535, 'Error: Authentication credentials invalid');
        else {
          this.#user = user;
          this.#send(235, 'Authentication successful');
        }
        done();
      }),
    );
  }

  // --- faults ------------------------------------------------------------------------

  /** Does what a fault rule asks instead of, or around, `proceed` (the usual handling). */
  #applyFault(fault: SmtpFault, proceed: () => void): void {
    switch (fault.kind) {
      case 'reply':
        return this.#send(fault.code, fault.text);
      case 'delay': {
        this.#suspend();
        const timer = setTimeout(() => {
          if (this.#closing || this.#closed) return;
          this.#busy = false;
          proceed();
          if (!this.#busy && !this.#closing && !this.#upgrading) this.#resume();
        }, fault.ms);
        timer.unref();
        return;
      }
      case 'disconnect':
        return this.#drop();
      case 'slowReply':
        this.#slowReplyMs = fault.byteDelayMs;
        proceed();
        // The handling wrote nothing (it waits for a handler): the next reply is the slow one.
        return;
      case 'disconnectMidData':
        proceed();
        if (this.#message === null) return;
        // Dropped once the message starts to arrive, before a byte of it is kept.
        if (this.#pending !== null) return this.#drop();
        this.#socket.prependOnceListener('data', () => this.#drop());
        return;
      case 'tlsFailure': {
        this.#send(220, 'Ready to start TLS');
        this.#upgrading = true;
        this.#pending = null;
        const socket = this.#socket;
        socket.off('data', this.#onData);
        // The ClientHello is answered with a fatal alert, as by a server that cannot agree on a handshake.
        socket.once('data', () => {
          socket.end(TLS_HANDSHAKE_FAILURE_ALERT);
          const timer = setTimeout(() => socket.destroy(), HALF_CLOSE_TIMEOUT_MS);
          timer.unref();
        });
        return;
      }
    }
  }

  /** Ends the connection at once, without a reply (what a crashed or overloaded server does). */
  #drop(): void {
    this.#closing = true;
    this.#pending = null;
    this.#socket.destroy();
  }

  /** Writes one reply, then closes the connection. */
  #closeAfter(code: number, text: string): void {
    this.#send(code, text);
    this.close();
  }

  /** Writes a reply one byte at a time; input waits until the last byte is out. */
  #sendSlowly(code: number, payload: string): void {
    const byteDelayMs = this.#slowReplyMs;
    this.#slowReplyMs = 0;
    const bytes = Buffer.from(`${payload}\r\n`);
    const socket = this.#socket;
    this.#slowWriting = true;
    this.#suspend();
    let sent = 0;
    const next = (): void => {
      if (this.#closed || socket.destroyed || !socket.writable) return;
      socket.write(bytes.subarray(sent, sent + 1));
      sent += 1;
      if (sent < bytes.length) {
        setTimeout(next, byteDelayMs).unref();
        return;
      }
      this.#options.transcript.reply(this.id, payload);
      this.#slowWriting = false;
      if (code === 421) return this.close();
      this.#resume();
    };
    next();
  }

  // --- errors, timeouts, close -----------------------------------------------------

  #error(error: Error & { code?: string }): void {
    this.#options.transcript.error(this.id, error);
    // A client that resets outside a transaction is just gone.
    if (error.code && QUIET_SOCKET_ERRORS.has(error.code) && !this.#envelope.mailFrom) {
      this.close();
      return;
    }
    this.#hooks.onError?.(error);
  }

  #timedOut(): void {
    if (this.#closing) {
      this.#socket.destroy();
      return;
    }
    // The client waits for us (a handler has not answered): RFC 5321 section 4.5.3.2 lets it.
    if (this.#busy) {
      this.#socket.setTimeout(this.#options.socketTimeoutMs, this.#onTimeout);
      return;
    }
    this.#send(421, 'Timeout - closing connection');
  }

  #onClose(): void {
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#message = null;
    this.#pending = null;
    setImmediate(() => this.#options.onClose(this.#session));
  }
}

export { replyError };
