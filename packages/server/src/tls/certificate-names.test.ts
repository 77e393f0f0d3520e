import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

let t: TestServer;
let certificate: PeerCertificate;

beforeAll(async () => {
  t = await startTestServer({ hostname: 'mail.greeting.test', tlsNames: ['mail.docker.test', '172.31.0.1'] });
  // A real handshake with the implicit-TLS listener, trusting only the test CA.
  certificate = await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: t.listenerPort('smtps'), ca: t.server.ca, servername: 'localhost' });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate());
      socket.destroy();
    });
    socket.once('error', reject);
  });
});

afterAll(async () => {
  await t?.close();
});

describe('the names the test certificate covers', () => {
  it.each(['localhost', '127.0.0.1', '::1', 'mail.greeting.test', 'mail.docker.test', '172.31.0.1'])('is valid for %s', (name) => {
    expect(checkServerIdentity(name, certificate)).toBeUndefined();
  });

  it.each(['other.test', '172.31.0.2'])('is not valid for %s', (name) => {
    expect(checkServerIdentity(name, certificate)).toBeInstanceOf(Error);
  });
});
