import type { Socket } from 'node:net';

const LF = 0x0a;

/** Options of {@link CommandDeadlines}. */
export interface CommandDeadlinesOptions {
  /**
   * Time from the first byte of a command line to its line end, and from the server's 220 reply
   * to STARTTLS to the end of the TLS handshake.
   */
  commandTimeoutMs: number;
  /** Time from the start of a DATA phase to its end. */
  dataTimeoutMs: number;
  /** A command line took too long, or (`handshake`) the TLS handshake after an accepted STARTTLS did. */
  onCommandTimeout(kind: 'command' | 'handshake'): void;
  /** A DATA phase took too long. */
  onDataTimeout(): void;
}

/**
 * Absolute time limits per SMTP command line and per DATA phase. An idle timeout (the engine's
 * `socketTimeout`) restarts on every byte, so a client sending one byte every few seconds would
 * hold a connection for ever; these deadlines do not move once started.
 */
export class CommandDeadlines {
  readonly #options: CommandDeadlinesOptions;
  #socket: Socket | null = null;
  #commandTimer: NodeJS.Timeout | null = null;
  #dataTimer: NodeJS.Timeout | null = null;
  /** A STARTTLS handshake is under way: its deadline runs whatever bytes arrive. */
  #handshaking = false;
  readonly #onData = (chunk: Buffer | string): void => this.#received(chunk);

  constructor(options: CommandDeadlinesOptions) {
    this.#options = options;
  }

  /**
   * Watches the bytes arriving on `socket`; called again with the TLS socket once a STARTTLS
   * handshake is complete, which ends its deadline: a new command line starts there.
   */
  watch(socket: Socket): void {
    this.#socket?.off('data', this.#onData);
    this.#handshaking = false;
    this.#clearCommand();
    this.#socket = socket;
    socket.on('data', this.#onData);
  }

  /**
   * The server accepted STARTTLS (220) and hands the socket to TLS: the handshake has the command
   * deadline from now on, and bytes (a ClientHello trickling in, anything ending in a line feed)
   * do not move it. It ends with {@link watch} on the secured socket, or {@link stop}.
   */
  handshakeStarted(): void {
    this.#clearCommand();
    this.#handshaking = true;
    this.#startCommand('handshake');
  }

  /** A DATA phase started: its own deadline replaces the command line's. */
  dataStarted(): void {
    this.#clearCommand();
    this.#clearData();
    this.#dataTimer = setTimeout(() => {
      this.#dataTimer = null;
      this.#options.onDataTimeout();
    }, this.#options.dataTimeoutMs);
    this.#dataTimer.unref();
  }

  /** The DATA phase ended (the message was received, or refused). */
  dataEnded(): void {
    this.#clearData();
  }

  /** Stops every timer and stops watching. */
  stop(): void {
    this.#handshaking = false;
    this.#clearCommand();
    this.#clearData();
    this.#socket?.off('data', this.#onData);
    this.#socket = null;
  }

  #received(chunk: Buffer | string): void {
    if (this.#dataTimer !== null || this.#handshaking) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const lastLineEnd = bytes.lastIndexOf(LF);
    if (lastLineEnd === bytes.length - 1) this.#clearCommand();
    else if (lastLineEnd >= 0) {
      // A line ended and the next one began in this chunk: its deadline starts now.
      this.#clearCommand();
      this.#startCommand();
    } else if (this.#commandTimer === null) this.#startCommand();
  }

  #startCommand(kind: 'command' | 'handshake' = 'command'): void {
    this.#commandTimer = setTimeout(() => {
      this.#commandTimer = null;
      this.#options.onCommandTimeout(kind);
    }, this.#options.commandTimeoutMs);
    this.#commandTimer.unref();
  }

  #clearCommand(): void {
    if (this.#commandTimer !== null) clearTimeout(this.#commandTimer);
    this.#commandTimer = null;
  }

  #clearData(): void {
    if (this.#dataTimer !== null) clearTimeout(this.#dataTimer);
    this.#dataTimer = null;
  }
}
