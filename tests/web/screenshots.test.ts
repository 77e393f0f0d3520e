/// <reference lib="dom" />
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeInBrowser, ROOT, useViewer, type CapturedMessage } from './harness.js';

/**
 * The README screenshots. They are always taken (and checked); they replace the ones in
 * docs/images only with UPDATE_SCREENSHOTS=1, since times and ports differ on every run.
 */
const OUTPUT_DIR = process.env.UPDATE_SCREENSHOTS ? join(ROOT, 'docs/images') : join(ROOT, 'tmp/screenshots');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" width="150" height="32" viewBox="0 0 150 32"><rect width="32" height="32" rx="8" fill="#0f766e"/><path d="M9 21l7-10 7 10" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/><text x="40" y="22" font-family="system-ui,sans-serif" font-size="16" font-weight="700" fill="#0f172a">Northwind</text></svg>`;

const ORDER_HTML = `<!DOCTYPE html><html><body style="margin:0;background:#f1f5f9;font-family:system-ui,sans-serif;color:#0f172a">
<table width="100%" cellpadding="0" cellspacing="0" style="padding:24px 0"><tr><td align="center">
<table width="560" cellpadding="0" cellspacing="0" style="background:#fff;border-radius:12px;padding:32px">
<tr><td><img src="cid:logo@northwind.test" alt="Northwind" width="150" height="32"></td></tr>
<tr><td style="padding-top:24px"><h1 style="font-size:22px;margin:0 0 8px">Thanks for your order, Alice!</h1>
<p style="color:#475569;margin:0 0 20px">Order <b>#1042</b> is confirmed and will ship within two business days.</p></td></tr>
<tr><td><table width="100%" cellpadding="8" style="border-collapse:collapse;font-size:14px">
<tr style="border-bottom:1px solid #e2e8f0"><td>Trail running shoes</td><td align="right">€ 119.00</td></tr>
<tr style="border-bottom:1px solid #e2e8f0"><td>Merino socks × 2</td><td align="right">€ 24.00</td></tr>
<tr><td><b>Total</b></td><td align="right"><b>€ 143.00</b></td></tr></table></td></tr>
<tr><td style="padding-top:24px"><a href="https://shop.northwind.test/orders/1042" style="display:inline-block;background:#0f766e;color:#fff;padding:10px 18px;border-radius:8px;text-decoration:none">Track your order</a></td></tr>
<tr><td style="padding-top:24px;color:#94a3b8;font-size:12px">Northwind Outfitters · <img src="https://cdn.northwind.test/open.gif" width="1" height="1" alt=""></td></tr>
</table></td></tr></table></body></html>`;

