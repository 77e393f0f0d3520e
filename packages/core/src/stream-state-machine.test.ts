import { describe, expect, it } from 'vitest';
import type { CapturedMessage } from './captured-message.js';
import { isMailwrightError } from './error-codes.js';
import type { ServerFrame } from './stream-frames.js';
import { StreamStateMachine, type StreamCommand, type StreamStateMachineOptions } from './stream-state-machine.js';

const URL = 'ws://127.0.0.1:8025/api/v1/stream';

const frame = (value: ServerFrame): string => JSON.stringify(value);
const hello = (seq: number, epoch = 'e1'): string => frame({ type: 'hello', version: 1, seq, epoch });
const subscribed = (subscription: string, seq: number): string => frame({ type: 'subscribed', subscription, seq });
const message = (subscription: string, seq: number): string =>
  frame({ type: 'message', subscription, message: { id: `m${seq}`, seq, subject: `#${seq}` } as unknown as CapturedMessage });

const types = (commands: StreamCommand[]): string[] => commands.map((command) => command.type);
const sent = (commands: StreamCommand[]): unknown[] => commands.flatMap((command) => (command.type === 'send' ? [command.frame] : []));
const delivered = (commands: StreamCommand[]): number[] => commands.flatMap((command) => (command.type === 'message' ? [command.message.seq] : []));
const waitOf = (commands: StreamCommand[]): number => {
  const wait = commands.find((command) => command.type === 'wait');
  if (wait?.type !== 'wait') throw new Error(`no wait in ${JSON.stringify(commands)}`);
  return wait.ms;
};

function machine(options: Partial<StreamStateMachineOptions> = {}): StreamStateMachine {
  return new StreamStateMachine({ url: URL, random: () => 0.5, ...options });
}

/** A machine with one subscription that is live on a server at `seq`. */
function liveWith(seq: number, input: Parameters<StreamStateMachine['subscribe']>[0] = {}, options: Partial<StreamStateMachineOptions> = {}) {
  const stream = machine(options);
  const { subscription } = stream.subscribe(input);
  stream.opened();
  stream.received(hello(seq));
  stream.received(subscribed(subscription, seq));
  return { stream, subscription };
}

describe('connecting', () => {
  it('connects with the first subscription, and subscribes only once the server said hello', () => {
    const stream = machine();
    expect(stream.start()).toEqual([]);
    const { subscription, commands } = stream.subscribe({ filter: { to: 'a@example.test' }, since: 0, events: ['message'], detail: true });
    expect(commands).toEqual([{ type: 'connect', url: URL, protocol: 'mailwright.v1' }]);
    expect(stream.opened()).toEqual([]);
    expect(stream.received(hello(7))).toEqual([
      { type: 'status', status: 'live' },
      { type: 'send', frame: { type: 'subscribe', id: subscription, filter: { to: 'a@example.test' }, events: ['message'], detail: true, since: 0 } },
    ]);
    expect(stream.latestSeq).toBe(7);
    expect(stream.status).toBe('live');
  });

  it('sends a subscription at once when live, and leaves out what was not asked for', () => {
    const { stream } = liveWith(3);
    const { subscription, commands } = stream.subscribe({});
    expect(commands).toEqual([{ type: 'send', frame: { type: 'subscribe', id: subscription } }]);
  });

  it('connects a persistent client on start, asking the url function on every attempt', () => {
    let calls = 0;
    const stream = machine({ persistent: true, url: () => `${URL}?n=${++calls}` });
    expect(stream.start()).toEqual([{ type: 'connect', url: `${URL}?n=1`, protocol: 'mailwright.v1' }]);
    expect(stream.start()).toEqual([]);
    expect(stream.status).toBe('connecting');
    stream.closed(1006);
    expect(stream.elapsed()).toContainEqual({ type: 'connect', url: `${URL}?n=2`, protocol: 'mailwright.v1' });
  });

  it('does not open a second socket for a subscription made while connecting or waiting', () => {
    const stream = machine();
    stream.subscribe({});
    expect(stream.subscribe({}).commands).toEqual([]);
    stream.closed(1006);
    expect(stream.subscribe({}).commands).toEqual([]);
  });

  it('rejects backoff settings it cannot honour, listing every problem', () => {
    let thrown: unknown;
    try {
      machine({ reconnectMinMs: 0, reconnectMaxMs: -1 });
    } catch (error) {
      thrown = error;
    }
    expect(isMailwrightError(thrown) && thrown.code).toBe('INVALID_OPTIONS');
    expect((thrown as Error).message).toMatch(/reconnectMinMs.*reconnectMaxMs/);
  });
});

