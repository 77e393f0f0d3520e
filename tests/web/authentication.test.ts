/// <reference lib="dom" />
// The Authentication panel and the list badge, for real DKIM-signed mail (nodemailer's signer)
// judged against the server's mock zone.
import nodemailer from 'nodemailer';
import { vi, expect, it } from 'vitest';
import { createDkimKey, dmarcRecord, spfAllowRecord, type DkimKey } from '@mailwright/server';
import type { Authentication, DnsRecord } from '@mailwright/core';
import { describeInBrowser, useViewer, type CapturedMessage, type MessageDetail } from './harness.js';

describeInBrowser('authentication', () => {
  const h = useViewer({ clearBeforeEach: true });
  let key: DkimKey;

  const publish = async (records: DnsRecord[]): Promise<void> => {
    const response = await fetch(`${h.server.url}/api/v1/dns/records`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(records),
    });
    expect(response.status).toBe(200);
  };

  /** The message's detail once its verdicts are computed. */
  const settled = (id: string): Promise<MessageDetail & { authentication: Authentication }> =>
    vi.waitFor(
      async () => {
        const detail = await h.api<MessageDetail>(`/messages/${id}`);
        if (detail.authentication?.status !== 'done') throw new Error(`the verdicts of ${id} are pending`);
        return detail as MessageDetail & { authentication: Authentication };
      },
      { timeout: 10_000, interval: 20 },
    );

  /** Sends raw bytes over SMTP and resolves with the captured message. */
  const sendRaw = async (raw: string, subject: string): Promise<CapturedMessage> => {
    const mailer = h.transport('starttls');
    await mailer.sendMail({ envelope: { from: 'alice@example.com', to: 'bob@example.test' }, raw });
    mailer.close();
    return vi.waitFor(async () => {
      const found = (await h.api<{ messages: CapturedMessage[] }>(`/messages?subject=${encodeURIComponent(subject)}`)).messages[0];
      if (!found) throw new Error(`${subject} was not captured`);
      return found;
    });
  };

  it('shows each check with its verdict, and the Authentication-Results value, for a signed mail', async () => {
    key = await createDkimKey({ domain: 'example.com', selector: 's1' });
    // Every local connection comes from 127.0.0.1: let it send for example.com.
    await publish([key.record, spfAllowRecord('example.com', '127.0.0.1'), dmarcRecord('example.com', 'reject')]);
    const sent = await h.send({ from: 'alice@example.com', to: 'bob@example.test', subject: 'Signed', text: 'hello', dkim: key.nodemailer ?? undefined });
    const { authentication } = await settled(sent.id);
    expect(authentication.dkim.map((signature) => signature.result)).toEqual(['pass']);

    const { page, errors } = await h.open(`/messages/${sent.id}`);
    const panel = page.getByTestId('authentication-panel');
    await panel.getByTestId('authentication-results').waitFor();
    expect(await panel.getByTestId('authentication-results').textContent()).toBe(authentication.authenticationResults);
    expect(await panel.getByTestId('auth-dkim-result').allTextContents()).toEqual(['pass']);
    expect(await panel.getByTestId('auth-dkim-domain').textContent()).toBe('d=example.com s=s1');
    expect(await panel.getByTestId('auth-spf-result').textContent()).toBe('pass');
    expect(await panel.getByTestId('auth-spf-reason').textContent()).toBe(authentication.spf.reason);
    expect(await panel.getByTestId('auth-dmarc-result').textContent()).toBe('pass');
    expect(await panel.getByTestId('auth-client-ip').textContent()).toBe(`${authentication.clientIp.address} (${authentication.clientIp.source})`);
    expect(await panel.locator('.auth-badge').getAttribute('title')).toBe('DKIM pass, SPF pass, DMARC pass');
    // Beside the Delivery panel, not in place of it.
    await page.getByTestId('delivery-panel').getByTestId('transcript').waitFor();
    // The verdicts beside the subject bring the panel into view.
    expect(await page.getByTestId('auth-jump').getAttribute('aria-label')).toBe('Show the authentication verdicts');
    await page.getByTestId('auth-jump').click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('authentication');

    await page.getByTestId('message-page').getByRole('link', { name: 'Inbox' }).click();
    const badge = page.getByTestId('message-row').first().getByTestId('auth-badge');
    await badge.waitFor();
    expect([await badge.getAttribute('data-dkim'), await badge.getAttribute('data-spf'), await badge.getAttribute('data-dmarc')]).toEqual([
      'pass',
      'pass',
      'pass',
    ]);
    expect(errors).toEqual([]);
  });

  it('shows a failing signature with its reason, and the failure in the list badge', async () => {
    key = await createDkimKey({ domain: 'example.com', selector: 's1' });
    await publish([key.record, spfAllowRecord('example.com', '203.0.113.7'), dmarcRecord('example.com', 'reject')]);
    const signer = nodemailer.createTransport({ streamTransport: true, buffer: true, dkim: key.nodemailer ?? undefined });
    const signed = (await signer.sendMail({ from: 'alice@example.com', to: 'bob@example.test', subject: 'Tampered', text: 'pay 10 EUR' })).message as Buffer;
    const sent = await sendRaw(signed.toString().replace('pay 10 EUR', 'pay 99 EUR'), 'Tampered');
    const { authentication } = await settled(sent.id);
    const reason = authentication.dkim[0]?.reason ?? 'missing';
    expect(reason).toMatch(/^body hash did not verify/);

    const { page, errors } = await h.open(`/messages/${sent.id}`);
    const panel = page.getByTestId('authentication-panel');
    await panel.getByTestId('auth-dkim-result').waitFor();
    expect(await panel.getByTestId('auth-dkim-result').getAttribute('data-verdict')).toBe('fail');
    expect(await panel.getByTestId('auth-dkim-reason').textContent()).toBe(reason);
    expect(await panel.getByTestId('auth-spf-result').textContent()).toBe('fail');
    expect(await panel.getByTestId('auth-dmarc-result').textContent()).toBe('fail');
    expect(await panel.getByTestId('auth-dmarc-reason').textContent()).toBe(authentication.dmarc.reason);

    await page.goto('/');
    const badge = page.getByTestId('message-row').first().getByTestId('auth-badge');
    await badge.waitFor();
    expect(await badge.getAttribute('title')).toBe('DKIM fail, SPF fail, DMARC fail');
    // The search takes the verdicts too: the failing mail is found by dkim:fail, not by dkim:pass.
    await page.goto('/?dkim=fail');
    await page.getByTestId('message-row').first().waitFor();
    expect(await page.getByTestId('message-row').count()).toBe(1);
    await page.goto('/?dkim=pass');
    await page.getByTestId('no-match').waitFor();
    expect(await page.getByTestId('message-row').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it("updates a row's badge live when the verdicts are computed anew", async () => {
    key = await createDkimKey({ domain: 'example.com', selector: 's1' });
    await publish([key.record, spfAllowRecord('example.com', '127.0.0.1'), dmarcRecord('example.com', 'none')]);
    const { page, errors } = await h.open('/');
    await page.getByTestId('empty-inbox').waitFor();
    const sent = await h.send({ from: 'alice@example.com', to: 'bob@example.test', subject: 'Live', text: 'hello', dkim: key.nodemailer ?? undefined });
    const badge = page.getByTestId('message-row').first().getByTestId('auth-badge');
    await expect.poll(() => badge.getAttribute('title'), { timeout: 10_000 }).toBe('DKIM pass, SPF pass, DMARC pass');

    // The key goes from the zone; recomputing tells every viewer, and the row follows.
    const removed = await fetch(`${h.server.url}/api/v1/dns/records?name=${key.record.name}&type=TXT`, { method: 'DELETE' });
    expect(removed.status).toBe(204);
    const recomputed = await fetch(`${h.server.url}/api/v1/messages/${sent.id}/authentication`, { method: 'POST' });
    expect(recomputed.status).toBe(200);
    await expect.poll(() => badge.getAttribute('data-dkim'), { timeout: 10_000 }).toBe('permerror');
    expect(errors).toEqual([]);
  });
});
