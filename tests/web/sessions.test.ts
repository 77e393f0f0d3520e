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
});