describe('delivery', () => {
  it('delivers each message once, in seq order, and moves the cursor', () => {
    const { stream, subscription } = liveWith(0, { since: 0 });
    expect(delivered(stream.received(message(subscription, 1)))).toEqual([1]);
    expect(delivered(stream.received(message(subscription, 1)))).toEqual([]);
    expect(delivered(stream.received(message(subscription, 3)))).toEqual([3]);
    expect(delivered(stream.received(message(subscription, 2)))).toEqual([]);
    expect(stream.cursorOf(subscription)).toBe(3);
    expect(stream.latestSeq).toBe(3);
  });

  it('reports a subscription ready when its replay is complete, and resumes from there', () => {
    const stream = machine();
    const { subscription } = stream.subscribe({});
    stream.received(hello(10));
    expect(stream.cursorOf(subscription)).toBeUndefined();
    expect(stream.received(subscribed(subscription, 12))).toEqual([{ type: 'ready', subscription }]);
    expect(stream.cursorOf(subscription)).toBe(12);
    expect(stream.latestSeq).toBe(12);
    // A cursor already past the subscribed seq stays where it is.
    stream.received(message(subscription, 15));
    stream.received(subscribed(subscription, 13));
    expect(stream.cursorOf(subscription)).toBe(15);
  });

  it('delivers messages of a verdict filter below the cursor (the server sends them when their verdicts are done), others not', () => {
    const verdicts = liveWith(10, { filter: { dkim: 'pass' }, since: 2 });
    // Messages 4 and 12 arrived pending; 12's verdicts were done first.
    expect(delivered(verdicts.stream.received(message(verdicts.subscription, 12)))).toEqual([12]);
    expect(delivered(verdicts.stream.received(message(verdicts.subscription, 4)))).toEqual([4]);
    expect(verdicts.stream.cursorOf(verdicts.subscription)).toBe(12);
    const encrypted = liveWith(10, { filter: { encrypted: 'true' }, since: 2 });
    expect(delivered(encrypted.stream.received(message(encrypted.subscription, 12)))).toEqual([12]);
    expect(delivered(encrypted.stream.received(message(encrypted.subscription, 4)))).toEqual([4]);
    const plain = liveWith(10, { filter: { to: 'a@example.test' }, since: 2 });
    expect(delivered(plain.stream.received(message(plain.subscription, 12)))).toEqual([12]);
    expect(delivered(plain.stream.received(message(plain.subscription, 4)))).toEqual([]);
  });

  it('hands over sessions, deletions, clears and errors; drops frames of ended subscriptions and garbage', () => {
    const { stream, subscription } = liveWith(1);
    const session = { id: 'x1' } as never;
    expect(stream.received(frame({ type: 'session', subscription, session }))).toEqual([{ type: 'session', subscription, session }]);
    expect(stream.received(frame({ type: 'deleted', ids: ['a', 'b'] }))).toEqual([{ type: 'deleted', ids: ['a', 'b'] }]);
    expect(stream.received(frame({ type: 'cleared' }))).toEqual([{ type: 'cleared' }]);
    const authentication = { status: 'done', dkim: 'pass', spf: 'fail', dmarc: 'none' } as const;
    expect(stream.received(frame({ type: 'authentication', id: 'm1', seq: 3, authentication }))).toEqual([
      { type: 'authentication', id: 'm1', seq: 3, authentication },
    ]);
    const protection = { status: 'done', kind: 'smime', signed: true, encrypted: true, decrypted: false } as const;
    expect(stream.received(frame({ type: 'protection', id: 'm1', seq: 3, protection }))).toEqual([{ type: 'protection', id: 'm1', seq: 3, protection }]);
    expect(stream.received(frame({ type: 'error', subscription, code: 'INVALID_FILTER', message: 'bad' }))).toEqual([
      { type: 'subscription-error', subscription, code: 'INVALID_FILTER', message: 'bad' },
    ]);
    expect(stream.received(frame({ type: 'error', code: 'INTERNAL', message: 'oops' }))).toEqual([]);
    expect(stream.lastError).toBe('INTERNAL: oops');
    expect(stream.received('not json')).toEqual([]);
    expect(stream.received('null')).toEqual([]);
    expect(stream.received('{"type":"from-the-future"}')).toEqual([]);
    expect(stream.unsubscribe(subscription)).toEqual([{ type: 'send', frame: { type: 'unsubscribe', id: subscription } }]);
    expect(stream.unsubscribe(subscription)).toEqual([]);
    expect(stream.received(message(subscription, 2))).toEqual([]);
    expect(stream.received(frame({ type: 'session', subscription, session }))).toEqual([]);
  });

  it('does not send an unsubscribe while not connected', () => {
    const stream = machine();
    const { subscription } = stream.subscribe({});
    expect(stream.unsubscribe(subscription)).toEqual([]);
  });
});

