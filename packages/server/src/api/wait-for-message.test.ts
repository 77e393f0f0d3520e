import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../store/memory-store.js';
import { messageSummary, newMessage } from '../test-support/new-message.js';
import { waitForMessage } from './wait-for-message.js';

describe('waitForMessage', () => {
  it('resolves with the oldest match when a newer one arrives while a stored one is still being read', async () => {
    // "slow" is read only when the test opens the gate, as a message left to mailparser takes its time.
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const store = createMemoryStore({
      readPolicy: 'when-followed',
      maxMessages: 10,
      maxSessions: 10,
      backgroundReadQuietMs: 60_000,
      summarize: async (raw) => {
        if (raw.toString() === 'slow') await gate;
        return messageSummary({ subject: raw.toString() });
      },
    });
    // Stored while nobody follows the store: read only when asked for.
    const older = await store.addMessage(newMessage({ raw: Buffer.from('slow') }));
    const request = new EventEmitter() as IncomingMessage;
    const waiting = waitForMessage(store, {}, 0, 10_000, request);
    // The wait follows the store now, so this one is read on arrival and announced while "slow" is still being read.
    await store.addMessage(newMessage({ raw: Buffer.from('fast') }));
    open();
    const result = await waiting;
    expect(result).toMatchObject({ seq: older.seq, subject: 'slow' });
  });
});
