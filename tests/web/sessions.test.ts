import net from 'node:net';
import tls from 'node:tls';
import { expect, it } from 'vitest';
import { describeInBrowser, useViewer, type SmtpSession } from './harness.js';

/** A client that does not trust the test CA: its handshake fails. */
function failHandshake(host: string, port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, servername: 'localhost' });
    socket.once('error', () => resolve());
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve();
    });
  });
}

/** EHLO, STARTTLS, then a handshake the client abandons (it does not trust the test CA). */
async function failStarttls(host: string, port: number, servername: string): Promise<void> {
  const socket = net.connect({ host, port });
  let received = '';
  const waitFor = (pattern: RegExp): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (!pattern.test(received)) return;
        socket.off('data', onData);
        resolve();
      };
      const onData = (chunk: Buffer): void => {
        received += chunk.toString('latin1');
        check();
      };
      socket.on('data', onData);
      check();
    });
  await waitFor(/^220 /m);
  socket.write('EHLO client.test\r\n');
  await waitFor(/^250 /m);
  socket.write('STARTTLS\r\n');
  await waitFor(/^220 .*\r\n(?![\s\S]*^250 )/m);
  await new Promise<void>((resolve) => {
    const secured = tls.connect({ socket, servername });
    secured.once('error', () => resolve());
    secured.once('secureConnect', () => (secured.destroy(), resolve()));
  });
  socket.destroy();
}

describeInBrowser('sessions page', () => {
  const h = useViewer();

  it('lists sessions that carried no mail, with the reason a handshake failed, live', async () => {
    const sent = await h.send({ from: 'a@example.test', to: 'b@example.test', subject: 'Carried mail', text: 'x' });
    const { page, errors } = await h.open('/sessions');
    await page.locator('[data-testid=stream-status]', { hasText: 'Live' }).waitFor();
    await page.locator(`[data-testid=session-row][data-id="${sent.sessionId}"]`).waitFor();

    // The failed handshake happens while the page is open: it arrives through the stream.
    await failHandshake(h.server.smtps.host, h.server.smtps.port);
    let failed: SmtpSession | undefined;
    await expect
      .poll(async () => {
        const { sessions } = await h.api<{ sessions: SmtpSession[] }>('/sessions');
        failed = sessions.find((session) => session.error?.stage === 'tls');
        return failed?.closedAt ? failed.error?.code : undefined;
      })
      .toBeTruthy();
    if (!failed?.error) throw new Error('no failed session');
    const row = page.locator(`[data-testid=session-row][data-id="${failed.id}"]`);
    await expect.poll(() => row.getByTestId('session-result').textContent()).toBe(`TLS failed: ${failed.error.code}`);
    expect(await row.locator('td').nth(5).textContent()).toBe('0');

    await page.getByLabel('Only sessions without mail').check();
    await expect
      .poll(() => page.locator('[data-testid=session-row]').evaluateAll((rows) => rows.map((element) => element.getAttribute('data-id'))))
      .toEqual([failed.id]);

    await row.locator('a').first().click();
    await page.getByTestId('session-page').getByTestId('session-error').waitFor();
    const alert = await page.getByTestId('session-error').textContent();
    expect(alert).toContain('TLS handshake failed');
    expect(alert).toContain(failed.error.code);
    expect(alert).toContain(failed.error.message);
    expect(await page.getByTestId('session-page').textContent()).toContain('This session carried no mail.');
    expect(errors).toEqual([]);
  });

  it('shows the transcript of a session that carried mail, linking to its message', async () => {
    const sent = await h.send({
      via: 'starttls',
      auth: { user: 'svc', pass: 'pw' },
      from: 'a@example.test',
      to: 'b@example.test',
      subject: 'Session detail',
      text: 'x',
    });
    const session = await h.api<SmtpSession>(`/sessions/${sent.sessionId}`);
    const { page } = await h.open(`/sessions/${sent.sessionId}`);
    const transcript = page.getByTestId('transcript');
    await transcript.waitFor();
    expect(await transcript.locator('.transcript-text').allTextContents()).toEqual(session.transcript.map((line) => line.line));
    expect(await page.getByTestId('delivery-auth-user').textContent()).toBe('svc');
    await page.getByRole('link', { name: sent.id }).click();
    await page.getByTestId('message-subject').filter({ hasText: 'Session detail' }).waitFor();
  });

  it('a failed STARTTLS handshake shows the SNI it was attempted with, and no handshake in the transcript', async () => {
    await failStarttls(h.server.smtp.host, h.server.smtp.port, 'mx.failed.example');
    let failed: SmtpSession | undefined;
    await expect
      .poll(async () => {
        const { sessions } = await h.api<{ sessions: SmtpSession[] }>('/sessions');
        failed = sessions.find((session) => session.error?.stage === 'tls' && session.tls.servername === 'mx.failed.example');
        return failed?.closedAt ?? undefined;
      })
      .toBeTruthy();
    expect(failed?.tls).toMatchObject({ mode: 'starttls', protocol: null });
    const { page, errors } = await h.open(`/sessions/${failed!.id}`);
    await page.getByTestId('transcript').waitFor();
    expect(await page.getByTestId('delivery-mode').textContent()).toContain('handshake failed');
    expect(await page.getByTestId('delivery-sni').textContent()).toBe('mx.failed.example');
    expect(await page.locator('.transcript-tls').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