describe('reconnecting', () => {
  it('resubscribes every subscription from its cursor after a drop, without repeating a message', () => {
    const { stream, subscription } = liveWith(0, { since: 0, filter: { subject: 'x' } });
    const other = stream.subscribe({}).subscription;
    stream.received(subscribed(other, 0));
    stream.received(message(subscription, 1));
    stream.received(message(subscription, 2));
    const closed = stream.closed(1006, '');
    expect(types(closed)).toEqual(['status', 'wait']);
    expect(stream.status).toBe('offline');
    expect(stream.lastError).toBe('stream closed with 1006');
    expect(types(stream.elapsed())).toEqual(['connect']);
    stream.opened();
    expect(stream.lastError).toBeNull();
    const back = stream.received(hello(4));
    expect(sent(back)).toEqual([
      { type: 'subscribe', id: subscription, filter: { subject: 'x' }, since: 2 },
      { type: 'subscribe', id: other, since: 0 },
    ]);
    expect(types(back)).toEqual(['status', 'send', 'send', 'reconnected']);
    // The replay overlaps with what was delivered: only the new ones come through.
    expect(delivered([...stream.received(message(subscription, 2)), ...stream.received(message(subscription, 3))])).toEqual([3]);
  });

  it('keeps the status "connecting" until the first hello, then "offline" between connections', () => {
    const stream = machine({ persistent: true });
    const statuses = (commands: StreamCommand[]) => commands.flatMap((command) => (command.type === 'status' ? [command.status] : []));
    expect(statuses(stream.start())).toEqual([]);
    expect(statuses(stream.closed(1006))).toEqual(['offline']);
    expect(statuses(stream.elapsed())).toEqual(['connecting']);
    expect(statuses(stream.received(hello(0)))).toEqual(['live']);
    expect(statuses(stream.closed(1001))).toEqual(['offline']);
    expect(statuses(stream.elapsed())).toEqual([]);
    expect(stream.status).toBe('offline');
  });

  it('does not reconnect without subscriptions, unless persistent; connects again for a new one', () => {
    const { stream, subscription } = liveWith(0);
    stream.unsubscribe(subscription);
    expect(types(stream.closed(1006))).toEqual(['status']);
    expect(types(stream.elapsed())).toEqual([]);
    expect(types(stream.subscribe({}).commands)).toEqual(['connect']);

    const persistent = machine({ persistent: true });
    persistent.start();
    expect(types(persistent.closed(1006))).toEqual(['status', 'wait']);
  });

  it('does not reconnect when the last subscription ended during the wait', () => {
    const { stream, subscription } = liveWith(0);
    stream.closed(1006);
    stream.unsubscribe(subscription);
    expect(stream.elapsed()).toEqual([]);
  });

  it('ignores a close or an elapsed wait it did not ask for', () => {
    const stream = machine();
    expect(stream.closed(1006)).toEqual([]);
    expect(stream.elapsed()).toEqual([]);
    stream.subscribe({});
    stream.closed(1006);
    expect(stream.closed(1006)).toEqual([]);
  });

  it('records why the connection failed, except for a normal close', () => {
    const { stream } = liveWith(0);
    stream.errored('connect ECONNREFUSED 127.0.0.1:1');
    expect(stream.lastError).toBe('connect ECONNREFUSED 127.0.0.1:1');
    stream.closed(4008, 'too slow');
    expect(stream.lastError).toBe('stream closed with 4008 (too slow)');
    stream.elapsed();
    stream.opened();
    stream.closed(1000);
    expect(stream.lastError).toBeNull();
  });
});

