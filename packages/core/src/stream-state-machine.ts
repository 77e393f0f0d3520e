import type { AuthenticationSummary } from './authentication.js';
import type { ProtectionSummary } from './protection.js';
import type { CapturedMessage, MessageDetail } from './captured-message.js';
import { ErrorCode, MailwrightError } from './error-codes.js';
import type { MessageFilter } from './message-filter.js';
import type { SmtpSession } from './smtp-session.js';
import { STREAM_PROTOCOL, type ClientFrame, type ServerFrame, type SubscribeFrame } from './stream-frames.js';

/** Whether a stream client is receiving live updates. */
export type StreamStatus = 'connecting' | 'live' | 'offline';

/** Options of {@link StreamStateMachine}. */
export interface StreamStateMachineOptions {
  /** The `ws://…/api/v1/stream` address; a function is asked again on every attempt. */
  url: string | (() => string);
  /**
   * Stay connected while there is no subscription (to hear deletions and clears, and show a
   * status). Default false: connect with the first subscription, reconnect only while some remain.
   */
  persistent?: boolean;
  /** Ceiling of the first reconnect delay, in ms. Default 50. */
  reconnectMinMs?: number;
  /** Ceiling of every reconnect delay, in ms: the backoff doubles up to here. Default 2000. */
  reconnectMaxMs?: number;
  /** A number in [0, 1) for the jitter. Default `Math.random`. */
  random?: () => number;
}

/** What a subscription asks the server for. */
export interface StreamSubscribeInput {
  filter?: MessageFilter;
  /** Replay every matching message with `seq > since` first. Default: live only. */
  since?: number;
  /** Which events to receive. Default (server side) `['message']`. */
  events?: ('message' | 'session')[];
  /** Deliver MessageDetails instead of summaries. */
  detail?: boolean;
}

/**
 * What the driver of a {@link StreamStateMachine} must do, in order. Commands about the
 * connection (`connect`, `send`, `disconnect`, `wait`, `cancel-wait`) are I/O to perform;
 * the others are events to hand to the application.
 */
export type StreamCommand =
  /** Open a WebSocket to `url` with the subprotocol `protocol`. */
  | { type: 'connect'; url: string; protocol: typeof STREAM_PROTOCOL }
  /** Send `frame` as JSON on the open socket. */
  | { type: 'send'; frame: ClientFrame }
  /** Close the socket with `code`. */
  | { type: 'disconnect'; code: number }
  /** Wait `ms`, then call `elapsed()`. */
  | { type: 'wait'; ms: number }
  /** Forget the pending wait. */
  | { type: 'cancel-wait' }
  /** A message for a subscription, once and in seq order. */
  | { type: 'message'; subscription: string; message: CapturedMessage | MessageDetail }
  | { type: 'session'; subscription: string; session: SmtpSession }
  /** The subscription's replay is complete; live delivery follows. */
  | { type: 'ready'; subscription: string }
  /** The server refused the subscription (e.g. an invalid filter). */
  | { type: 'subscription-error'; subscription: string; code: string; message: string }
  /** The client was disposed while the subscription was active. */
  | { type: 'subscription-closed'; subscription: string }
  | { type: 'deleted'; ids: string[] }
  /** A message's verdicts were computed (or recomputed): its list summary of them. */
  | { type: 'authentication'; id: string; seq: number; authentication: AuthenticationSummary }
  /** A message's protection was examined (or re-examined): its list summary. */
  | { type: 'protection'; id: string; seq: number; protection: ProtectionSummary }
  | { type: 'cleared' }
  | { type: 'status'; status: StreamStatus }
  /** The connection came back after having been live; deletions missed meanwhile are not replayed. */
  | { type: 'reconnected' }
  /**
   * The server's seq went back (it restarted with another store): every subscription's cursor
   * went back to 0, so that the new server's messages are not skipped.
   */
  | { type: 'reset'; seq: number; previousSeq: number };

type Phase = 'idle' | 'connecting' | 'live' | 'waiting' | 'disposed';

interface Subscription {
  readonly input: StreamSubscribeInput;
  /** The highest seq delivered or confirmed; where a reconnect resumes. */
  cursor: number | undefined;
  /**
   * The filter asks for a verdict (`dkim`, `spf`, `dmarc`, `encrypted`, `signed`, `protection`): the server delivers a message when
   * its verdicts are done, once, and so possibly below the cursor (out of seq order).
   */
  readonly outOfOrder: boolean;
}

const DEFAULT_RECONNECT_MIN_MS = 50;
const DEFAULT_RECONNECT_MAX_MS = 2_000;
/** Beyond this, 2 ** attempt exceeds any sensible ceiling anyway. */
const MAX_ATTEMPT = 32;

/**
 * The client side of the stream protocol (`mailwright.v1`), without I/O: the driver tells it
 * what happened (`opened`, `received`, `errored`, `closed`, `elapsed`, and the application's
 * `subscribe`/`unsubscribe`/`dispose`), and it answers with the {@link StreamCommand}s to carry
 * out. It keeps one cursor per subscription, resubscribes from it after a reconnect (nothing
 * lost, nothing repeated), starts over when the server's seq went back, and spaces reconnects
 * with exponential backoff and jitter.
 */
