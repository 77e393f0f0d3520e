import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createMemoryStore } from './memory-store.js';
import { openSqliteStore } from './sqlite-store.js';
import { describeStoreContract } from '../test-support/store-contract.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describeStoreContract('memory, read when followed', {
  create: async (options) => createMemoryStore({ readPolicy: 'when-followed', backgroundReadQuietMs: 60_000, ...options }),
});

describeStoreContract('memory, read on arrival', {
  create: async (options) => createMemoryStore({ readPolicy: 'on-arrival', ...options }),
});

let path = '';
describeStoreContract('sqlite', {
  create: async (options) => {
    const dir = await mkdtemp(join(tmpdir(), 'mailwright-store-'));
    dirs.push(dir);
    path = join(dir, 'mailwright.db');
    return openSqliteStore({ path, ...options });
  },
  reopen: async (options) => openSqliteStore({ path, ...options }),
});
