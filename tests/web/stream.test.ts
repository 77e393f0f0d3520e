import nodemailer from 'nodemailer';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMailwright, type RunningMailwright } from '@mailwright/server';
import { startTcpProxy, type TcpProxy } from '../../packages/server/src/test-support/tcp-proxy.js';
import { describeInBrowser, useViewer, WEB_ROOT } from './harness.js';

const subjects = async (page: Page): Promise<string[]> => page.locator('[data-testid=message-row] .subject').allTextContents();

describeInBrowser("the viewer's stream across a server restart", () => {
  const h = useViewer({ clearBeforeEach: true });
  /** The "restarted" server: another process state, an empty store, seq from 0. */
  let restarted: RunningMailwright;
  /** A TCP proxy in front of the HTTP port, so that the page's server can be swapped under it. */
  let proxy: TcpProxy;

  beforeAll(async () => {
    restarted = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0, webRoot: WEB_ROOT });
    proxy = await startTcpProxy(h.server.url);
  });

  afterAll(async () => {
    await proxy?.close();
    await restarted?.close();
  });

  it('shows new mail live after the server restarted with an empty store (its seq went back)', async () => {
    const { port } = proxy;
    const context = await h.browser.newContext({ baseURL: `http://127.0.0.1:${port}` });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto('/');
      await page.locator('[data-testid=stream-status]', { hasText: 'Live' }).waitFor();
      // Mail on the first server moves the inbox's stream cursor to seq 3 or more.
      for (const subject of ['one', 'two', 'three']) await h.send({ via: 'plain', from: 'app@example.test', to: 'dev@example.test', subject, text: 'x' });
      await expect.poll(() => subjects(page)).toEqual(['three', 'two', 'one']);

      // "Restart": the page's address now leads to a fresh server.
      proxy.target = restarted.url;
      proxy.cut();
      // The reconnect reloads the list: the new server's inbox is empty.
      await expect.poll(() => subjects(page), { timeout: 10_000 }).toEqual([]);
      await page.locator('[data-testid=stream-status]', { hasText: 'Live' }).waitFor();

      // Its first message has seq 1, below the old cursor: it must still arrive live.
      const mailer = nodemailer.createTransport({ host: restarted.smtp.host, port: restarted.smtp.port, ignoreTLS: true });
      await mailer.sendMail({ from: 'app@example.test', to: 'dev@example.test', subject: 'after the restart', text: 'x' });
      mailer.close();
      const newest = async (): Promise<number | undefined> =>
        ((await (await fetch(`${restarted.url}/api/v1/messages?limit=1`)).json()) as { messages: { seq: number }[] }).messages[0]?.seq;
      await expect.poll(newest).toBe(1);
      await expect.poll(() => subjects(page), { timeout: 5_000 }).toEqual(['after the restart']);
      expect(errors).toEqual([]);
    } finally {
      proxy.target = h.server.url;
      await context.close();
    }
  });
});
