const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const DOT_BYTES = Buffer.from('.');
const DOT_CR_BYTES = Buffer.from('.\r');

/** Where the reader is in its input, carried from one chunk to the next. */
const enum ReaderState {
  /** Inside a line. */
  Text,
  /** After a CR inside a line. */
  Cr,
  /** At the start of a line that follows CRLF (or at the start of the message). */
  LineStart,
  /** At the start of a line that follows a bare LF. */
  BareLineStart,
  /** After a dot that starts a line following CRLF: held back. */
  Dot,
  /** After a dot that starts a line following a bare LF: held back. */
  BareDot,
  /** After CRLF "." CR: held back, the end of the message if LF follows. */
  DotCr,
}

/**
 * Reads the message an SMTP client sends after DATA, from chunks cut anywhere: a doubled dot at
 * the start of a line loses one dot (RFC 5321 section 4.5.2), CRLF.CRLF ends the message, and
 * the message is kept up to a size limit (the bytes beyond are counted, not kept). A dot (and the
 * CR after it) that may belong to the end marker is held back until the next byte decides. As
 * smtp-server did, a dot that starts a line and is not doubled is kept as data, and a line after
 * a bare LF is unstuffed but cannot end the message.
 */
export class MessageReader {
  readonly #maxSize: number;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  #exceeded = false;
  #state = ReaderState.LineStart;

  /** @param maxSize bytes kept at most (0: no limit). */
  constructor(maxSize: number) {
    this.#maxSize = maxSize > 0 ? maxSize : Number.POSITIVE_INFINITY;
  }

  /** Bytes of message received so far (dot-unstuffed), kept or not. */
  get size(): number {
    return this.#size;
  }

  /** The message went over the size limit: its bytes are no longer kept. */
  get sizeExceeded(): boolean {
    return this.#exceeded;
  }

  /**
   * Reads one chunk. Returns -1 when the whole chunk was message, else the offset in `chunk`
   * right after the end marker (what follows is the client's next command).
   */
  read(chunk: Buffer): number {
    let state = this.#state;
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (state === ReaderState.Text || state === ReaderState.Cr) {
        // Inside a line only its end matters: skip to the next LF natively.
        const lineEnd = chunk.indexOf(LF, i);
        if (lineEnd < 0) {
          state = chunk[chunk.length - 1] === CR ? ReaderState.Cr : ReaderState.Text;
          break;
        }
        const afterCr = lineEnd > i ? chunk[lineEnd - 1] === CR : state === ReaderState.Cr;
        state = afterCr ? ReaderState.LineStart : ReaderState.BareLineStart;
        i = lineEnd;
        continue;
      }
      const byte = chunk[i] as number;
      switch (state) {
        case ReaderState.LineStart:
        case ReaderState.BareLineStart:
          if (byte === DOT) {
            this.#keep(chunk, start, i);
            start = i + 1;
            state = state === ReaderState.LineStart ? ReaderState.Dot : ReaderState.BareDot;
            continue;
          }
          break;
        case ReaderState.Dot:
        case ReaderState.BareDot:
          if (byte === DOT) {
            // A stuffed dot: the held one is dropped, this one is data.
            state = ReaderState.Text;
            continue;
          }
          if (byte === CR && state === ReaderState.Dot) {
            state = ReaderState.DotCr;
            continue;
          }
          this.#keep(DOT_BYTES, 0, 1);
          break;
        case ReaderState.DotCr:
          if (byte === LF) {
            this.#state = ReaderState.LineStart;
            return i + 1;
          }
          this.#keep(DOT_CR_BYTES, 0, 2);
          start = i;
          state = ReaderState.Cr;
          break;
      }
      if (byte === CR) state = ReaderState.Cr;
      else if (byte === LF) state = state === ReaderState.Cr ? ReaderState.LineStart : ReaderState.BareLineStart;
      else state = ReaderState.Text;
    }
    // A held dot (and CR) is kept, or ends the message, with the next chunk.
    const end = state === ReaderState.DotCr ? chunk.length - 1 : chunk.length;
    this.#keep(chunk, start, end);
    this.#state = state;
    return -1;
  }

  /** The message received (empty when it went over the size limit). */
  message(): Buffer {
    if (this.#exceeded) return Buffer.alloc(0);
    return this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#size);
  }

  #keep(chunk: Buffer, start: number, end: number): void {
    if (end <= start) return;
    this.#size += end - start;
    if (this.#exceeded) return;
    if (this.#size > this.#maxSize) {
      this.#exceeded = true;
      this.#chunks.length = 0;
      return;
    }
    this.#chunks.push(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
  }
}