describe('a server whose seq went back (restarted with another store)', () => {
  it('starts every subscription over from 0 and says so', () => {
    const { stream, subscription } = liveWith(0, { since: 0 });
    const liveOnly = stream.subscribe({}).subscription;
    stream.received(subscribed(liveOnly, 0));
    for (const seq of [1, 2, 3, 4, 5]) stream.received(message(subscription, seq));
    stream.closed(1006);
    stream.elapsed();
    const back = stream.received(hello(1));
    expect(back).toContainEqual({ type: 'reset', seq: 1, previousSeq: 5 });
    expect(sent(back)).toEqual([
      { type: 'subscribe', id: subscription, since: 0 },
      { type: 'subscribe', id: liveOnly, since: 0 },
    ]);
    expect(types(back).indexOf('reset')).toBeLessThan(types(back).indexOf('send'));
    expect(stream.latestSeq).toBe(1);
    // The new server's first message has a seq the old cursor had passed: it is delivered.
    expect(delivered(stream.received(message(subscription, 1)))).toEqual([1]);
  });

  it('starts over when the epoch changed, even though the new seq has passed the old cursors', () => {
    const { stream, subscription } = liveWith(0, { since: 0 });
    for (const seq of [1, 2]) stream.received(message(subscription, seq));
    stream.closed(1006);
    stream.elapsed();
    const back = stream.received(hello(7, 'e2'));
    expect(back).toContainEqual({ type: 'reset', seq: 7, previousSeq: 2 });
    expect(sent(back)).toEqual([{ type: 'subscribe', id: subscription, since: 0 }]);
    expect(delivered(stream.received(message(subscription, 1)))).toEqual([1]);
  });

  it('keeps the cursors when the same epoch says hello again with a higher seq', () => {
    const { stream, subscription } = liveWith(0, { since: 0 });
    stream.received(message(subscription, 2));
    stream.closed(1006);
    stream.elapsed();
    const back = stream.received(hello(9));
    expect(types(back)).not.toContain('reset');
    expect(sent(back)).toEqual([{ type: 'subscribe', id: subscription, since: 2 }]);
  });

  it('leaves a subscription that never had a cursor live-only', () => {
    const stream = machine();
    stream.subscribe({ since: 0 });
    stream.received(hello(9));
    stream.closed(1006);
    stream.elapsed();
    const pending = stream.subscribe({}).subscription;
    const back = stream.received(hello(2));
    expect(back).toContainEqual({ type: 'reset', seq: 2, previousSeq: 9 });
    expect(sent(back)).toContainEqual({ type: 'subscribe', id: pending });
  });

  it('does not reset when the seq stayed or grew', () => {
    const { stream, subscription } = liveWith(5, { since: 0 });
    stream.received(message(subscription, 6));
    stream.closed(1006);
    stream.elapsed();
    const back = stream.received(hello(6));
    expect(types(back)).not.toContain('reset');
    expect(sent(back)).toEqual([{ type: 'subscribe', id: subscription, since: 6 }]);
  });
});

