/// <reference lib="dom" />
import { expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { describeInBrowser, useViewer, type CapturedMessage } from './harness.js';

const LIVE_DEADLINE_MS = 1_000;

const rows = (page: Page) => page.locator('[data-testid=message-row]');
const subjects = async (page: Page): Promise<string[]> => rows(page).locator('.subject').allTextContents();

async function waitLive(page: Page): Promise<void> {
  await page.locator('[data-testid=stream-status]', { hasText: 'Live' }).waitFor();
}

describeInBrowser('inbox viewer', () => {
  const h = useViewer({ clearBeforeEach: true });

  it('shows a new mail in the open inbox within a second of sending, without reload', async () => {
    const { page, errors } = await h.open('/');
    await waitLive(page);
    await page.getByTestId('empty-inbox').waitFor();
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => frame === page.mainFrame() && navigations.push(frame.url()));

    const mailer = h.transport('starttls');
    const subject = `Live ${Date.now()}`;
    await mailer.sendMail({ from: 'app@example.test', to: 'dev@example.test', subject, text: 'hello' });
    const sentAt = Date.now();
    mailer.close();

    await page.locator('[data-testid=message-row] .subject', { hasText: subject }).waitFor({ timeout: LIVE_DEADLINE_MS });
    expect(Date.now() - sentAt).toBeLessThan(LIVE_DEADLINE_MS);
    expect(navigations).toEqual([]);

    // Newest first: a second mail goes on top.
    await h.send({ from: 'app@example.test', to: 'dev@example.test', subject: `${subject} (2)`, text: 'again' });
    await expect.poll(() => subjects(page)).toEqual([`${subject} (2)`, subject]);
    const row = rows(page).first();
    await expect.poll(() => row.locator('.tls-badge').textContent()).toBe('STARTTLS · TLS 1.3');
    expect(errors).toEqual([]);
  });

  it('shows sender, recipients, size, attachment marker and a delivery badge per row', async () => {
    await h.send({ via: 'plain', from: '"Cron" <cron@legacy.test>', to: 'ops@example.test', subject: 'Plain one', text: 'x' });
    const implicit = await h.send({
      via: 'implicit',
      from: 'Shop <orders@shop.test>',
      to: 'Alice <alice@example.test>',
      subject: 'With attachment',
      text: 'see attached',
      attachments: [{ filename: 'invoice.pdf', content: Buffer.from('%PDF-1.4') }],
    });
    const { page } = await h.open('/');
    await expect.poll(() => rows(page).count()).toBe(2);

    const plain = rows(page).filter({ hasText: 'Plain one' });
    expect(await plain.locator('.row-from').textContent()).toBe('Cron');
    expect(await plain.locator('.tls-badge').getAttribute('data-tls-mode')).toBe('none');
    expect(await plain.locator('.tls-badge').textContent()).toBe('Plaintext');
    expect(await plain.getByTestId('attachment-marker').count()).toBe(0);

    const secure = rows(page).filter({ hasText: 'With attachment' });
    expect(await secure.locator('.row-from').textContent()).toBe('Shop');
    expect(await secure.locator('.row-to').textContent()).toContain('Alice');
    expect(await secure.locator('.tls-badge').textContent()).toBe(`TLS · ${implicit.tls.protocol?.replace('TLSv', '')}`);
    expect(await secure.getByTestId('attachment-marker').count()).toBe(1);
    expect(await secure.locator('.row-size').textContent()).toMatch(/^\d+(\.\d)? (B|KB)$/);
    // The plaintext badge is the warning colour, the TLS one is not.
    const colour = (selector: typeof plain) => selector.locator('.tls-badge').evaluate((element) => getComputedStyle(element).color);
    expect(await colour(plain)).not.toBe(await colour(secure));
  });

  it('searches with the API filter fields and agrees with the API', async () => {
    await h.send({ via: 'starttls', from: 'billing@shop.test', to: 'alice@example.test', subject: 'Invoice 7', text: 'monthly' });
    await h.send({ via: 'plain', from: 'hello@shop.test', to: 'bob@example.test', subject: 'Welcome', text: 'hi there' });
    await h.send({ via: 'implicit', from: 'billing@shop.test', to: 'carol@example.test', subject: 'Invoice 8', text: 'quarterly numbers' });
    const { page } = await h.open('/');
    await expect.poll(() => rows(page).count()).toBe(3);
    const search = page.getByTestId('search-input');

    const expectSameAsApi = async (query: string): Promise<void> => {
      const { messages } = await h.api<{ messages: CapturedMessage[] }>(`/messages?${query}`);
      await expect
        .poll(() => rows(page).evaluateAll((elements) => elements.map((element) => element.getAttribute('data-id'))))
        .toEqual(messages.map((message) => message.id));
      expect(new URL(page.url()).search).toBe(`?${query}`);
    };

    await search.fill('subject:Invoice');
    await search.press('Enter');
    await expect.poll(() => subjects(page)).toEqual(['Invoice 8', 'Invoice 7']);
    await expectSameAsApi('subject=Invoice');

    await search.fill('to:carol');
    await search.press('Enter');
    await expect.poll(() => subjects(page)).toEqual(['Invoice 8']);
    await expectSameAsApi('to=carol');

    await search.fill('from:billing quarterly');
    await search.press('Enter');
    await expect.poll(() => subjects(page)).toEqual(['Invoice 8']);
    await expectSameAsApi('from=billing&text=quarterly');

    // tag: and listener: are filter fields too (no message here carries a tag).
    await search.fill('listener:smtps');
    await search.press('Enter');
    await expect.poll(() => subjects(page)).toEqual(['Invoice 8']);
    await expectSameAsApi('listener=smtps');
    await search.fill('tag:none-such');
    await search.press('Enter');
    await expectSameAsApi('tag=none-such');

    await search.fill('');
    await search.press('Enter');
    await page.getByTestId('tls-filter').selectOption('none');
    await expect.poll(() => subjects(page)).toEqual(['Welcome']);
    await expectSameAsApi('tls=none');

    await page.getByTestId('tls-filter').selectOption('any');
    await expect.poll(() => subjects(page)).toEqual(['Invoice 8', 'Invoice 7']);
    await expectSameAsApi('tls=any');

    // A search stays live: a new matching mail appears, a non-matching one does not.
    await h.send({ via: 'plain', from: 'x@shop.test', to: 'dave@example.test', subject: 'Invoice 9 (plain)', text: 'x' });
    await h.send({ via: 'starttls', from: 'x@shop.test', to: 'erin@example.test', subject: 'Invoice 10', text: 'x' });
    await expect.poll(() => subjects(page)).toEqual(['Invoice 10', 'Invoice 8', 'Invoice 7']);

    // Typing searches without Enter; a bad regular expression is reported, not swallowed.
    await page.getByTestId('tls-filter').selectOption('');
    await search.fill('subject:re:(');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/regular expression/i);
    await search.fill('subject:re:^Welcome$');
    await expect.poll(() => subjects(page)).toEqual(['Welcome']);

    // The search survives a reload (it lives in the address).
    await page.reload();
    await expect.poll(() => subjects(page)).toEqual(['Welcome']);
    expect(await search.inputValue()).toBe('subject:re:^Welcome$');

    // A full address is that one recipient, never a longer one containing it, live too; a
    // partial term stays a substring.
    await search.fill('to:carol@example.test');
    await search.press('Enter');
    await expect.poll(() => subjects(page)).toEqual(['Invoice 8']);
    await expectSameAsApi('to=carol%40example.test');
    await h.send({ via: 'plain', from: 'x@shop.test', to: 'mcarol@example.test', subject: 'For mcarol', text: 'x' });
    await h.send({ via: 'plain', from: 'x@shop.test', to: 'Carol@Example.test', subject: 'For Carol', text: 'x' });
    await expect.poll(() => subjects(page)).toEqual(['For Carol', 'Invoice 8']);
    await search.fill('to:carol@');
    await search.press('Enter');
    await expect.poll(() => subjects(page)).toEqual(['For Carol', 'For mcarol', 'Invoice 8']);
  });

  it('navigates with j/k and Enter, and deletes with the Delete key and the row button', async () => {
    for (const subject of ['First', 'Second', 'Third']) await h.send({ from: 'a@example.test', to: 'b@example.test', subject, text: subject });
    const { page } = await h.open('/');
    await expect.poll(() => subjects(page)).toEqual(['Third', 'Second', 'First']);
    const selected = () => page.locator('[data-testid=message-row].selected .subject').textContent();

    await page.keyboard.press('j');
    expect(await selected()).toBe('Third');
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    expect(await selected()).toBe('First');
    await page.keyboard.press('k');
    expect(await selected()).toBe('Second');

    await page.keyboard.press('Enter');
    await page.getByTestId('message-subject').filter({ hasText: 'Second' }).waitFor();
    await page.keyboard.press('j');
    await page.getByTestId('message-subject').filter({ hasText: 'First' }).waitFor();
    await page.keyboard.press('k');
    await page.getByTestId('message-subject').filter({ hasText: 'Second' }).waitFor();

    // Delete on a message page deletes it and moves on to the next one.
    await page.keyboard.press('Delete');
    await page.getByTestId('message-subject').filter({ hasText: 'First' }).waitFor();
    await expect.poll(async () => (await h.api<{ messages: CapturedMessage[] }>('/messages')).messages.map((m) => m.subject)).toEqual(['Third', 'First']);

    await page.keyboard.press('Escape');
    await expect.poll(() => subjects(page)).toEqual(['Third', 'First']);
    expect(await selected()).toBe('First');
    await page.keyboard.press('Delete');
    await expect.poll(() => subjects(page)).toEqual(['Third']);

    const row = rows(page).first();
    await row.hover();
    await row.getByRole('button', { name: /Delete/ }).click();
    await page.getByTestId('empty-inbox').waitFor();
    expect((await h.api<{ total: number }>('/messages')).total).toBe(0);
  });

  it('removes mail deleted elsewhere, and clears the inbox only after confirmation', async () => {
    const doomed = await h.send({ from: 'a@example.test', to: 'b@example.test', subject: 'Deleted by the API', text: 'x' });
    await h.send({ from: 'a@example.test', to: 'b@example.test', subject: 'Kept', text: 'x' });
    const { page } = await h.open('/');
    await expect.poll(() => subjects(page)).toEqual(['Kept', 'Deleted by the API']);
    await fetch(`${h.server.url}/api/v1/messages/${doomed.id}`, { method: 'DELETE' });
    await expect.poll(() => subjects(page)).toEqual(['Kept']);

    await page.getByTestId('clear-inbox').click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await h.api<{ total: number }>('/messages')).total).toBe(1);
    expect(await rows(page).count()).toBe(1);

    await page.getByTestId('clear-inbox').click();
    await dialog.getByRole('button', { name: 'Delete all messages' }).click();
    await page.getByTestId('empty-inbox').waitFor();
    expect((await h.api<{ total: number }>('/messages')).total).toBe(0);
  });

  it('deletes only the messages the search matches, after confirmation', async () => {
    await h.send({ from: 'a@example.test', to: 'b@example.test', subject: 'Receipt 1', text: 'x' });
    await h.send({ from: 'a@example.test', to: 'b@example.test', subject: 'Kept newsletter', text: 'x' });
    await h.send({ from: 'a@example.test', to: 'b@example.test', subject: 'Receipt 2', text: 'x' });
    const { page } = await h.open('/?subject=Receipt');
    await expect.poll(() => subjects(page)).toEqual(['Receipt 2', 'Receipt 1']);
    const button = page.getByTestId('clear-inbox');
    expect(await button.textContent()).toBe('Delete matching');
    await button.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('The 2 messages matching the search will be deleted; the others are kept.', { exact: false }).waitFor();
    await dialog.getByRole('button', { name: 'Delete matching messages' }).click();
    await page.getByTestId('no-match').waitFor();
    expect((await h.api<{ messages: CapturedMessage[] }>('/messages')).messages.map((m) => m.subject)).toEqual(['Kept newsletter']);
  });

  it('keeps unread state in the browser and shows the count in the title and favicon', async () => {
    await h.send({ from: 'a@example.test', to: 'b@example.test', subject: 'Unread one', text: 'x' });
    await h.send({ from: 'a@example.test', to: 'b@example.test', subject: 'Unread two', text: 'x' });
    const { page } = await h.open('/');
    await expect.poll(() => page.title()).toBe('(2) Inbox — Mailwright');
    const favicon = () => page.locator('link[rel=icon]').getAttribute('href');
    expect(decodeURIComponent((await favicon()) ?? '')).toContain('>2</text>');
    expect(await page.locator('[data-testid=message-row].unread').count()).toBe(2);

    await rows(page).filter({ hasText: 'Unread two' }).locator('a').click();
    await page.getByTestId('message-subject').waitFor();
    await expect.poll(() => page.title()).toBe('(1) Unread two — Mailwright');
    await page.goBack();
    await expect.poll(() => page.locator('[data-testid=message-row].unread .subject').allTextContents()).toEqual(['Unread one']);

    // Kept across a reload, and in new mail arriving meanwhile.
    await page.reload();
    await expect.poll(() => page.title()).toBe('(1) Inbox — Mailwright');
    await waitLive(page);
    await h.send({ from: 'a@example.test', to: 'b@example.test', subject: 'Unread three', text: 'x' });
    await expect.poll(() => page.title()).toBe('(2) Inbox — Mailwright');
    expect(decodeURIComponent((await favicon()) ?? '')).toContain('>2</text>');

    await page.getByRole('button', { name: 'Mark all read' }).click();
    await expect.poll(() => page.title()).toBe('Inbox — Mailwright');
    expect(decodeURIComponent((await favicon()) ?? '')).not.toContain('</text>');
  });
});