export class StreamStateMachine {
  readonly #url: () => string;
  readonly #persistent: boolean;
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  readonly #subscriptions = new Map<string, Subscription>();
  #phase: Phase = 'idle';
  #status: StreamStatus = 'connecting';
  #wasLive = false;
  #attempt = 0;
  #latestSeq = 0;
  /** The epoch of the seq numbering heard in the last hello. */
  #epoch: string | undefined;
  #nextId = 0;
  #lastError: string | null = null;

  constructor(options: StreamStateMachineOptions) {
    const url = options.url;
    this.#url = typeof url === 'string' ? () => url : url;
    this.#persistent = options.persistent === true;
    this.#minMs = options.reconnectMinMs ?? DEFAULT_RECONNECT_MIN_MS;
    this.#maxMs = options.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS;
    this.#random = options.random ?? Math.random;
    const problems: string[] = [];
    if (!(this.#minMs > 0 && Number.isFinite(this.#minMs))) problems.push(`reconnectMinMs must be a positive number (got ${this.#minMs})`);
    if (!(this.#maxMs >= this.#minMs && Number.isFinite(this.#maxMs))) problems.push(`reconnectMaxMs must be a number ≥ reconnectMinMs (got ${this.#maxMs})`);
    if (problems.length > 0) throw new MailwrightError(ErrorCode.INVALID_OPTIONS, `Invalid stream options: ${problems.join('; ')}`, { details: problems });
  }

  /** The newest seq heard from the server (0 before the first hello). */
  get latestSeq(): number {
    return this.#latestSeq;
  }

  /** Whether live updates are flowing. */
  get status(): StreamStatus {
    return this.#status;
  }

  /** The last connection problem, for error messages; null once a connection opens. */
  get lastError(): string | null {
    return this.#lastError;
  }

  /** The cursor of a subscription: the last seq delivered or confirmed to it. */
  cursorOf(subscription: string): number | undefined {
    return this.#subscriptions.get(subscription)?.cursor;
  }

  /** The delay before reconnect attempt `attempt` (0-based) when `random()` returns `random`. */
  backoffMs(attempt: number, random: number): number {
    const ceiling = Math.min(this.#maxMs, this.#minMs * 2 ** Math.min(attempt, MAX_ATTEMPT));
    // "Equal jitter": at least half the ceiling, so clients that dropped together spread out
    // without any of them retrying at once.
    return ceiling / 2 + Math.min(Math.max(random, 0), 1) * (ceiling / 2);
  }

  /** Connects a persistent client (or one that already has subscriptions). */
  start(): StreamCommand[] {
    return this.#phase === 'idle' && this.#wanted() ? this.#connect() : [];
  }

  /** Adds a subscription; it is sent once the server has said hello. */
  subscribe(input: StreamSubscribeInput): { subscription: string; commands: StreamCommand[] } {
    this.#nextId += 1;
    const id = `s${this.#nextId}`;
    if (this.#phase === 'disposed') return { subscription: id, commands: [{ type: 'subscription-closed', subscription: id }] };
    // As message-filter's hasVerdictFilter, which this module leaves out to keep zod out of browser bundles.
    const { filter } = input;
    const outOfOrder =
      filter !== undefined &&
      (filter.dkim !== undefined ||
        filter.spf !== undefined ||
        filter.dmarc !== undefined ||
        filter.encrypted !== undefined ||
        filter.signed !== undefined ||
        filter.protection !== undefined);
    const subscription: Subscription = { input, cursor: input.since, outOfOrder };
    this.#subscriptions.set(id, subscription);
    if (this.#phase === 'live') return { subscription: id, commands: [{ type: 'send', frame: this.#subscribeFrame(id, subscription) }] };
    return { subscription: id, commands: this.#phase === 'idle' ? this.#connect() : [] };
  }

  /** Ends a subscription. */
  unsubscribe(subscription: string): StreamCommand[] {
    if (!this.#subscriptions.delete(subscription) || this.#phase !== 'live') return [];
    return [{ type: 'send', frame: { type: 'unsubscribe', id: subscription } }];
  }

  /** The socket opened (the server has not said hello yet). */
  opened(): StreamCommand[] {
    this.#lastError = null;
    return [];
  }

  /** A text frame arrived. Frames that are not protocol JSON are ignored. */
  received(text: string): StreamCommand[] {
    if (this.#phase !== 'connecting' && this.#phase !== 'live') return [];
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return [];
    }
    if (typeof frame !== 'object' || frame === null) return [];
    switch (frame.type) {
      case 'hello':
        return this.#hello(frame.seq, frame.epoch);
      case 'subscribed': {
        const subscription = this.#subscriptions.get(frame.subscription);
        if (!subscription) return [];
        if (subscription.cursor === undefined || subscription.cursor < frame.seq) subscription.cursor = frame.seq;
        if (frame.seq > this.#latestSeq) this.#latestSeq = frame.seq;
        return [{ type: 'ready', subscription: frame.subscription }];
      }
      case 'message': {
        const subscription = this.#subscriptions.get(frame.subscription);
        const seq = frame.message.seq;
        if (!subscription) return [];
        if (subscription.cursor !== undefined && seq <= subscription.cursor) {
          return subscription.outOfOrder ? [{ type: 'message', subscription: frame.subscription, message: frame.message }] : [];
        }
        subscription.cursor = seq;
        if (seq > this.#latestSeq) this.#latestSeq = seq;
        return [{ type: 'message', subscription: frame.subscription, message: frame.message }];
      }
      case 'session':
        return this.#subscriptions.has(frame.subscription) ? [{ type: 'session', subscription: frame.subscription, session: frame.session }] : [];
      case 'deleted':
        return [{ type: 'deleted', ids: frame.ids }];
      case 'cleared':
        return [{ type: 'cleared' }];
      case 'authentication':
        return [{ type: 'authentication', id: frame.id, seq: frame.seq, authentication: frame.authentication }];
      case 'protection':
        return [{ type: 'protection', id: frame.id, seq: frame.seq, protection: frame.protection }];
      case 'error':
        if (frame.subscription === undefined) {
          this.#lastError = `${frame.code}: ${frame.message}`;
          return [];
        }
        return this.#subscriptions.has(frame.subscription)
          ? [{ type: 'subscription-error', subscription: frame.subscription, code: frame.code, message: frame.message }]
          : [];
      default:
        return [];
    }
  }

  /** The socket reported an error (a `close` follows). */
  errored(message: string): StreamCommand[] {
    if (this.#phase !== 'disposed') this.#lastError = message;
    return [];
  }

  /** The socket closed with `code` and `reason`. */
  closed(code: number, reason = ''): StreamCommand[] {
    if (this.#phase !== 'connecting' && this.#phase !== 'live') return [];
    // 1000 is a normal close, 1005 a close without a code.
    if (code !== 1000 && code !== 1005) this.#lastError = `stream closed with ${code}${reason ? ` (${reason})` : ''}`;
    const commands = this.#setStatus('offline');
    if (!this.#wanted()) {
      this.#phase = 'idle';
      return commands;
    }
    this.#phase = 'waiting';
    const ms = this.backoffMs(this.#attempt, this.#random());
    if (this.#attempt < MAX_ATTEMPT) this.#attempt += 1;
    commands.push({ type: 'wait', ms });
    return commands;
  }

  /** The wait asked for has elapsed. */
  elapsed(): StreamCommand[] {
    if (this.#phase !== 'waiting') return [];
    this.#phase = 'idle';
    return this.#wanted() ? this.#connect() : [];
  }

  /** Stops for good: cancels the wait, closes the socket and ends every subscription. */
  dispose(): StreamCommand[] {
    const commands: StreamCommand[] = [];
    if (this.#phase === 'waiting') commands.push({ type: 'cancel-wait' });
    if (this.#phase === 'connecting' || this.#phase === 'live') commands.push({ type: 'disconnect', code: 1000 });
    this.#phase = 'disposed';
    for (const id of this.#subscriptions.keys()) commands.push({ type: 'subscription-closed', subscription: id });
    this.#subscriptions.clear();
    return commands;
  }

  #wanted(): boolean {
    return this.#persistent || this.#subscriptions.size > 0;
  }

  #connect(): StreamCommand[] {
    this.#phase = 'connecting';
    const commands = this.#setStatus(this.#wasLive ? 'offline' : 'connecting');
    commands.push({ type: 'connect', url: this.#url(), protocol: STREAM_PROTOCOL });
    return commands;
  }

  #hello(seq: number, epoch: string | undefined): StreamCommand[] {
    const commands = this.#setStatus('live');
    this.#phase = 'live';
    this.#attempt = 0;
    const renumbered = this.#epoch !== undefined && epoch !== undefined && epoch !== this.#epoch;
    this.#epoch = epoch;
    if (seq < this.#latestSeq || renumbered) {
      // Cursors from before would skip the new server's messages (or wait for a seq that
      // may never come), so every subscription starts over.
      commands.push({ type: 'reset', seq, previousSeq: this.#latestSeq });
      for (const subscription of this.#subscriptions.values()) if (subscription.cursor !== undefined) subscription.cursor = 0;
    }
    this.#latestSeq = seq;
    for (const [id, subscription] of this.#subscriptions) commands.push({ type: 'send', frame: this.#subscribeFrame(id, subscription) });
    if (this.#wasLive) commands.push({ type: 'reconnected' });
    this.#wasLive = true;
    return commands;
  }

  #subscribeFrame(id: string, { input, cursor }: Subscription): SubscribeFrame {
    const frame: SubscribeFrame = { type: 'subscribe', id };
    if (input.filter !== undefined) frame.filter = input.filter;
    if (input.events !== undefined) frame.events = input.events;
    if (input.detail === true) frame.detail = true;
    if (cursor !== undefined) frame.since = cursor;
    return frame;
  }

  #setStatus(status: StreamStatus): StreamCommand[] {
    if (this.#status === status) return [];
    this.#status = status;
    return [{ type: 'status', status }];
  }
}
