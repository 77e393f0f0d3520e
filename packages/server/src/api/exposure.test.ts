import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_PROTOCOL } from '@mailwright/core';
import { createMailwright } from '../mailwright.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const TOKEN = 'exposure-test-token';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP request with a Host header of our choosing (fetch cannot set one). */
function requestWithHost(url: string, host: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: init.method ?? 'GET', headers: { ...init.headers, host } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

/** Opens the stream with the given headers; resolves with the hello frame's type or the refusal's status and body. */
function openStream(url: string, headers: Record<string, string>): Promise<{ opened: true } | { opened: false; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/stream`, STREAM_PROTOCOL, { headers });
    socket.once('message', () => {
      socket.close();
      resolve({ opened: true });
    });
    socket.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ opened: false, status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    socket.once('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

async function send(t: TestServer, to: string): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: t.server.smtp.port, ignoreTLS: true });
  await transport.sendMail({ from: 'app@example.test', to, subject: 'exposure', text: 'secret link' });
}

describe('host names (DNS rebinding)', () => {
  let t: TestServer;
  let webRoot: string;
  let port: number;

  beforeAll(async () => {
    webRoot = await mkdtemp(join(tmpdir(), 'mailwright-web-'));
    await writeFile(join(webRoot, 'index.html'), '<!doctype html><title>inbox</title>');
    t = await startTestServer({ hostname: 'mail.box.test', tlsNames: ['tls-name.test'], allowedHosts: ['team.example.test', '.corp.test'], webRoot });
    port = t.server.httpPort;
    await send(t, 'victim@example.test');
  });

  afterAll(async () => {
    await t?.close();
    await rm(webRoot, { recursive: true, force: true });
  });

  it('a rebinding name gets 403 HOST_NOT_ALLOWED on REST, the web viewer and /health alike', async () => {
    for (const path of ['/api/v1/messages', '/api/v1/messages?to=victim@example.test', '/api/v1/health', '/', '/index.html']) {
      const response = await requestWithHost(`${t.server.url}${path}`, `rebind.attacker.test:${port}`);
      expect(response.status, path).toBe(403);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'HOST_NOT_ALLOWED' } });
      expect(response.body).not.toContain('victim');
      if (path.startsWith('/api/')) expect(response.headers['cache-control'], path).toBe('no-store');
    }
    const deleted = await requestWithHost(`${t.server.url}/api/v1/messages?all=true`, `rebind.attacker.test:${port}`, { method: 'DELETE' });
    expect(deleted.status).toBe(403);
    expect((await t.messages()).total).toBe(1);
  });

  it('loopback names and addresses, IP addresses and the configured names are answered', async () => {
    for (const host of [
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `app.localhost:${port}`,
      `127.0.0.1:${port}`,
      `127.1.2.3:${port}`,
      `[::1]:${port}`,
      `192.0.2.10:${port}`,
      '127.0.0.1',
      `mail.box.test:${port}`,
      `tls-name.test:${port}`,
      `team.example.test:${port}`,
      `corp.test:${port}`,
      `inbox.corp.test:${port}`,
    ]) {
      const response = await requestWithHost(`${t.server.url}/api/v1/messages`, host);
      expect(response.status, host).toBe(200);
    }
    for (const host of [`example.test:${port}`, `evil-corp.test:${port}`, `localhost.attacker.test:${port}`, `127.0.0.1.nip.test:${port}`]) {
      expect((await requestWithHost(`${t.server.url}/api/v1/messages`, host)).status, host).toBe(403);
    }
  });

  it('the WebSocket upgrade refuses a rebinding name, even with a matching Origin', async () => {
    const refused = await openStream(t.server.url, { Host: `rebind.attacker.test:${port}`, Origin: `http://rebind.attacker.test:${port}` });
    expect(refused).toMatchObject({ opened: false, status: 403 });
    expect(JSON.parse((refused as { body: string }).body)).toMatchObject({ error: { code: 'HOST_NOT_ALLOWED' } });
    expect(await openStream(t.server.url, { Host: `localhost:${port}`, Origin: `http://localhost:${port}` })).toEqual({ opened: true });
    expect(await openStream(t.server.url, { Host: `team.example.test:${port}`, Origin: `http://team.example.test:${port}` })).toEqual({ opened: true });
    const crossOrigin = await openStream(t.server.url, { Host: `localhost:${port}`, Origin: 'http://rebind.attacker.test' });
    expect(crossOrigin).toMatchObject({ opened: false, status: 403 });
    expect(JSON.parse((crossOrigin as { body: string }).body)).toMatchObject({ error: { code: 'FORBIDDEN_ORIGIN' } });
  });
});

