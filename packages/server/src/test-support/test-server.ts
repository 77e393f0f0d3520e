import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import type { CapturedMessage, SmtpSession } from '@mailwright/core';
import { createMailwright, type RunningMailwright } from '../mailwright.js';
import type { MailwrightOptions } from '../options.js';

const POLL_INTERVAL_MS = 10;
const DEFAULT_WAIT_MS = 5_000;

/** A server on free loopback ports plus small REST helpers. */
export interface TestServer {
  readonly server: RunningMailwright;
  /** The data directory holding the test CA (shared with {@link loadTestAuthority} for client certificates). */
  readonly dataDir: string;
  /** The port of the listener with this name; throws when there is none. */
  listenerPort(name: string): number;
  /** GET/DELETE/POST against the server; `path` starts after `/api/v1`. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** GET and parse JSON; throws unless the status is the expected one (default 200). */
  getJson<T>(path: string, expectedStatus?: number): Promise<T>;
  /** Every stored message, newest first. */
  messages(query?: Record<string, string>): Promise<{ messages: CapturedMessage[]; total: number }>;
  /** The stored raw bytes of a message. */
  raw(id: string): Promise<Buffer>;
  /** The session with this id, as the API serves it. */
  session(id: string): Promise<SmtpSession>;
  /** Polls until the session is closed (closing is recorded asynchronously). */
  closedSession(id: string): Promise<SmtpSession>;
  /** Stops the server and removes the data directory. */
  close(): Promise<void>;
}

/** Polls `probe` (with `vi.waitFor`) until it returns a value other than undefined, or throws after `timeoutMs`. */
export function pollFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await probe();
      if (value === undefined) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      return value;
    },
    { timeout: timeoutMs, interval: POLL_INTERVAL_MS },
  );
}

/**
 * Starts a server with every port at 0 (so tests never collide) in its own data
 * directory, so that a test can issue client certificates from the same CA.
 */
export async function startTestServer(options: MailwrightOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'mailwright-test-')));
  const ownsDataDir = options.dataDir === undefined;
  let server: RunningMailwright;
  try {
    server = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0, ...options, dataDir });
  } catch (error) {
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const request = (path: string, init?: RequestInit): Promise<Response> => fetch(`${server.url}/api/v1${path}`, init);
  const getJson = async <T>(path: string, expectedStatus = 200): Promise<T> => {
    const response = await request(path);
    const body = await response.text();
    if (response.status !== expectedStatus) throw new Error(`GET ${path}: expected ${expectedStatus}, got ${response.status}: ${body.slice(0, 500)}`);
    return JSON.parse(body) as T;
  };
  const session = (id: string): Promise<SmtpSession> => getJson<SmtpSession>(`/sessions/${encodeURIComponent(id)}`);
  return {
    server,
    dataDir,
    listenerPort(name) {
      const listener = server.listeners().find((candidate) => candidate.name === name);
      if (!listener) throw new Error(`no listener ${name}`);
      return listener.port;
    },
    request,
    getJson,
    messages: (query = {}) => getJson(`/messages?${new URLSearchParams(query).toString()}`),
    async raw(id) {
      const response = await request(`/messages/${encodeURIComponent(id)}/raw`);
      if (response.status !== 200) throw new Error(`raw of ${id}: ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    },
    session,
    closedSession: (id) =>
      pollFor(async () => {
        const found = await session(id);
        return found.closedAt === null ? undefined : found;
      }, `session ${id} to close`),
    async close() {
      await server.close();
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
