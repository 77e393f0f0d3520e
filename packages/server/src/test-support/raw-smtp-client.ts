import net from 'node:net';
import tls from 'node:tls';

const DEFAULT_REPLY_TIMEOUT_MS = 10_000;
const REPLY_LINE = /^(\d{3})([ -])(.*)$/;

/** One SMTP reply, possibly multi-line. */
export interface SmtpReply {
  code: number;
  /** The text of every line, without the code and separator. */
  lines: string[];
  /** Every line as received, e.g. `250-SIZE 1024`. */
  raw: string[];
}

/** What the client itself observed of an established TLS connection. */
export interface ClientTlsView {
  protocol: string | null;
  cipher: { name: string; standardName: string; version: string } | null;
  /** The SNI name the client sent, or null (Node.js sends none for IP addresses). */
  servername: string | null;
  /** Whether the client authorized the server certificate. */
  authorized: boolean;
  /** SHA-256 fingerprint of the certificate the client presented, if any. */
  localCertificateFingerprint256: string | null;
  resumed: boolean;
}

/** Reads the client's own view of a TLS socket; call it while the socket is open. */
export function clientTlsViewOf(socket: tls.TLSSocket, servername: string | null): ClientTlsView {
  const cipher = socket.getCipher();
  const local = socket.getCertificate();
  const fingerprint = local && 'fingerprint256' in local && typeof local.fingerprint256 === 'string' ? local.fingerprint256 : null;
  return {
    protocol: socket.getProtocol() ?? null,
    cipher: cipher ? { name: cipher.name, standardName: cipher.standardName, version: cipher.version } : null,
    servername,
    authorized: socket.authorized,
    localCertificateFingerprint256: fingerprint,
    resumed: socket.isSessionReused(),
  };
}

/** Options of {@link RawSmtpClient.connect}. */
export interface RawSmtpConnectOptions {
  host: string;
  port: number;
  /** Set for implicit TLS (SMTPS): the TLS options of the handshake on connect. */
  implicitTls?: tls.ConnectionOptions;
  /** How long to wait for each reply. Default 10 s. */
  replyTimeoutMs?: number;
}

/** A message transaction for {@link RawSmtpClient.sendMessage}. */
export interface RawTransaction {
  from: string;
  to: readonly string[];
  /** The message exactly as it should be stored; dot-stuffing is applied on the wire. */
  data: Buffer | string;
  /** Extra MAIL FROM parameters, e.g. `SIZE=10`. */
  mailParams?: string;
}

/** Replies of one transaction; `data` is null when DATA was never reached. */
export interface TransactionReplies {
  mail: SmtpReply;
  rcpt: SmtpReply[];
  data: SmtpReply | null;
  /** The reply after the final dot. */
  final: SmtpReply | null;
}

/**
 * Dot-stuffs a message for the DATA phase (RFC 5321 section 4.5.2) and appends the
 * terminator: a line starting with "." is sent with an extra ".".
 */
export function dotStuff(message: Buffer | string): Buffer {
  const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  const text = bytes.toString('latin1').replace(/(^|\r\n)\./g, '$1..');
  const ending = text.endsWith('\r\n') || text === '' ? '' : '\r\n';
  return Buffer.from(`${text}${ending}.\r\n`, 'latin1');
}

/**
 * A deliberately small SMTP client over `net`/`tls`, for tests that need the client's own
 * view of the connection (the TLS socket after STARTTLS) or need to send bytes no
 * well-behaved client would.
 */
export class RawSmtpClient {
  /** The greeting (220) of the server. */
  greeting!: SmtpReply;
  /** Capabilities of the last EHLO reply, upper-cased, first word of each line. */
  capabilities: string[] = [];
  /** The client's view of TLS, once TLS is up. */
  tls: ClientTlsView | null = null;