describe('host names with an API token', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ apiToken: TOKEN });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('are not checked: the token is what a rebinding page cannot have', async () => {
    const host = `mailwright-service:${t.server.httpPort}`;
    expect((await requestWithHost(`${t.server.url}/api/v1/messages`, host)).status).toBe(401);
    expect((await requestWithHost(`${t.server.url}/api/v1/messages`, host, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect(await openStream(t.server.url, { Host: host, Authorization: `Bearer ${TOKEN}` })).toEqual({ opened: true });
    expect(await openStream(t.server.url, { Host: host })).toMatchObject({ opened: false, status: 401 });
  });
});

describe('CORS on REST', () => {
  let t: TestServer;
  const allowed = 'http://app.example.test:3000';
  const foreign = 'http://evil.example.test';

  beforeAll(async () => {
    t = await startTestServer({ allowedOrigins: [allowed] });
    await send(t, 'cors@example.test');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers the preflight of an allowed origin, and refuses others without CORS headers', async () => {
    const preflight = { 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization' };
    const ok = await t.request('/messages?all=true', { method: 'OPTIONS', headers: { origin: allowed, ...preflight } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(ok.headers.get('access-control-allow-methods')).toContain('DELETE');
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(ok.headers.get('vary')).toContain('Origin');

    const refused = await t.request('/messages?all=true', { method: 'OPTIONS', headers: { origin: foreign, ...preflight } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(await refused.json()).toMatchObject({ error: { code: 'FORBIDDEN_ORIGIN' } });
  });

  it('a foreign origin cannot change anything, nor read (no CORS headers)', async () => {
    const deleted = await t.request('/messages?all=true', { method: 'DELETE', headers: { origin: foreign } });
    expect(deleted.status).toBe(403);
    expect(deleted.headers.get('access-control-allow-origin')).toBeNull();
    const created = await t.request('/listeners', { method: 'POST', headers: { origin: foreign, 'content-type': 'text/plain' }, body: '{"name":"x"}' });
    expect(created.status).toBe(403);
    expect((await t.messages()).total).toBe(1);

    const read = await t.request('/messages', { headers: { origin: foreign } });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('an allowed origin and the server itself may read and change', async () => {
    const read = await t.request('/messages', { headers: { origin: allowed } });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBe(allowed);
    const own = `http://127.0.0.1:${t.server.httpPort}`;
    const samesite = await t.request('/messages?to=nobody@example.test', { method: 'DELETE', headers: { origin: own } });
    expect(samesite.status).toBe(200);
    expect(samesite.headers.get('access-control-allow-origin')).toBeNull();
    const deleted = await t.request('/messages?to=cors@example.test', { method: 'DELETE', headers: { origin: allowed } });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toMatchObject({ deleted: 1 });
  });
});

describe('response headers', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ apiToken: TOKEN });
    await send(t, 'headers@example.test');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('every API response, errors included, is nosniff, no-referrer and no-store', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const list = (await (await t.request('/messages', { headers: auth })).json()) as { messages: { id: string }[] };
    const id = list.messages[0]?.id ?? '';
    const responses = await Promise.all([
      t.request('/messages', { headers: auth }),
      t.request(`/messages/${id}`, { headers: auth }),
      t.request(`/messages/${id}/raw`, { headers: auth }),
      t.request(`/messages/${id}/text`, { headers: auth }),
      t.request('/messages/nope', { headers: auth }),
      t.request('/sessions', { headers: auth }),
      t.request('/messages'), // 401
      t.request('/health'),
    ]);
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 404, 200, 401, 200]);
    for (const response of responses) {
      expect(response.headers.get('x-content-type-options'), response.url).toBe('nosniff');
      expect(response.headers.get('referrer-policy'), response.url).toBe('no-referrer');
      expect(response.headers.get('cache-control'), response.url).toBe('no-store');
    }
  });
});

describe('binding beyond loopback', () => {
  it('is refused without an API token, naming both ways out', async () => {
    const error = await createMailwright({ host: '0.0.0.0', smtpPort: 0, smtpsPort: 0, httpPort: 0 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'INVALID_OPTIONS',
      details: [expect.objectContaining({ path: 'host', message: expect.stringMatching(/apiToken.*insecureNoToken/) })],
    });
  });

  it('starts with a token, or with the explicit opt-out', async () => {
    for (const options of [{ apiToken: TOKEN }, { insecureNoToken: true }]) {
      const server = await createMailwright({ host: '0.0.0.0', smtpPort: 0, smtpsPort: 0, httpPort: 0, ...options });
      try {
        expect(server.info().http.host).toBe('0.0.0.0');
      } finally {
        await server.close();
      }
    }
  });

  it('loopback addresses need neither', async () => {
    const server = await createMailwright({ host: 'localhost', smtpPort: 0, smtpsPort: 0, httpPort: 0 });
    await server.close();
  });
});

describe('runtime listeners', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('may not take a privileged port, nor another address', async () => {
    const post = (body: object) => t.request('/listeners', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const privileged = await post({ name: 'smtp25', port: 25 });
    expect(privileged.status).toBe(400);
    expect(await privileged.json()).toMatchObject({
      error: { code: 'INVALID_REQUEST', message: expect.stringMatching(/port 25 is below 1024.*--allow-privileged-ports/) },
    });
    const elsewhere = await post({ name: 'wide', host: '0.0.0.0' });
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.json()).toMatchObject({ error: { code: 'INVALID_REQUEST', message: expect.stringMatching(/host/) } });
    expect(t.server.listeners().map((listener) => listener.name)).toEqual(['smtp', 'smtps']);
    const fine = await post({ name: 'lab', port: 0 });
    expect(fine.status).toBe(201);
  });

  it('the privileged-port check is lifted by allowPrivilegedPorts', async () => {
    const server = await startTestServer({ allowPrivilegedPorts: true });
    try {
      // Whether the bind then succeeds depends on the privileges of the test run; it is no longer refused by policy.
      const response = await server.request('/listeners', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'low', port: 1 }),
      });
      const body = (await response.json()) as { error?: { message: string } };
      expect(body.error?.message ?? '').not.toMatch(/below 1024/);
    } finally {
      await server.close();
    }
  });
});
