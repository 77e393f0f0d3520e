// Postfix as the app's relay: what each smtp_tls_security_level of docs/tls.md does against
// the lab's listeners, with a real Postfix (a private instance started for this suite).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Mailwright, type Inbox, type ListenerConfig, type RuntimeListener } from '@mailwright/sdk';
import '@mailwright/sdk/vitest';
import { describeWithPrerequisite } from '../../packages/server/src/test-support/external-client.js';
import { postfixUnavailable, startPostfixRelay, type PostfixRelay } from './postfix.js';

/** Each case: a lab listener, and the TLS policy Postfix applies on the way to it. */
const CASES = {
  mayOffered: { listener: { tls: 'starttls' }, tlsPolicy: 'may' },
  mayStripped: { listener: { tls: 'starttls', starttls: 'off' }, tlsPolicy: 'may' },
  encryptStripped: { listener: { tls: 'starttls', starttls: 'off' }, tlsPolicy: 'encrypt' },
  encryptFailing: { listener: { tls: 'starttls', starttls: 'fail' }, tlsPolicy: 'encrypt' },
  encryptExpired: { listener: { tls: 'starttls', certificate: 'expired' }, tlsPolicy: 'encrypt' },
  secureExpired: { listener: { tls: 'starttls', certificate: 'expired' }, tlsPolicy: 'secure match=localhost' },
  secureWrongHost: { listener: { tls: 'starttls', certificate: 'wrong-host' }, tlsPolicy: 'secure match=localhost' },
  secureValid: { listener: { tls: 'starttls' }, tlsPolicy: 'secure match=localhost' },
} satisfies Record<string, { listener: Partial<ListenerConfig>; tlsPolicy: string }>;
type CaseName = keyof typeof CASES;

/** Where Postfix sends a case's mail: the lab listener, and an inbox whose address routes there. */
interface Route {
  lab: RuntimeListener;
  inbox: Inbox;
}

let mail: Mailwright;
let relay: PostfixRelay;
const routes = {} as Record<CaseName, Route>;

describeWithPrerequisite('Postfix relaying to the lab', postfixUnavailable(), () => {
  beforeAll(async () => {
    mail = await Mailwright.start();
    for (const [name, { listener }] of Object.entries(CASES) as [CaseName, (typeof CASES)[CaseName]][]) {
      routes[name] = { lab: await mail.listeners.create(listener), inbox: mail.inbox() };
    }
    relay = await startPostfixRelay(
      (Object.keys(CASES) as CaseName[]).map((name) => ({
        recipient: routes[name].inbox.address,
        port: routes[name].lab.endpoint.port,
        tlsPolicy: CASES[name].tlsPolicy,
      })),
      mail.ca,
    );
  });

  afterAll(async () => {
    await relay?.stop();
    for (const route of Object.values(routes)) await route.lab.remove();
    await mail?.close();
  });

  /** Hands a message for a case's inbox to Postfix and waits for Postfix's first delivery attempt. */
  async function relayTo(name: CaseName) {
    const to = routes[name].inbox.address;
    await relay.send({ from: 'app@example.test', to, subject: `Relayed: ${name}`, text: `${name}, relayed by Postfix` });
    return relay.outcome(to);
  }

  it('may: STARTTLS when offered, without checking the certificate', async () => {
    const outcome = await relayTo('mayOffered');
    expect(outcome.status).toBe('sent');
    // The test CA is in smtp_tls_CAfile, so Postfix calls it trusted; `may` would send either way.
    expect(outcome.log).toMatch(/Trusted TLS connection established/);
    const message = await routes.mayOffered.inbox.waitForMessage({ timeout: 10_000 });
    expect(message).toBeDeliveredOverTls({ mode: 'starttls', minVersion: 'TLSv1.2' });
  });

  it('may: falls back to plaintext when STARTTLS is stripped, and the lab sees the mail arrive unencrypted', async () => {
    const outcome = await relayTo('mayStripped');
    expect(outcome.status).toBe('sent');
    const message = await routes.mayStripped.inbox.waitForMessage({ timeout: 10_000 });
    expect(message.tls.mode).toBe('none');
    expect(message.tls.starttlsOffered).toBe(false);
  });

  it('encrypt: refuses to send when STARTTLS is stripped; nothing reaches the lab', async () => {
    const outcome = await relayTo('encryptStripped');
    expect(outcome.status).toBe('deferred');
    expect(outcome.line).toMatch(/TLS is required, but was not offered/);
    await expect(routes.encryptStripped.lab).toHaveNoDelivery();
  });

  it('encrypt: refuses to send when STARTTLS fails with 454; nothing reaches the lab', async () => {
    const outcome = await relayTo('encryptFailing');
    expect(outcome.status).toBe('deferred');
    expect(outcome.line).toMatch(/454 4\.7\.0 TLS not available/);
    await expect(routes.encryptFailing.lab).toHaveNoDelivery();
  });

  it('encrypt: sends over an expired certificate, because it encrypts without verifying', async () => {
    const outcome = await relayTo('encryptExpired');
    expect(outcome.status).toBe('sent');
    expect(outcome.log).toMatch(/Untrusted TLS connection established/);
    expect(await routes.encryptExpired.inbox.waitForMessage({ timeout: 10_000 })).toBeDeliveredOverTls({ mode: 'starttls' });
  });

  it('secure: refuses an expired certificate; the lab records the session and receives nothing', async () => {
    const outcome = await relayTo('secureExpired');
    expect(outcome.status).toBe('deferred');
    expect(outcome.log).toMatch(/server certificate verification failed .*: certificate has expired/);
    expect(outcome.line).toMatch(/status=deferred \(Server certificate not verified\)/);
    await expect(routes.secureExpired.lab).toHaveNoDelivery();
    const session = await mail.sessions.waitFor({ listener: routes.secureExpired.lab.name, timeout: 10_000 });
    expect(session?.tls.mode).toBe('starttls');
    expect(session?.messageIds).toEqual([]);
    // Postfix checks the certificate after the handshake, then says QUIT: no MAIL was sent.
    const commands = session?.transcript.filter((entry) => entry.dir === 'client').map((entry) => entry.line.split(' ')[0]);
    expect(commands?.slice(-2)).toEqual(['STARTTLS', 'QUIT']);
    expect(session?.error).toBeNull();
  });

  it('secure: refuses a certificate for another host', async () => {
    const outcome = await relayTo('secureWrongHost');
    expect(outcome.status).toBe('deferred');
    expect(outcome.log).toMatch(/server certificate verification failed .*: num=62:hostname mismatch/);
    expect(outcome.line).toMatch(/status=deferred \(Server certificate not verified\)/);
    await expect(routes.secureWrongHost.lab).toHaveNoDelivery();
  });

  it('secure: sends over a verified certificate from the test CA (smtp_tls_CAfile), TLS 1.2 or newer', async () => {
    const outcome = await relayTo('secureValid');
    expect(outcome.status).toBe('sent');
    expect(outcome.log).toMatch(/Verified TLS connection established/);
    const message = await routes.secureValid.inbox.waitForMessage({ timeout: 10_000 });
    expect(message).toBeDeliveredOverTls({ mode: 'starttls', minVersion: 'TLSv1.2' });
    expect(message.envelope.mailFrom).toBe('app@example.test');
  });
});
