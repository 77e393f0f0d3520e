/// <reference lib="dom" />
// The Protection panel, the lock badge, the decrypted view and the protection search, for real
// S/MIME made by OpenSSL's `openssl cms` with keys the server issued.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { IssuedKey, Protection } from '@mailwright/core';
import { describeInBrowser, useViewer, type CapturedMessage, type MessageDetail } from './harness.js';

const run = promisify(execFile);

const ENTITY =
  'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nYour statement for March\r\n' +
  '--b1\r\nContent-Type: application/pdf; name="statement.pdf"\r\nContent-Disposition: attachment; filename="statement.pdf"\r\n' +
  'Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJSBzdGF0ZW1lbnQKJSVFT0YK\r\n--b1--\r\n';

describeInBrowser('protection', () => {
  const h = useViewer({ clearBeforeEach: true });
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'mailwright-web-protection-'));
  });
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const post = async <T>(path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${h.server.url}/api/v1${path}`, {
      method: 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };

  const cms = async (args: string[], files: Record<string, string>): Promise<string> => {
    for (const [name, content] of Object.entries(files)) await writeFile(join(scratch, name), content);
    return (await run('openssl', ['cms', ...args, '-crlfeol'], { cwd: scratch, encoding: 'utf8' })).stdout;
  };

  /** Signed by `signer`, then encrypted to `recipient` with AES-256-GCM. */
  const signedThenEncrypted = async (signer: IssuedKey, recipient: IssuedKey): Promise<string> => {
    const signed = await cms(['-sign', '-in', 'entity.eml', '-signer', 'signer.pem', '-inkey', 'signer.key', '-md', 'sha256'], {
      'entity.eml': ENTITY,
      'signer.pem': signer.publicKey,
      'signer.key': signer.privateKey,
    });
    return cms(['-encrypt', '-in', 'signed.eml', '-aes-256-gcm', '-recip', 'recipient.pem', '-keyopt', 'rsa_padding_mode:oaep'], {
      'signed.eml': signed,
      'recipient.pem': recipient.publicKey,
    });
  };

  const sendRaw = async (to: string, subject: string, entity: string): Promise<CapturedMessage> => {
    const mailer = h.transport('starttls');
    await mailer.sendMail({ envelope: { from: 'billing@acme.test', to }, raw: `From: billing@acme.test\r\nTo: ${to}\r\nSubject: ${subject}\r\n${entity}` });
    mailer.close();
    return vi.waitFor(async () => {
      const found = (await h.api<{ messages: CapturedMessage[] }>(`/messages?subject=${encodeURIComponent(subject)}`)).messages[0];
      if (!found) throw new Error(`${subject} was not captured`);
      return found;
    });
  };

  /** The message's detail once examined. */
  const examined = (id: string): Promise<MessageDetail & { protection: Protection }> =>
    vi.waitFor(
      async () => {
        const detail = await h.api<MessageDetail>(`/messages/${id}`);
        if (detail.protection?.status !== 'done') throw new Error(`${id} is being examined`);
        return detail as MessageDetail & { protection: Protection };
      },
      { timeout: 10_000, interval: 20 },
    );

  it('shows the signer, the algorithms and the recipients, and the decrypted message under its marker', async () => {
    const bob = await post<IssuedKey>('/keys/smime', { address: 'bob@example.test' });
    const billing = await post<IssuedKey>('/keys/smime', { address: 'billing@acme.test' });
    const sent = await sendRaw('bob@example.test', 'Statement', await signedThenEncrypted(billing, bob));
    await h.send({ from: 'alice@example.test', to: 'bob@example.test', subject: 'Plain', text: 'hello' });
    const { protection } = await examined(sent.id);
    expect(protection).toMatchObject({ kind: 'smime', signed: true, encrypted: true, order: 'sign-then-encrypt' });

    const { page, errors } = await h.open(`/messages/${sent.id}?tab=text`);
    const panel = page.getByTestId('protection-panel');
    await panel.getByTestId('protection-signer').waitFor();
    expect(await panel.getByTestId('protection-kind').textContent()).toBe('S/MIME');
    expect(await panel.getByTestId('protection-summary').textContent()).toBe('Signed and encrypted (sign then encrypt)');
    expect(await panel.getByTestId('protection-signer').textContent()).toBe(protection.signatures[0]?.signer);
    expect(await panel.getByTestId('protection-signature-valid').getAttribute('data-verdict')).toBe('pass');
    expect(await panel.getByTestId('protection-trust').getAttribute('data-trusted')).toBe('true');
    expect(await panel.getByTestId('protection-algorithm').textContent()).toBe(protection.encryption?.algorithm);
    expect(await panel.getByTestId('protection-recipient').first().textContent()).toContain('bob@example.test');
    expect(await panel.getByTestId('protection-decrypted').textContent()).toMatch(/^yes/);
    expect(await panel.getByTestId('protection-warning').allTextContents()).toEqual(protection.warnings);
    // The badge beside the subject brings the panel into view.
    await page.getByTestId('protection-jump').click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('protection');

    // The decrypted message, marked; the source stays the bytes received.
    const marker = page.getByTestId('decrypted-marker');
    await marker.waitFor();
    expect(await marker.textContent()).toContain('Decrypted by Mailwright');
    expect(await page.getByTestId('text-body').textContent()).toBe('Your statement for March');
    await page.getByTestId('tab-attachments').click();
    const link = page.getByTestId('attachment-link');
    expect(await link.getAttribute('href')).toMatch(/\/attachments\/[^?]+\?view=decrypted$/);
    const pdf = await page.request.get(String(await link.getAttribute('href')));
    expect(await pdf.text()).toBe('%PDF-1.4\n% statement\n%%EOF\n');
    await page.getByTestId('tab-source').click();
    expect(await page.getByTestId('raw-source').textContent()).toContain('application/pkcs7-mime');
    await page.getByTestId('toggle-decrypted').click();
    expect(await marker.getAttribute('data-showing')).toBe('false');
    await page.getByTestId('tab-attachments').click();
    expect(await page.getByTestId('attachment-link').textContent()).toContain('smime.p7m');

    // The lock in the list, and the search.
    await page.goto('/');
    const badge = page.getByTestId('message-row').filter({ hasText: 'Statement' }).getByTestId('protection-badge');
    await badge.waitFor();
    expect(await badge.getAttribute('title')).toBe('S/MIME signed and encrypted, decrypted by Mailwright');
    expect(await page.getByTestId('message-row').filter({ hasText: 'Plain' }).getByTestId('protection-badge').count()).toBe(0);
    await page.getByTestId('search-input').fill('protection:smime encrypted:true');
    await expect.poll(() => page.url()).toMatch(/\?encrypted=true&protection=smime$/);
    await expect.poll(() => page.getByTestId('message-row').count()).toBe(1);
    await page.goto('/?signed=false');
    await page.getByTestId('message-row').filter({ hasText: 'Plain' }).waitFor();
    expect(await page.getByTestId('message-row').count()).toBe(1);
    expect(errors).toEqual([]);
  });

  it('shows a signature that does not verify with its reason, under a seal in the list', async () => {
    const billing = await post<IssuedKey>('/keys/smime', { address: 'billing@acme.test' });
    const signed = await cms(['-sign', '-in', 'entity.eml', '-signer', 'signer.pem', '-inkey', 'signer.key', '-md', 'sha256'], {
      'entity.eml': ENTITY,
      'signer.pem': billing.publicKey,
      'signer.key': billing.privateKey,
    });
    const sent = await sendRaw('bob@example.test', 'Tampered', signed.replace('statement for March', 'statement for April'));
    const { protection } = await examined(sent.id);
    const reason = protection.signatures[0]?.reason ?? 'missing';
    expect(protection.signatures[0]?.valid).toBe(false);

    const { page, errors } = await h.open(`/messages/${sent.id}`);
    const panel = page.getByTestId('protection-panel');
    await panel.getByTestId('protection-signature-valid').waitFor();
    expect(await panel.getByTestId('protection-signature-valid').textContent()).toBe('does not verify');
    expect(await panel.getByTestId('protection-signature-reason').textContent()).toBe(reason);
    expect(await panel.getByTestId('protection-summary').textContent()).toBe('Signed');
    expect(await page.getByTestId('decrypted-marker').count()).toBe(0);
    expect(await page.getByTestId('protection-jump').getByTestId('protection-badge').getAttribute('title')).toBe('S/MIME signed, a signature does not verify');
    await page.goto('/');
    const badge = page.getByTestId('message-row').first().getByTestId('protection-badge');
    await badge.waitFor();
    expect([await badge.getAttribute('data-signed'), await badge.getAttribute('data-encrypted'), await badge.getAttribute('title')]).toEqual([
      'true',
      'false',
      'S/MIME signed',
    ]);
    expect(errors).toEqual([]);
  });

  it('re-examines a message encrypted before its key was registered, and the list follows live', async () => {
    const carol = await post<IssuedKey>('/keys/smime', { address: 'carol@example.test' });
    const billing = await post<IssuedKey>('/keys/smime', { address: 'billing@acme.test' });
    const removed = await fetch(`${h.server.url}/api/v1/keys/${carol.key.id}`, { method: 'DELETE' });
    expect(removed.status).toBe(204);
    const sent = await sendRaw('carol@example.test', 'Early', await signedThenEncrypted(billing, carol));
    const { protection } = await examined(sent.id);
    expect(protection.encryption?.decrypted).toBe(false);

    const inbox = await h.open('/');
    const badge = inbox.page.getByTestId('message-row').first().getByTestId('protection-badge');
    await expect.poll(() => badge.getAttribute('title'), { timeout: 10_000 }).toBe('S/MIME encrypted, not decrypted');

    const { page, errors } = await h.open(`/messages/${sent.id}`);
    const panel = page.getByTestId('protection-panel');
    await panel.getByTestId('protection-decrypted').waitFor();
    expect(await panel.getByTestId('protection-decrypted').textContent()).toContain(protection.encryption?.reason ?? 'missing');
    expect(await page.getByTestId('decrypted-marker').count()).toBe(0);

    await post('/keys', { type: 'smime', certificate: carol.publicKey, privateKey: carol.privateKey });
    await panel.getByTestId('reexamine-protection').click();
    await expect.poll(() => panel.getByTestId('protection-decrypted').textContent(), { timeout: 10_000 }).toMatch(/^yes/);
    await page.getByTestId('decrypted-marker').waitFor();
    expect(await panel.getByTestId('protection-signer').textContent()).toBe('billing@acme.test');
    await expect.poll(() => badge.getAttribute('title'), { timeout: 10_000 }).toBe('S/MIME signed and encrypted, decrypted by Mailwright');

    // Re-examined elsewhere (here, over the API after the key went): the open page follows.
    const keys = (await h.api<{ keys: { id: string; address: string | null }[] }>('/keys')).keys.filter((key) => key.address === 'carol@example.test');
    for (const key of keys) expect((await fetch(`${h.server.url}/api/v1/keys/${key.id}`, { method: 'DELETE' })).status).toBe(204);
    await post(`/messages/${sent.id}/protection`);
    await expect.poll(() => panel.getByTestId('protection-decrypted').textContent(), { timeout: 10_000 }).toMatch(/^no/);
    await expect.poll(() => page.getByTestId('decrypted-marker').count()).toBe(0);
    expect(errors).toEqual([]);
    expect(inbox.errors).toEqual([]);
  });
});
