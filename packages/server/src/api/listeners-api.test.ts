import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { createMailwright, type RunningMailwright } from '../mailwright.js';
import { MAX_LISTENERS } from '../listener-registry.js';

let server: RunningMailwright;

beforeAll(async () => {
  server = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0 });
});

afterAll(async () => {
  await server?.close();
});

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('runtime listeners over REST', () => {
  it('creates a listener on a free port, lists it, and removes it', async () => {
    const created = await post('/listeners', { name: 'lab-rest', tls: 'implicit', certificate: 'expired', minVersion: 'TLSv1.3' });
    expect(created.status).toBe(201);
    const listener = await created.json();
    expect(listener).toMatchObject({
      name: 'lab-rest',
      tls: 'implicit',
      starttls: 'off',
      certificate: 'expired',
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
    });
    expect(listener.port).toBeGreaterThan(0);
    const { listeners } = await (await fetch(`${server.url}/api/v1/listeners`)).json();
    expect(listeners.map((l: { name: string }) => l.name)).toEqual(['smtp', 'smtps', 'lab-rest']);
    expect((await fetch(`${server.url}/api/v1/info`).then((r) => r.json())).listeners).toHaveLength(3);
    expect((await fetch(`${server.url}/api/v1/listeners/lab-rest`, { method: 'DELETE' })).status).toBe(204);
    const gone = await fetch(`${server.url}/api/v1/listeners/lab-rest`, { method: 'DELETE' });
    expect(gone.status).toBe(404);
    expect((await gone.json()).error.code).toBe('LISTENER_NOT_FOUND');
  });

  it('rejects invalid profiles with every problem, duplicates with 409, and bad JSON with 400', async () => {
    const invalid = await post('/listeners', { name: 'x y', tls: 'implicit', starttls: 'require', certificate: 'stolen' });
    expect(invalid.status).toBe(400);
    const body = await invalid.json();
    expect(body.error.code).toBe('INVALID_REQUEST');
    expect(body.error.message).toMatch(/name/);
    expect(body.error.message).toMatch(/certificate/);
    const duplicate = await post('/listeners', { name: 'smtp' });
    expect(duplicate.status).toBe(409);
    expect((await duplicate.json()).error.code).toBe('LISTENER_EXISTS');
    const notJson = await post('/listeners', '{nope');
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.code).toBe('INVALID_REQUEST');
  });

  it('reports a port that is taken as LISTENER_START_FAILED', async () => {
    const taken = await post('/listeners', { name: 'clash', port: server.smtp.port });
    expect(taken.status).toBe(409);
    expect((await taken.json()).error.code).toBe('LISTENER_START_FAILED');
  });

  it("names an address that is not this machine's when a server cannot bind it, instead of failing obscurely", async () => {
    // 192.0.2.1 (TEST-NET-1) is on no interface here: the bind fails locally, nothing is sent.
    const error = await createMailwright({ host: '192.0.2.1', apiToken: 'a-long-token', smtpPort: 0, smtpsPort: 0, httpPort: 0 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'LISTENER_START_FAILED', message: 'Listener "smtp": 192.0.2.1 is not an address of this machine' });
  });

  it('runs at most MAX_LISTENERS listeners; the next one is refused until one is removed', async () => {
    const names: string[] = [];
    try {
      let response = await post('/listeners', { name: 'fill-0', tls: 'none' });
      // Bounded: without a cap the loop stops a few past it and the expectations below fail.
      while (response.status === 201 && names.length <= MAX_LISTENERS + 2) {
        names.push((await response.json()).name);
        response = await post('/listeners', { name: `fill-${names.length}`, tls: 'none' });
      }
      expect(response.status).toBe(409);
      expect((await response.json()).error.code).toBe('TOO_MANY_LISTENERS');
      expect((await (await fetch(`${server.url}/api/v1/listeners`)).json()).listeners).toHaveLength(MAX_LISTENERS);
      await fetch(`${server.url}/api/v1/listeners/${names.pop()}`, { method: 'DELETE' });
      const again = await post('/listeners', { name: 'fill-again', tls: 'none' });
      expect(again.status).toBe(201);
      names.push('fill-again');
    } finally {
      for (const name of names) await fetch(`${server.url}/api/v1/listeners/${name}`, { method: 'DELETE' });
    }
  });

  it('issues client certificates signed by the test CA', async () => {
    const response = await post('/tls/client-certificates', { commonName: 'billing-service' });
    expect(response.status).toBe(201);
    const { cert, key, ca } = await response.json();
    expect(key).toContain('PRIVATE KEY');
    const certificate = new X509Certificate(cert);
    expect(certificate.subject).toBe('CN=billing-service');
    expect(certificate.checkIssued(new X509Certificate(ca))).toBe(true);
    expect(certificate.verify(new X509Certificate(server.ca).publicKey)).toBe(true);
    expect((await post('/tls/client-certificates', {})).status).toBe(400);
  });
});
