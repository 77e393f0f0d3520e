import { readFile } from 'node:fs/promises';
import nodemailer from 'nodemailer';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapturedMessage } from '@mailwright/core';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { API_ROUTES } from './openapi.js';

const TOKEN = 'openapi-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

/** Every `METHOD /path` row of docs/api.md's route tables, as an OpenAPI path template. */
async function documentedRoutes(): Promise<string[]> {
  const markdown = await readFile(new URL('../../../../docs/api.md', import.meta.url), 'utf8');
  const routes = [...markdown.matchAll(/^\| `(GET|POST|PUT|DELETE) (\/[^`?\s]*)[^`]*`/gm)].map(
    (match) => `${(match[1] as string).toLowerCase()} ${(match[2] as string).replace(/:(\w+)/g, '{$1}')}`,
  );
  return [...new Set(routes)].filter((route) => route !== 'get /stream').sort();
}

describe('OpenAPI document', () => {
  let t: TestServer;
  let document: Record<string, unknown>;
  let message: CapturedMessage;

  beforeAll(async () => {
    t = await startTestServer({ apiToken: TOKEN });
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: t.server.smtp.port,
      requireTLS: true,
      tls: { ca: t.server.ca, servername: 'localhost' },
    });
    await transport.sendMail({
      from: 'app@sender.test',
      to: 'user@receiver.test',
      subject: 'openapi',
      text: 'text body',
      html: '<p>html body</p>',
      attachments: [{ filename: 'a.txt', content: 'attached' }],
    });
    transport.close();
    const page = await (await t.request('/messages', { headers: auth })).json();
    message = (page as { messages: CapturedMessage[] }).messages[0] as CapturedMessage;
    document = (await (await t.request('/openapi.json', { headers: auth })).json()) as Record<string, unknown>;
  });
  afterAll(() => t?.close());

  it('is served under the API token like the rest of /api/v1', async () => {
    const refused = await t.request('/openapi.json');
    expect(refused.status).toBe(401);
    expect(document.openapi).toBe('3.1.0');
  });

  it('is a valid OpenAPI 3.1 document, and the validator rejects a broken one', async () => {
    const validator = new Validator();
    expect(await validator.validate(structuredClone(document))).toEqual({ valid: true });
    expect(validator.version).toBe('3.1');
    const broken = structuredClone(document) as { paths: Record<string, Record<string, { parameters?: unknown }>> };
    (broken.paths['/info']?.get as { parameters?: unknown }).parameters = [{ name: 'missing-in' }];
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('lists exactly the routes docs/api.md documents', async () => {
    const table = API_ROUTES.map((route) => `${route.method} ${route.path}`).sort();
    expect(table).toEqual(await documentedRoutes());
  });

  it('describes the real answer of every GET route', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(document, 'openapi.json');
    const attachment = message.attachments[0];
    expect(attachment).toBeDefined();
    const values: Record<string, string> = { id: message.id, partId: attachment?.partId as string };
    // A rule for an address no test mail goes to, so that /faults/{id} has one to answer with.
    const rule = { id: 'openapi-rule', at: 'rcpt', action: { reply: { code: 451 } }, match: { recipient: 'nobody@openapi.test' } };
    expect((await t.request('/faults', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(rule) })).status).toBe(
      201,
    );
    const gets = API_ROUTES.filter((route) => route.method === 'get');
    expect(gets.length).toBeGreaterThan(15);
    for (const route of gets) {
      const id = route.path.startsWith('/sessions') ? message.sessionId : route.path.startsWith('/faults') ? rule.id : message.id;
      const path = route.path.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(name === 'id' ? id : (values[name] as string)));
      const response = await t.request(path, { headers: auth });
      const what = `GET ${route.path}`;
      expect(response.status, what).toBe(route.status);
      const body = await response.text();
      if (route.response === null) continue;
      if ('mediaType' in route.response) {
        const mediaType = route.response.mediaType === 'application/octet-stream' ? (attachment?.contentType as string) : route.response.mediaType;
        expect(response.headers.get('content-type'), what).toContain(mediaType);
        expect(body.length, what).toBeGreaterThan(0);
        continue;
      }
      expect(response.headers.get('content-type'), what).toMatch(/^application\/json/);
      const parsed: unknown = JSON.parse(body);
      // The document's own JSON Schema (additionalProperties: false) and the core zod schema both accept it.
      const validate = ajv.getSchema(`openapi.json#/components/schemas/${route.response.name}`);
      expect(validate, what).toBeDefined();
      expect(validate?.(parsed), `${what}: ${JSON.stringify(validate?.errors)}`).toBe(true);
      expect(route.response.schema.safeParse(parsed).success, what).toBe(true);
    }
  });

  it('describes the real answers of the routes that create and change', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(document, 'openapi.json');
    const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
      const route = API_ROUTES.find(
        (candidate) =>
          candidate.method === method.toLowerCase() && new RegExp(`^${candidate.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(path.split('?')[0] as string),
      );
      expect(route, `${method} ${path}`).toBeDefined();
      const response = await t.request(path, {
        method,
        headers: { ...auth, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status, `${method} ${path}`).toBe(route?.status);
      if (route?.response === null || route?.response === undefined || !('schema' in route.response)) return undefined;
      const parsed: unknown = await response.json();
      const validate = ajv.getSchema(`openapi.json#/components/schemas/${route.response.name}`);
      expect(validate?.(parsed), `${method} ${path}: ${JSON.stringify(validate?.errors)}`).toBe(true);
      return parsed;
    };
    await call('POST', '/tls/client-certificates', { commonName: 'openapi client' });
    await call('POST', '/dkim/keys', { domain: 'sender.test', selector: 's1', algorithm: 'rsa-1024' });
    await call('POST', '/dkim/keys', { domain: 'sender.test', selector: 's2', algorithm: 'ed25519' });
    await call('PUT', '/dns/records', { name: 'sender.test', type: 'TXT', value: 'v=spf1 -all' });
    await call('DELETE', '/dns/records?name=sender.test&type=TXT');
    await call('POST', `/messages/${message.id}/authentication`);
    const issued = (await call('POST', '/keys/smime', { address: 'user@receiver.test' })) as { key: { id: string } };
    await call('POST', `/messages/${message.id}/protection`);
    await call('DELETE', `/keys/${issued.key.id}`);
    await call('POST', '/listeners', { name: 'openapi', port: 0, tls: 'none' });
    await call('DELETE', '/listeners/openapi');
    await call('DELETE', '/messages?subject=nothing-matches-this');
  });

  it('describes the error answer', async () => {
    const response = await t.request('/messages/nope', { headers: auth });
    expect(response.status).toBe(404);
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    ajv.addSchema(document, 'openapi.json');
    expect(ajv.validate('openapi.json#/components/schemas/ApiError', await response.json())).toBe(true);
  });
});