  private socket: net.Socket | tls.TLSSocket;
  private buffer = '';
  private readonly pending: string[] = [];
  private waiter: { resolve: (reply: SmtpReply) => void; reject: (error: Error) => void; timer: NodeJS.Timeout } | null = null;
  private queued: SmtpReply[] = [];
  private ended: Error | null = null;
  private readonly replyTimeoutMs: number;
  private readonly closedPromise: Promise<void>;
  private markClosed!: () => void;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);

  private constructor(socket: net.Socket | tls.TLSSocket, replyTimeoutMs: number) {
    this.socket = socket;
    this.replyTimeoutMs = replyTimeoutMs;
    this.closedPromise = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    this.attach(socket);
    socket.once('close', () => {
      this.fail(new Error(`connection closed${this.buffer ? ` with unparsed data ${JSON.stringify(this.buffer.slice(0, 200))}` : ''}`));
      this.markClosed();
    });
  }

  /** Connects (with the TLS handshake for implicit TLS) and reads the greeting. */
  static async connect(options: RawSmtpConnectOptions): Promise<RawSmtpClient> {
    const socket = await new Promise<net.Socket | tls.TLSSocket>((resolve, reject) => {
      const connected = options.implicitTls
        ? tls.connect({ host: options.host, port: options.port, ...options.implicitTls }, () => resolve(connected))
        : net.connect({ host: options.host, port: options.port }, () => resolve(connected));
      connected.once('error', reject);
    });
    const client = new RawSmtpClient(socket, options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS);
    socket.on('error', (error) => client.fail(error));
    if (socket instanceof tls.TLSSocket) {
      client.tls = clientTlsViewOf(socket, typeof options.implicitTls?.servername === 'string' ? options.implicitTls.servername : null);
    }
    client.greeting = await client.readReply();
    return client;
  }

  /** The underlying socket (the TLS socket after STARTTLS). */
  get currentSocket(): net.Socket | tls.TLSSocket {
    return this.socket;
  }

  /** Resolves when the connection is closed. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Whether the server has closed the connection (or it failed). */
  get isClosed(): boolean {
    return this.ended !== null;
  }

  private attach(socket: net.Socket): void {
    socket.on('data', this.onData);
  }

  private receive(chunk: Buffer): void {
    this.buffer += chunk.toString('latin1');
    let index: number;
    while ((index = this.buffer.indexOf('\r\n')) !== -1) {
      const line = this.buffer.slice(0, index);
      this.buffer = this.buffer.slice(index + 2);
      this.pending.push(line);
      const match = REPLY_LINE.exec(line) ?? /^(\d{3})()$/.exec(line);
      if (match && match[2] !== '-') {
        const raw = this.pending.splice(0);
        const reply: SmtpReply = { code: Number(match[1]), lines: raw.map((text) => text.slice(4)), raw };
        if (this.waiter) {
          const { resolve, timer } = this.waiter;
          clearTimeout(timer);
          this.waiter = null;
          resolve(reply);
        } else this.queued.push(reply);
      }
    }
  }

  private fail(error: Error): void {
    if (this.ended) return;
    this.ended = error;
    if (this.waiter) {
      const { reject, timer } = this.waiter;
      clearTimeout(timer);
      this.waiter = null;
      reject(error);
    }
  }

  /** The next reply from the server. */
  readReply(): Promise<SmtpReply> {
    const queued = this.queued.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(this.ended);
    if (this.waiter) return Promise.reject(new Error('a reply is already awaited'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no SMTP reply within ${this.replyTimeoutMs} ms`));
      }, this.replyTimeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  /** Writes bytes as they are, without waiting for anything. */
  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Sends one command line (CRLF appended) and reads its reply. */
  /** The client's own port, as the server records it (`remotePort`). */
  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  async command(line: Buffer | string): Promise<SmtpReply> {
    this.write(typeof line === 'string' ? `${line}\r\n` : Buffer.concat([line, Buffer.from('\r\n')]));
    return this.readReply();
  }

  /** EHLO, remembering the advertised capabilities. */
  async ehlo(name = 'client.mailwright.test'): Promise<SmtpReply> {
    const reply = await this.command(`EHLO ${name}`);
    if (reply.code === 250) this.capabilities = reply.lines.slice(1).map((line) => (line.split(' ')[0] ?? '').toUpperCase());
    return reply;
  }

  /**
   * STARTTLS and the handshake; returns the client's view of the TLS connection.
   * Throws when the server does not answer 220.
   */
  async starttls(options: tls.ConnectionOptions = {}): Promise<ClientTlsView> {
    const reply = await this.command('STARTTLS');
    if (reply.code !== 220) throw new Error(`STARTTLS refused: ${reply.raw.join(' | ')}`);
    const plain = this.socket;
    plain.off('data', this.onData);
    const secured = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const socket = tls.connect({ ...options, socket: plain }, () => resolve(socket));
      socket.once('error', reject);
    });
    secured.on('error', (error) => this.fail(error));
    this.socket = secured;
    this.attach(secured);
    this.tls = clientTlsViewOf(secured, typeof options.servername === 'string' ? options.servername : null);
    return this.tls;
  }

  /** AUTH PLAIN with an initial response. */
  authPlain(username: string, password: string): Promise<SmtpReply> {
    return this.command(`AUTH PLAIN ${Buffer.from(`\0${username}\0${password}`).toString('base64')}`);
  }

  /**
   * MAIL, RCPT (each), DATA and the dot-stuffed message. Stops at the first reply that
   * does not let the transaction go on (MAIL not 250, no RCPT accepted, DATA not 354).
   */
  async sendMessage(transaction: RawTransaction): Promise<TransactionReplies> {
    const mail = await this.command(`MAIL FROM:<${transaction.from}>${transaction.mailParams ? ` ${transaction.mailParams}` : ''}`);
    const replies: TransactionReplies = { mail, rcpt: [], data: null, final: null };
    if (mail.code !== 250) return replies;
    for (const recipient of transaction.to) replies.rcpt.push(await this.command(`RCPT TO:<${recipient}>`));
    if (!replies.rcpt.some((reply) => reply.code === 250)) return replies;
    replies.data = await this.command('DATA');
    if (replies.data.code !== 354) return replies;
    this.write(dotStuff(transaction.data));
    replies.final = await this.readReply();
    return replies;
  }

  /** QUIT, then waits for the server to close the connection. */
  async quit(): Promise<void> {
    if (this.ended) return;
    try {
      await this.command('QUIT');
    } catch {
      // already gone
    }
    this.socket.end();
    await this.closedPromise;
  }

  /** Destroys the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }
}
