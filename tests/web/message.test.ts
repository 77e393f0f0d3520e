/// <reference lib="dom" />
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeInBrowser, useViewer, type MessageDetail, type SmtpSession } from './harness.js';

/** A 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

const text = (page: Page, testId: string) => page.getByTestId('delivery-panel').getByTestId(testId).textContent();

/** A stand-in for a remote image host: it records every request. */
async function startImageHost(): Promise<{ origin: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((request, response) => {
    hits.push(request.url ?? '');
    response.setHeader('Content-Type', 'image/png');
    response.end(PNG);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describeInBrowser('message page', () => {
  const h = useViewer({ clearBeforeEach: true });

  it('shows the faults that fired on the delivery, in the facts and in the transcript', async () => {
    const [rule] = h.server.faults.add([{ id: 'web-delay', at: 'rcpt', action: { delay: 5 }, match: { recipient: 'faulty@example.test' } }]);
    try {
      const sent = await h.send({ via: 'plain', from: 'app@example.test', to: ['faulty@example.test'], subject: 'Delayed', text: 'hello' });
      const { page } = await h.open(`/messages/${sent.id}`);
      await page.getByTestId('transcript').waitFor();
      expect(await text(page, 'delivery-fault')).toBe('web-delay: delay (faulty@example.test)');
      expect(await page.locator('.transcript-line.fault .transcript-text').allTextContents()).toEqual(['(fault web-delay at rcpt: delay 5 ms)']);
    } finally {
      h.server.faults.remove(rule?.id ?? '');
    }
  });

  it('shows the same delivery record as the API: STARTTLS with AUTH', async () => {
    const sent = await h.send({
      via: 'starttls',
      auth: { user: 'app-user', pass: 'secret' },
      from: 'app@example.test',
      to: ['alice@example.test', 'bob@example.test'],
      subject: 'Over STARTTLS',
      text: 'hello',
    });
    const message = await h.api<MessageDetail>(`/messages/${sent.id}`);
    const session = await h.api<SmtpSession>(`/messages/${sent.id}/session`);
    expect(message.tls.mode).toBe('starttls');

    const { page, errors } = await h.open(`/messages/${sent.id}`);
    await page.getByTestId('transcript').waitFor();
    expect(await text(page, 'delivery-mode')).toBe('STARTTLS');
    expect(await text(page, 'delivery-protocol')).toBe(message.tls.protocol);
    expect(await text(page, 'delivery-cipher')).toBe(message.tls.cipher?.standardName);
    expect(await text(page, 'delivery-sni')).toBe(message.tls.servername);
    expect(await text(page, 'delivery-client-certificate')).toBe('none presented');
    expect(await text(page, 'delivery-auth-mechanism')).toBe(message.auth?.mechanism);
    expect(await text(page, 'delivery-auth-user')).toBe('app-user');
    expect(await text(page, 'delivery-mail-from')).toBe(message.envelope.mailFrom);
    expect(await page.getByTestId('delivery-rcpt-to').locator('li').allTextContents()).toEqual(message.envelope.rcptTo);
    expect(await text(page, 'delivery-listener')).toBe(`smtp (port ${session.localPort})`);
    expect(await page.getByTestId('delivery-panel').locator('.tls-badge').textContent()).toBe(`STARTTLS · TLS ${message.tls.protocol?.replace('TLSv', '')}`);
    expect(await page.getByTestId('auth-before-tls').count()).toBe(0);
    expect(await page.getByTestId('plaintext-warning').count()).toBe(0);

    // The transcript: every line, in order, with the handshake marked after the 220 to STARTTLS.
    const transcript = page.getByTestId('transcript');
    expect(await transcript.locator('.transcript-text').allTextContents()).toEqual(session.transcript.map((line) => line.line));
    const items = await transcript.locator('li').allTextContents();
    const handshake = items.findIndex((item) => item.includes('TLS handshake'));
    const startTls = items.findIndex((item) => /CSTARTTLS$/.test(item));
    expect(startTls).toBeGreaterThan(-1);
    expect(handshake).toBe(startTls + 2);
    expect(items[handshake]).toContain(message.tls.protocol ?? 'missing');
    expect(errors).toEqual([]);
  });

  it('shows implicit TLS and a client certificate from a TLS lab listener', async () => {
    const lab = await h.server.addListener({ name: 'mtls', port: 0, tls: 'implicit', clientCertificate: 'request' });
    try {
      const response = await fetch(`${h.server.url}/api/v1/tls/client-certificates`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ commonName: 'billing-service' }),
      });
      const client = (await response.json()) as { cert: string; key: string };
      const transport = nodemailer.createTransport({
        host: lab.host,
        port: lab.port,
        secure: true,
        tls: { ca: h.server.ca, servername: 'localhost', cert: client.cert, key: client.key },
      });
      const info = await transport.sendMail({ from: 'billing@example.test', to: 'x@example.test', subject: 'With a client certificate', text: 'x' });
      transport.close();
      const messageId = info.messageId.replace(/^<|>$/g, '');
      let message: MessageDetail | undefined;
      await expect
        .poll(async () => {
          const { messages } = await h.api<{ messages: MessageDetail[] }>('/messages');
          message = messages.find((candidate) => candidate.messageId?.replace(/^<|>$/g, '') === messageId);
          return message !== undefined;
        })
        .toBe(true);
      if (!message) throw new Error('not captured');
      expect(message.tls.clientCertificate?.authorized).toBe(true);

      const { page } = await h.open(`/messages/${message.id}`);
      await page.getByTestId('transcript').waitFor();
      expect(await text(page, 'delivery-mode')).toBe('Implicit TLS');
      expect(await text(page, 'delivery-protocol')).toBe(message.tls.protocol);
      expect(await text(page, 'delivery-cipher')).toBe(message.tls.cipher?.standardName);
      expect(await page.getByTestId('delivery-panel').locator('.tls-badge').textContent()).toBe(`TLS · ${message.tls.protocol?.replace('TLSv', '')}`);
      const certificate = await text(page, 'delivery-client-certificate');
      expect(certificate).toContain(message.tls.clientCertificate?.subject ?? 'missing');
      expect(certificate).toContain('billing-service');
      expect(certificate).toContain('trusted');
      expect(await text(page, 'delivery-listener')).toBe(`mtls (port ${lab.port})`);
      expect(await page.getByTestId('transcript').locator('li').first().textContent()).toContain('implicit');
    } finally {
      await h.server.removeListener('mtls');
    }
  });

  it('says when a message could not be parsed, and shows its headers', async () => {
    const parts = Array.from({ length: 1100 }, (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('');
    // Sent raw: nodemailer would build a message of its own.
    const mailer = h.transport('plain');
    try {
      await mailer.sendMail({
        envelope: { from: 'app@example.test', to: ['dev@example.test'] },
        raw: `From: app@example.test\r\nTo: dev@example.test\r\nSubject: Too many parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${parts}--b--\r\n`,
      });
    } finally {
      mailer.close();
    }
    const { messages } = await h.api<{ messages: MessageDetail[] }>('/messages?limit=1');
    const sent = messages[0] as MessageDetail;
    expect(sent.subject).toBe('Too many parts');
    const { page } = await h.open(`/messages/${sent.id}`);
    const notice = page.getByTestId('parse-notice');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('Max allowed child nodes exceeded');
    await page.getByTestId('tab-headers').click();
    expect(await page.getByTestId('headers').locator('tr', { hasText: 'subject' }).locator('td').textContent()).toBe('Too many parts');
  });

  it('warns when credentials were sent before TLS', async () => {
    const sent = await h.send({
      via: 'plain',
      auth: { user: 'legacy', pass: 'hunter2' },
      from: 'cron@legacy.test',
      to: 'ops@example.test',
      subject: 'Plaintext with AUTH',
      text: 'x',
    });
    const session = await h.api<SmtpSession>(`/messages/${sent.id}/session`);
    expect(session.authBeforeTls).toBe(true);

    const { page } = await h.open(`/messages/${sent.id}`);
    await page.getByTestId('auth-before-tls').waitFor();
    expect(await page.getByTestId('auth-before-tls').textContent()).toContain('Credentials were sent before TLS');
    expect(await page.getByTestId('plaintext-warning').count()).toBe(1);
    expect(await text(page, 'delivery-mode')).toBe('None (plaintext)');
    expect(await page.getByTestId('delivery-panel').locator('.tls-badge').textContent()).toBe('Plaintext');
    // The password is never shown, not even in the transcript.
    expect(await page.getByTestId('delivery-panel').textContent()).not.toContain('hunter2');
  });

  it('renders hostile HTML without running any of it or letting it reach the viewer', async () => {
    const attack = "parent.document.title='pwned';top.document.body.innerHTML='pwned';top.localStorage.setItem('pwned','1');top.pwned=1";
    const sent = await h.send({
      from: 'attacker@example.test',
      to: 'dev@example.test',
      subject: 'Hostile HTML',
      text: 'x',
      html: `<html><head><script>${attack};document.documentElement.dataset.script='ran'</script></head>
        <body onload="${attack};document.body.dataset.onload='ran'">
          <p id="content">Visible content</p>
          <img src="data:," onerror="${attack};document.body.dataset.onerror='ran'">
          <svg onload="${attack};document.body.dataset.svg='ran'"></svg>
          <a id="js-link" href="javascript:${attack};document.body.dataset.link='ran'">javascript link</a>
          <a id="handler-link" href="#content" onclick="${attack};document.body.dataset.click='ran'">handler link</a>
          <form action="javascript:${attack}"><button id="submit">submit</button></form>
          <meta http-equiv="refresh" content="0;url=javascript:${attack}">
        </body></html>`,
    });
    const { page, errors } = await h.open(`/messages/${sent.id}`);
    const frameElement = page.getByTestId('html-frame');
    await frameElement.waitFor();
    const frame = page.frameLocator('[data-testid=html-frame]');
    await frame.locator('#content').waitFor();
    const title = await page.title();
    expect(title).toBe('Hostile HTML — Mailwright');

    await frame.locator('#js-link').click();
    await frame.locator('#handler-link').click();
    await frame.locator('#submit').click();

    // The sandbox: no scripts, an opaque origin.
    const sandbox = (await frameElement.getAttribute('sandbox')) ?? '';
    expect(sandbox).not.toContain('allow-scripts');
    expect(sandbox).not.toContain('allow-same-origin');
    const mailFrame = page.frames().find((candidate) => candidate !== page.mainFrame());
    expect(await mailFrame?.evaluate(() => self.origin)).toBe('null');
    // Nothing ran, not even against the mail's own document.
    expect(await mailFrame?.evaluate(() => ({ ...document.documentElement.dataset, ...document.body.dataset }))).toEqual({});
    // And nothing reached the viewer.
    expect(await page.title()).toBe(title);
    expect(await page.evaluate(() => ({ global: (window as unknown as { pwned?: number }).pwned ?? null, stored: localStorage.getItem('pwned') }))).toEqual({
      global: null,
      stored: null,
    });
    expect(await page.getByTestId('message-subject').textContent()).toBe('Hostile HTML');
    expect(await frame.locator('#content').textContent()).toBe('Visible content');
    expect(mailFrame?.url()).toMatch(/^about:srcdoc/);
    expect(errors).toEqual([]);
  });

  it('blocks remote images until allowed, and shows cid: images from the attachments', async () => {
    const host = await startImageHost();
    try {
      const sent = await h.send({
        from: 'news@example.test',
        to: 'dev@example.test',
        subject: 'Newsletter',
        text: 'x',
        html: `<p>Hello</p>
          <img id="tracker" src="${host.origin}/open.png?u=1" width="1" height="1">
          <div style="background-image:url('${host.origin}/background.png')">styled</div>
          <img id="logo" src="cid:logo@example.test" alt="logo">`,
        attachments: [{ filename: 'logo.png', content: PNG, cid: 'logo@example.test', contentType: 'image/png' }],
      });
      const { page } = await h.open(`/messages/${sent.id}`);
      const frame = page.frameLocator('[data-testid=html-frame]');
      await frame.locator('#logo').waitFor();
      await expect.poll(() => frame.locator('#logo').evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth)).toBe(1);
      expect(await page.getByTestId('remote-content-bar').textContent()).toContain('2 remote images are blocked');
      // Give a leaking implementation the time to leak.
      await frame
        .locator('#tracker')
        .evaluate((image: HTMLImageElement) => new Promise((resolve) => (image.complete ? resolve(null) : image.addEventListener('error', resolve))));
      expect(host.hits).toEqual([]);

      await page.getByTestId('load-remote').click();
      await expect.poll(() => [...host.hits].sort()).toEqual(['/background.png', '/open.png?u=1']);
      await expect.poll(() => frame.locator('#tracker').evaluate((image: HTMLImageElement) => image.naturalWidth)).toBe(1);
    } finally {
      await host.close();
    }
  });

  it('downloads attachments with their names, and shows text, source and headers', async () => {
    const pdf = Buffer.from('%PDF-1.4\n% test\n');
    const sent = await h.send({
      from: 'Reports <reports@example.test>',
      to: 'dev@example.test',
      subject: 'Monthly report',
      text: 'The report is attached: https://example.test/reports/7',
      headers: { 'X-Campaign': 'monthly-7' },
      attachments: [
        { filename: 'report.pdf', content: pdf, contentType: 'application/pdf' },
        { filename: 'données été.csv', content: 'a;b\n1;2\n', contentType: 'text/csv' },
      ],
    });
    const { page } = await h.open(`/messages/${sent.id}`);
    await page.getByTestId('message-subject').waitFor();
    expect(await page.getByTestId('tab-html').count()).toBe(1);
    // No HTML body: the text tab is the default.
    expect(await page.getByTestId('text-body').textContent()).toContain('The report is attached');
    expect(await page.getByTestId('text-body').locator('a').getAttribute('href')).toBe('https://example.test/reports/7');

    await page.keyboard.press('5');
    const links = page.getByTestId('attachment-link');
    await expect.poll(() => links.count()).toBe(2);
    expect(await links.nth(0).textContent()).toContain('application/pdf');

    for (const [index, name, content] of [
      [0, 'report.pdf', pdf],
      [1, 'données été.csv', Buffer.from('a;b\n1;2\n')],
    ] as const) {
      const [download] = await Promise.all([page.waitForEvent('download'), links.nth(index).click()]);
      expect(download.suggestedFilename()).toBe(name);
      expect(await readFile((await download.path()) ?? '')).toEqual(content);
    }

    await page.getByTestId('tab-headers').click();
    const headers = page.getByTestId('headers');
    await headers.waitFor();
    expect(await headers.locator('tr', { hasText: 'x-campaign' }).locator('td').textContent()).toBe('monthly-7');

    await page.getByTestId('tab-source').click();
    const raw = await (await fetch(`${h.server.url}/api/v1/messages/${sent.id}/raw`)).text();
    await expect.poll(() => page.getByTestId('raw-source').textContent()).toBe(raw);
    expect(new URL(page.url()).searchParams.get('tab')).toBe('source');
  });

  it('says so when the open message is deleted elsewhere', async () => {
    const sent = await h.send({ from: 'a@example.test', to: 'b@example.test', subject: 'Soon gone', text: 'x' });
    const { page } = await h.open(`/messages/${sent.id}`);
    await page.getByTestId('message-subject').waitFor();
    await page.locator('[data-testid=stream-status]', { hasText: 'Live' }).waitFor();
    await fetch(`${h.server.url}/api/v1/messages/${sent.id}`, { method: 'DELETE' });
    await page.getByTestId('message-deleted').waitFor();
  });
});