describe('backoff', () => {
  /** Drops the connection `n` times in a row (no hello in between), returning the waits. */
  function dropRepeatedly(stream: StreamStateMachine, n: number): number[] {
    const waits: number[] = [];
    for (let i = 0; i < n; i += 1) {
      waits.push(waitOf(stream.closed(1006)));
      stream.elapsed();
    }
    return waits;
  }

  it('doubles the ceiling from the minimum up to the maximum', () => {
    const stream = machine({ persistent: true, reconnectMinMs: 100, reconnectMaxMs: 1_000, random: () => 0.999_999 });
    stream.start();
    const waits = dropRepeatedly(stream, 7).map(Math.round);
    expect(waits).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('uses the defaults of 50 ms growing to 2 s', () => {
    const stream = machine({ persistent: true, random: () => 0 });
    stream.start();
    expect(dropRepeatedly(stream, 8)).toEqual([25, 50, 100, 200, 400, 800, 1_000, 1_000]);
  });

  it('keeps every delay between half the ceiling and the ceiling, spread by the random source', () => {
    const draws = [0, 0.25, 0.5, 0.75, 0.999];
    let next = 0;
    const stream = machine({ persistent: true, reconnectMinMs: 400, reconnectMaxMs: 400, random: () => draws[next++ % draws.length] as number });
    stream.start();
    const waits = dropRepeatedly(stream, draws.length);
    expect(waits).toEqual([200, 250, 300, 350, 399.8]);
    for (const wait of waits) {
      expect(wait).toBeGreaterThanOrEqual(200);
      expect(wait).toBeLessThan(400);
    }
  });

  it('clamps a random source that strays out of [0, 1)', () => {
    const stream = machine({ reconnectMinMs: 100, reconnectMaxMs: 100 });
    expect(stream.backoffMs(0, -3)).toBe(50);
    expect(stream.backoffMs(0, 7)).toBe(100);
    expect(stream.backoffMs(10_000, 0)).toBe(50);
  });

  it('starts over from the minimum once a server said hello', () => {
    const stream = machine({ persistent: true, reconnectMinMs: 100, reconnectMaxMs: 10_000, random: () => 0 });
    stream.start();
    expect(dropRepeatedly(stream, 3)).toEqual([50, 100, 200]);
    stream.opened();
    // An open socket alone does not count: a server that accepts and hangs up at once keeps backing off.
    expect(dropRepeatedly(stream, 1)).toEqual([400]);
    stream.received(hello(0));
    expect(dropRepeatedly(stream, 2)).toEqual([50, 100]);
  });
});

describe('dispose', () => {
  it('closes the socket, ends every subscription and ignores whatever comes after', () => {
    const { stream, subscription } = liveWith(0);
    const other = stream.subscribe({}).subscription;
    expect(stream.dispose()).toEqual([
      { type: 'disconnect', code: 1000 },
      { type: 'subscription-closed', subscription },
      { type: 'subscription-closed', subscription: other },
    ]);
    expect(stream.received(message(subscription, 1))).toEqual([]);
    expect(stream.closed(1000)).toEqual([]);
    expect(stream.elapsed()).toEqual([]);
    expect(stream.start()).toEqual([]);
    const late = stream.subscribe({});
    expect(late.commands).toEqual([{ type: 'subscription-closed', subscription: late.subscription }]);
    expect(stream.dispose()).toEqual([]);
  });

  it('cancels a pending wait instead of closing a socket', () => {
    const { stream } = liveWith(0);
    stream.closed(1006);
    expect(stream.dispose()).toEqual([{ type: 'cancel-wait' }, { type: 'subscription-closed', subscription: 's1' }]);
  });
});
