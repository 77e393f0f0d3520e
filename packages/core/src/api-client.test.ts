import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './api-client.js';
import { MailwrightError } from './error-codes.js';

/** What the server saw of the last request. */
let last: { method: string; url: string; headers: IncomingMessage['headers']; body: string } | undefined;
let server: Server;
let base: string;

beforeAll(async () => {
  // A real HTTP server answering like Mailwright's API does, and unlike it where asked to.
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      last = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString() };
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      const json = (status: number, value: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      };
      if (path === '/api/v1/echo') return json(200, { ok: true });
      if (path === '/api/v1/empty') return void response.writeHead(204).end();
      if (path === '/api/v1/text') return void response.writeHead(200, { 'content-type': 'text/plain' }).end('plain text');
      if (path === '/api/v1/missing') return json(404, { error: { code: 'MESSAGE_NOT_FOUND', message: 'No message with id "x"', details: { id: 'x' } } });
      if (path === '/api/v1/unauthorized') return json(401, { error: { code: 'UNAUTHORIZED', message: 'An API token is required' } });
      if (path === '/api/v1/html-error') return void response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
      if (path === '/api/v1/odd-error') return json(500, { error: 'just a string' });
      json(404, { error: { code: 'NOT_FOUND', message: 'no route' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function failure(promise: Promise<unknown>): Promise<MailwrightError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MailwrightError);
  return error as MailwrightError;
}

describe('ApiClient', () => {
  it('sends JSON with the token and the query, and reads JSON back', async () => {
    const client = new ApiClient({ baseUrl: `${base}/`, token: 'secret' });
    expect(client.baseUrl).toBe(base);
    const answer = await client.json('POST', '/echo', { query: { limit: 5, all: true, skipped: undefined, to: 'a b@example.test' }, body: { name: 'lab' } });
    expect(answer).toEqual({ ok: true });
    expect(last).toMatchObject({ method: 'POST', url: '/api/v1/echo?limit=5&all=true&to=a+b%40example.test', body: '{"name":"lab"}' });
    expect(last?.headers.authorization).toBe('Bearer secret');
    expect(last?.headers['content-type']).toBe('application/json');
  });

  it('asks a token function on every request, and sends no header without a token', async () => {
    let token: string | null = null;
    const client = new ApiClient({ baseUrl: base, token: () => token });
    await client.json('GET', '/echo');
    expect(last?.headers.authorization).toBeUndefined();
    expect(last?.headers['content-type']).toBeUndefined();
    token = 'later';
    await client.json('GET', '/echo', { query: new URLSearchParams({ subject: 'x' }) });
    expect(last?.headers.authorization).toBe('Bearer later');
    expect(last?.url).toBe('/api/v1/echo?subject=x');
  });

  it('reads 204 as undefined, text and bytes as they are', async () => {
    const client = new ApiClient({ baseUrl: base });
    expect(await client.json('DELETE', '/empty')).toBeUndefined();
    expect(await client.text('/text')).toBe('plain text');
    expect(new TextDecoder().decode(await client.arrayBuffer('/text'))).toBe('plain text');
  });

  it('turns an error body into a MailwrightError with its code, message, status and details', async () => {
    const client = new ApiClient({ baseUrl: base });
    const missing = await failure(client.json('GET', '/missing'));
    expect(missing).toMatchObject({ code: 'MESSAGE_NOT_FOUND', message: 'No message with id "x"', statusCode: 404, details: { id: 'x' } });
    const unauthorized = await failure(client.text('/unauthorized'));
    expect(unauthorized).toMatchObject({ code: 'UNAUTHORIZED', message: 'An API token is required', statusCode: 401 });
  });

  it('names the request and the status when the error answer is not the JSON error shape', async () => {
    const client = new ApiClient({ baseUrl: base });
    expect(await failure(client.json('GET', '/html-error'))).toMatchObject({
      code: 'INTERNAL',
      message: 'GET /html-error failed with HTTP 502',
      statusCode: 502,
    });
    expect(await failure(client.json('PUT', '/odd-error'))).toMatchObject({
      code: 'INTERNAL',
      message: 'PUT /odd-error failed with HTTP 500',
      statusCode: 500,
    });
  });

  it('says which server cannot be reached', async () => {
    // A port that was just free: nothing listens there.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(new ApiClient({ baseUrl: `http://127.0.0.1:${port}` }).json('GET', '/info'));
    expect(error.code).toBe('INTERNAL');
    expect(error.statusCode).toBeUndefined();
    expect(error.message).toMatch(new RegExp(`^Cannot reach Mailwright at http://127\\.0\\.0\\.1:${port}: `));
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('builds page-relative addresses without a base URL, for browsers', () => {
    const client = new ApiClient();
    expect(client.url('/messages', { limit: 50, before: undefined })).toBe('/api/v1/messages?limit=50');
    expect(client.url('/info')).toBe('/api/v1/info');
  });

  it('uses the fetch it is given', async () => {
    const seen: string[] = [];
    const client = new ApiClient({
      fetch: (async (input: string | URL | Request) => {
        seen.push(String(input));
        throw new TypeError('Failed to fetch');
      }) as typeof fetch,
    });
    const error = await failure(client.json('GET', '/info'));
    expect(seen).toEqual(['/api/v1/info']);
    expect(error.message).toBe('Cannot reach Mailwright: Failed to fetch');
  });
});
