import type { Socket } from 'node:net';

const LF = 0x0a;
const STARTTLS_LINE = /^STARTTLS\s*$/i;
/** Longer chunks cannot end with a bare STARTTLS line worth looking at: it is short. */
const STARTTLS_CHUNK_MAX = 64;

/** Options of {@link CommandDeadlines}. */
export interface CommandDeadlinesOptions {
  /**
   * Time from the first byte of a command line to its line end, and from a STARTTLS command to
   * the end of its TLS handshake.
   */
  commandTimeoutMs: number;
  /** Time from the start of a DATA phase to its end. */
  dataTimeoutMs: number;
  /**
   * A command line took too long, or (`handshake`) the TLS handshake after a STARTTLS line did;
   * the handshake may also not have started, when STARTTLS was refused.
   */
  onCommandTimeout(kind: 'command' | 'handshake'): void;
  /** A DATA phase took too long. */
  onDataTimeout(): void;
}

/**
 * Absolute time limits per SMTP command line and per DATA phase. An idle timeout (smtp-server's
 * `socketTimeout`) restarts on every byte, so a client sending one byte every few seconds would
 * hold a connection for ever; these deadlines do not move once started.
 */
export class CommandDeadlines {
  readonly #options: CommandDeadlinesOptions;
  #socket: Socket | null = null;
  #commandTimer: NodeJS.Timeout | null = null;
  #dataTimer: NodeJS.Timeout | null = null;
  readonly #onData = (chunk: Buffer | string): void => this.#received(chunk);

  constructor(options: CommandDeadlinesOptions) {
    this.#options = options;
  }

  /**
   * Watches the bytes arriving on `socket`; called again with the TLS socket after STARTTLS,
   * where a new command line starts.
   */
  watch(socket: Socket): void {
    this.#socket?.off('data', this.#onData);
    this.#clearCommand();
    this.#socket = socket;
    socket.on('data', this.#onData);
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
    this.#clearCommand();
    this.#clearData();
    this.#socket?.off('data', this.#onData);
    this.#socket = null;
  }

  #received(chunk: Buffer | string): void {
    if (this.#dataTimer !== null) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const lastLineEnd = bytes.lastIndexOf(LF);
    if (lastLineEnd === bytes.length - 1) {
      this.#clearCommand();
      // After STARTTLS the bytes go to the TLS handshake, which gets the same deadline until
      // watch() is given the TLS socket.
      if (bytes.length <= STARTTLS_CHUNK_MAX) {
        const line = bytes.toString('latin1').trimEnd();
        if (STARTTLS_LINE.test(line.slice(line.lastIndexOf('\n') + 1))) this.#startCommand('handshake');
      }
    } else if (lastLineEnd >= 0) {
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