async function noHorizontalOverflow(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

describeInBrowser('screenshots and layouts', () => {
  const h = useViewer();
  let order: CapturedMessage;

  beforeAll(async () => {
    await mkdir(OUTPUT_DIR, { recursive: true });
    await h.send({
      via: 'plain',
      auth: { user: 'cron', pass: 'cron' },
      from: 'Nightly job <cron@legacy.test>',
      to: 'ops@northwind.test',
      subject: 'Nightly export finished',
      text: 'Exported 18,204 rows in 42 s.',
    });
    await h.send({
      via: 'starttls',
      auth: { user: 'reports', pass: 'x' },
      from: 'Reports <reports@northwind.test>',
      to: ['finance@northwind.test', 'ceo@northwind.test'],
      subject: 'Weekly revenue report',
      text: 'This week: € 48,310 (+6.2 %). The full report is attached.',
      attachments: [{ filename: 'revenue-week-47.pdf', content: Buffer.from('%PDF-1.4\n') }],
    });
    await h.send({
      via: 'implicit',
      from: 'Northwind Accounts <no-reply@northwind.test>',
      to: 'bob@example.test',
      subject: 'Reset your password',
      text: 'Someone asked to reset your password. Use this link within 30 minutes: https://northwind.test/reset?t=4f1c',
    });
    await h.send({
      via: 'starttls',
      from: 'Northwind <hello@northwind.test>',
      to: 'carol@example.test',
      subject: 'Welcome to Northwind',
      text: 'Your account is ready. Happy trails!',
    });
    order = await h.send({
      via: 'starttls',
      auth: { user: 'shop-app', pass: 'x' },
      from: 'Northwind Outfitters <orders@northwind.test>',
      to: 'Alice Martin <alice@example.test>',
      subject: 'Your order #1042 is confirmed',
      text: 'Thanks for your order, Alice! Order #1042 is confirmed. Total € 143.00.',
      html: ORDER_HTML,
      attachments: [
        { filename: 'logo.svg', content: LOGO, contentType: 'image/svg+xml', cid: 'logo@northwind.test' },
        { filename: 'invoice-1042.pdf', content: Buffer.from('%PDF-1.4\n') },
      ],
    });
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`inbox and message page, ${colorScheme}`, async () => {
      const { page } = await h.open('/', { colorScheme });
      await page.locator('[data-testid=message-row]').nth(4).waitFor();
      await page.locator('[data-testid=stream-status]', { hasText: 'Live' }).waitFor();
      // A selected row, as after j j.
      await page.keyboard.press('j');
      await page.keyboard.press('j');
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(background).toBe(colorScheme === 'dark' ? 'rgb(20, 22, 26)' : 'rgb(255, 255, 255)');
      expect(await noHorizontalOverflow(page)).toBe(true);
      const inboxFile = join(OUTPUT_DIR, `inbox-${colorScheme}.png`);
      await page.screenshot({ path: inboxFile });

      await page.goto(`/messages/${order.id}`);
      const frame = page.frameLocator('[data-testid=html-frame]');
      await frame.locator('img[alt=Northwind]').waitFor();
      await expect.poll(() => frame.locator('img[alt=Northwind]').evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth)).toBe(150);
      await page.getByTestId('transcript').waitFor();
      expect(await noHorizontalOverflow(page)).toBe(true);
      const messageFile = join(OUTPUT_DIR, `message-${colorScheme}.png`);
      await page.screenshot({ path: messageFile });

      for (const file of [inboxFile, messageFile]) expect((await readFile(file)).subarray(0, 4)).toEqual(PNG_SIGNATURE);
    });
  }

  it('fits a narrow window: no sideways scrolling, the delivery panel below the mail', async () => {
    const { page } = await h.open('/', { viewport: { width: 390, height: 844 } });
    await page.locator('[data-testid=message-row]').nth(4).waitFor();
    expect(await noHorizontalOverflow(page)).toBe(true);
    await page.getByTestId('search-input').waitFor({ state: 'visible' });
    await page.getByTestId('clear-inbox').waitFor({ state: 'visible' });

    await page.locator('[data-testid=message-row] a').first().click();
    await page.getByTestId('transcript').waitFor();
    expect(await noHorizontalOverflow(page)).toBe(true);
    const content = await page.locator('.message-content').boundingBox();
    const panel = await page.getByTestId('delivery-panel').boundingBox();
    expect(panel && content && panel.y >= content.y + content.height).toBe(true);
    expect(panel && panel.width <= 390).toBe(true);
    await page.screenshot({ path: join(OUTPUT_DIR, 'narrow-message.png'), fullPage: false });
  });

  it('toggles the theme, and remembers the choice', async () => {
    const { page } = await h.open('/', { colorScheme: 'light' });
    await page.locator('[data-testid=message-row]').first().waitFor();
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await background()).toBe('rgb(255, 255, 255)');
    await page.getByTestId('theme-toggle').click(); // system → light
    await page.getByTestId('theme-toggle').click(); // light → dark
    expect(await background()).toBe('rgb(20, 22, 26)');
    await page.reload();
    await page.locator('[data-testid=message-row]').first().waitFor();
    expect(await background()).toBe('rgb(20, 22, 26)');
  });
});
