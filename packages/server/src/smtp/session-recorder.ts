import type { TLSSocket } from 'node:tls';
import { readTlsInfo, tlsFailureCode } from './tls-info.js';
import { plaintextTlsInfo, type AuthInfo, type SessionError, type SmtpSession } from '@mailwright/core';
import type { ClientHelloInfo } from './client-hello.js';
import type { FaultFiring } from '../faults/fault-registry.js';
import { REDACTED_CREDENTIALS } from './smtp-engine.js';
import { sharedString } from '../store/own-string.js';

const MAX_TRANSCRIPT_LINES = 500;
/** Characters of transcript kept per session: a client cannot make one session take more. */
export const MAX_TRANSCRIPT_CHARS = 64 * 1024;
const MAX_MESSAGE_IDS = 1000;
/** Fired faults kept per session. */
const MAX_FAULTS = 100;
const MAX_LINE_LENGTH = 512;
const GREETING = /^(HELO|EHLO|LHLO)(?:\s+(\S+))?/i;
/** An AUTH initial response or continuation line, as the engine logs it: redacted. */
const SECRET_LINE = new RegExp(`^(?:AUTH\\s+\\S+\\s+)?${REDACTED_CREDENTIALS.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'i');
const STARTTLS_FEATURE = /^250[ -]STARTTLS\s*$/im;
/** Command verbs that end an AUTH exchange; any other line right after AUTH is taken for credentials. */
const SMTP_VERBS = new Set([
  'HELO',
  'EHLO',
  'LHLO',
  'MAIL',
  'RCPT',
  'DATA',
  'BDAT',
  'RSET',
  'NOOP',
  'QUIT',
  'VRFY',
  'EXPN',
  'HELP',
  'STARTTLS',
  'AUTH',
  'XCLIENT',
  'XFORWARD',
]);

/** Where a connection came from. */
export interface SessionOrigin {
  id: string;
  listener: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/**
 * Builds the SmtpSession record of one connection: timings, TLS, AUTH and the
 * transcript. It only ever sees redacted command lines.
 */
export class SessionRecorder {
  readonly session: SmtpSession;
  private readonly openedAtMs: number;
  private commandsSinceTls = 0;
  /** STARTTLS was accepted (220) and the handshake has not completed yet. */
  private upgradeInProgress = false;
  private upgradeError: unknown = null;
  /** The last command was AUTH: lines that are no command are credentials, even when AUTH was refused. */
  private inAuthExchange = false;
  /** The verb of the client's last line, upper case. */
  private lastVerb = '';
  private transcriptChars = 0;
  private transcriptFull = false;
  /** The SNI of the client's latest ClientHello, read from the wire. */
  private helloServername: string | null = null;

  constructor(origin: SessionOrigin, openedAtMs = Date.now()) {
    this.openedAtMs = openedAtMs;
    // Spelled out: spreading `origin` into a literal this size costs V8 a slow path (~12 µs).
    this.session = {
      id: origin.id,
      listener: origin.listener,
      localPort: origin.localPort,
      remoteAddress: origin.remoteAddress,
      remotePort: origin.remotePort,
      openedAt: new Date(openedAtMs).toISOString(),
      closedAt: null,
      greeting: null,
      clientName: null,
      tls: Object.freeze(plaintextTlsInfo()),
      auth: null,
      authBeforeTls: false,
      transcript: [],
      messageIds: [],
      error: null,
    };
  }

  /** A fault rule fired: listed in `session.faults` and noted in the transcript. */
  faultFired(firing: FaultFiring): void {
    const at = Date.now() - this.openedAtMs;
    const faults = (this.session.faults ??= []);
    if (faults.length < MAX_FAULTS)
      faults.push({
        rule: firing.rule,
        at: firing.at,
        action: firing.action,
        code: firing.code,
        argument: firing.argument,
        sender: firing.sender,
        recipients: firing.recipients,
        atMs: at,
      });
    const { fault } = firing;
    const effect =
      fault.kind === 'reply'
        ? `reply ${fault.code}`
        : fault.kind === 'delay'
          ? `delay ${fault.ms} ms`
          : fault.kind === 'slowReply'
            ? `slow reply, ${fault.byteDelayMs} ms a byte`
            : fault.kind;
    this.append('server', `(fault ${firing.rule} at ${firing.at}: ${effect})`, firing.rule);
    if (fault.kind === 'tlsFailure')
      this.failed({ stage: 'tls', code: 'handshake_failure', message: `The TLS handshake was failed by fault rule ${firing.rule}` });
    if (fault.kind === 'disconnect' || fault.kind === 'disconnectMidData') {
      this.failed({ stage: 'smtp', code: 'fault_disconnect', message: `The connection was dropped by fault rule ${firing.rule} at ${firing.at}` });
    }
  }

  private append(dir: 'client' | 'server', line: string, fault?: string): void {
    if (this.transcriptFull) return;
    const { transcript } = this.session;
    const clipped = line.length > MAX_LINE_LENGTH ? `${line.slice(0, MAX_LINE_LENGTH)}… (${line.length} characters)` : line;
    const at = Date.now() - this.openedAtMs;
    this.transcriptChars += clipped.length;
    if (transcript.length === MAX_TRANSCRIPT_LINES - 1 || this.transcriptChars > MAX_TRANSCRIPT_CHARS) {
      // The last line says why the rest is missing.
      this.transcriptFull = true;
      transcript.push({ at, dir, line: `… transcript truncated (at most ${MAX_TRANSCRIPT_LINES} lines and ${MAX_TRANSCRIPT_CHARS} characters are kept)` });
      return;
    }
    // Commands and replies repeat from message to message: one copy of each is kept.
    const shared = sharedString(clipped);
    transcript.push(fault === undefined ? { at, dir, line: shared } : { at, dir, line: shared, fault });
  }

  /** A command line from the client (already redacted by the engine). */
  client(received: string): void {
    // The engine redacts continuation lines only inside an AUTH exchange it accepted; after a
    // refused AUTH (auth off, 538 before STARTTLS) a client still sends its credentials.
    const verb = /^\S*/.exec(received)?.[0].toUpperCase() ?? '';
    let line = received;
    this.lastVerb = verb;
    if (SMTP_VERBS.has(verb)) this.inAuthExchange = verb === 'AUTH';
    else if (this.inAuthExchange) line = REDACTED_CREDENTIALS;
    this.append('client', line);
    if (this.session.tls.mode !== 'none') this.commandsSinceTls += 1;
    // A secret on the wire in plaintext, whatever the server makes of it: an AUTH initial
    // response or an AUTH continuation line (both already redacted).
    else if (SECRET_LINE.test(line)) this.session.authBeforeTls = true;
    const greeting = GREETING.exec(line);
    if (greeting) {
      this.session.greeting = (greeting[1] as string).toUpperCase() as 'HELO' | 'EHLO' | 'LHLO';
      this.session.clientName = greeting[2] ?? null;
    }
  }

  /** A reply from the server; multi-line replies become one transcript line each. */
  server(payload: string): void {
    for (const line of payload.split('\r\n')) if (line !== '') this.append('server', line);
    // From the last command, not the transcript: a full transcript no longer records either line.
    if (payload.startsWith('220 ') && this.session.tls.mode === 'none' && this.lastVerb === 'STARTTLS') this.upgradeInProgress = true;
    if (this.session.tls.mode === 'none' && !this.session.tls.starttlsOffered && STARTTLS_FEATURE.test(payload)) {
      this.session.tls = Object.freeze(plaintextTlsInfo(true));
    }
  }

  /** The client's ClientHello, as read from the wire before the handshake. */
  clientHello(hello: ClientHelloInfo): void {
    this.helloServername = hello.servername;
  }

  /** TLS was established on `socket` (implicitly or after STARTTLS). */
  secured(socket: TLSSocket, mode: 'starttls' | 'implicit'): void {
    this.upgradeInProgress = false;
    // RFC 3207 section 4.2: an identity from before STARTTLS does not survive it (authBeforeTls
    // and the transcript still tell that credentials went over plaintext).
    if (mode === 'starttls') this.session.auth = null;
    const tls = readTlsInfo(socket, mode, this.session.tls.starttlsOffered);
    // OpenSSL reports no SNI for a resumed TLS 1.2 session; the ClientHello had it.
    if (tls.servername === null) tls.servername = this.helloServername;
    // Frozen, so that every message of the session can share it.
    this.session.tls = Object.freeze(tls);
  }

  /**
   * A TLS handshake failed: the record says what was attempted (`mode`, the SNI the client
   * sent) with no protocol or cipher, and `error` says how it failed.
   */
  handshakeFailed(mode: 'starttls' | 'implicit', error: SessionError): void {
    this.upgradeInProgress = false;
    this.session.tls = Object.freeze({ ...plaintextTlsInfo(this.session.tls.starttlsOffered), mode, servername: this.helloServername });
    this.failed(error);
  }

  /** The client sent credentials; `secure` tells whether the connection was encrypted. */
  credentialsSent(secure: boolean): void {
    if (!secure) this.session.authBeforeTls = true;
  }

  authenticated(auth: AuthInfo): void {
    this.session.auth = auth;
  }

  messageStored(id: string): void {
    const { messageIds } = this.session;
    messageIds.push(id);
    // A pooled connection can carry any number of messages: keep the newest ids.
    if (messageIds.length > MAX_MESSAGE_IDS) messageIds.splice(0, messageIds.length - MAX_MESSAGE_IDS);
  }

  /** Whether a STARTTLS handshake is under way: an error now is a TLS failure, named when the connection closes. */
  get upgrading(): boolean {
    return this.upgradeInProgress;
  }

  /** A socket or TLS error of the connection; during a STARTTLS handshake it names the failure. */
  connectionError(error: unknown): void {
    if (this.upgradeInProgress && this.upgradeError === null) this.upgradeError = error ?? null;
  }

  failed(error: SessionError): void {
    if (this.session.error === null) this.session.error = error;
  }

  /** The connection closed; a TLS session that carried no command was rejected by the client. */
  closed(): void {
    if (this.session.closedAt !== null) return;
    this.session.closedAt = new Date().toISOString();
    if (this.session.error === null && this.upgradeInProgress) {
      const cause = this.upgradeError as { message?: string } | null;
      this.handshakeFailed('starttls', {
        stage: 'tls',
        code: tlsFailureCode(cause),
        message: cause?.message ?? 'The client closed the connection during the STARTTLS handshake (it probably rejected the certificate).',
      });
    }
    if (this.session.error === null && this.session.tls.mode !== 'none' && this.commandsSinceTls === 0) {
      this.session.error = {
        stage: 'tls',
        code: 'closed_after_handshake',
        message: 'The client closed the connection right after the TLS handshake without sending a command (it probably rejected the certificate).',
      };
    }
  }
}
