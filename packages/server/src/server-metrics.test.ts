import tls from 'node:tls';
import nodemailer from 'nodemailer';
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support/test-server.js';

const TOKEN = 'metrics-test-token';
const HOST = '127.0.0.1';

/** The value of one series, 0 when it is not (yet) exported. */
function sample(families: PrometheusFamily[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((candidate) => candidate.name === name);
  const found = family?.metrics.find((metric) => Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value));
  return Number(found?.value ?? found?.count ?? 0);
}

describe('GET /metrics', () => {
  let t: TestServer;
  const scrape = async (): Promise<PrometheusFamily[]> => {
    const response = await fetch(`${t.server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusTextFormat(await response.text());
  };

  beforeAll(async () => {
    t = await startTestServer({ apiToken: TOKEN, listeners: [{ name: 'modern', tls: 'implicit', minVersion: 'TLSv1.3' }] });
  });
  afterAll(() => t?.close());

  it('follows the API token', async () => {
    const refused = await fetch(`${t.server.url}/metrics`);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
  });

  it('counts messages, sessions, bytes, replies and failed handshakes from real SMTP traffic', async () => {
    const plain = nodemailer.createTransport({ host: HOST, port: t.server.smtp.port, ignoreTLS: true });
    const plainInfo = await plain.sendMail({ from: 'a@sender.test', to: 'b@receiver.test', subject: 'plain', text: 'over plaintext' });
    plain.close();
    const secure = nodemailer.createTransport({ host: HOST, port: t.server.smtp.port, requireTLS: true, tls: { ca: t.server.ca, servername: 'localhost' } });
    for (let index = 0; index < 2; index += 1)
      await secure.sendMail({ from: 'a@sender.test', to: 'b@receiver.test', subject: `tls ${index}`, text: 'over STARTTLS' });
    secure.close();
    expect(plainInfo.response).toMatch(/^250 /);
    // A TLS 1.2 client on a listener that requires TLS 1.3: the handshake fails.
    const failed = await new Promise<Error>((resolve) => {
      const socket = tls.connect({ host: HOST, port: t.listenerPort('modern'), maxVersion: 'TLSv1.2', ca: t.server.ca, servername: 'localhost' });
      socket.once('error', resolve);
    });
    expect(failed.message).toMatch(/version|protocol/i);

    // Sessions are counted when they close, after the client has gone.
    await expect
      .poll(async () => {
        const current = await scrape();
        return [
          sample(current, 'mailwright_tls_handshake_failures_total', { listener: 'modern', code: 'protocol_version' }),
          sample(current, 'mailwright_sessions_total', { listener: 'smtp', tls: 'starttls' }),
          sample(current, 'mailwright_sessions_total', { listener: 'smtp', tls: 'none' }),
        ];
      })
      .toEqual([1, 2, 1]);
    const figures = await scrape();
    expect(sample(figures, 'mailwright_messages_total', { listener: 'smtp', tls: 'none' })).toBe(1);
    expect(sample(figures, 'mailwright_messages_total', { listener: 'smtp', tls: 'starttls' })).toBe(2);
    expect(sample(figures, 'mailwright_messages_total', { listener: 'smtps' })).toBe(0);
    const { messages } = (await (await t.request('/messages', { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      messages: { tls: { mode: string }; size: number }[];
    };
    const sizeOf = (mode: string) => messages.filter((message) => message.tls.mode === mode).reduce((sum, message) => sum + message.size, 0);
    expect(sample(figures, 'mailwright_received_bytes_total', { listener: 'smtp', tls: 'none' })).toBe(sizeOf('none'));
    expect(sample(figures, 'mailwright_received_bytes_total', { listener: 'smtp', tls: 'starttls' })).toBe(sizeOf('starttls'));
    expect(sample(figures, 'mailwright_stored_messages')).toBe(3);
    expect(sample(figures, 'mailwright_stored_bytes')).toBe(sizeOf('none') + sizeOf('starttls'));
    // Three sessions: one greeting each, three messages queued, two STARTTLS answers.
    expect(sample(figures, 'mailwright_smtp_replies_total', { listener: 'smtp', code: '220' })).toBe(3 + 2);
    expect(sample(figures, 'mailwright_smtp_replies_total', { listener: 'smtp', code: '354' })).toBe(3);
    expect(sample(figures, 'mailwright_sessions_total', { listener: 'modern', tls: 'implicit' })).toBe(1);
    expect(sample(figures, 'mailwright_stream_subscribers')).toBe(0);
    expect(sample(figures, 'mailwright_stream_slow_clients_total')).toBe(0);
  });

  it('observes HTTP answers by route pattern', async () => {
    await t.request('/info', { headers: { authorization: `Bearer ${TOKEN}` } });
    await t.request('/messages/no-such-id', { headers: { authorization: `Bearer ${TOKEN}` } });
    const response = await fetch(`${t.server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const text = await response.text();
    const family = parsePrometheusTextFormat(text).find((candidate) => candidate.name === 'mailwright_http_request_duration_seconds');
    expect(family?.type).toBe('HISTOGRAM');
    // The parser folds a histogram's label sets into one: its _count lines are read as they are.
    const counts = new Map(
      [...text.matchAll(/^mailwright_http_request_duration_seconds_count\{method="(\w+)",route="([^"]*)",status="(\d+)"\} (\d+)$/gm)].map((match) => [
        `${match[1]} ${match[2]} ${match[3]}`,
        Number(match[4]),
      ]),
    );
    expect(counts.get('GET /api/v1/info 200')).toBeGreaterThanOrEqual(1);
    expect(counts.get('GET /api/v1/messages/:id 404')).toBe(1);
    expect([...counts.keys()].some((key) => key.includes('no-such-id'))).toBe(false);
  });
});
