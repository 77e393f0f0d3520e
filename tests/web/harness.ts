import { existsSync } from 'node:fs';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, vi } from 'vitest';
import type { CapturedMessage, MessageDetail, SmtpSession } from '@mailwright/core';
import { createMailwright, type MailwrightOptions, type RunningMailwright } from '@mailwright/server';
import { describeWithPrerequisite } from '../../packages/server/src/test-support/external-client.js';
import { ensureWebBuild, WEB_ROOT } from './web-build.js';

export { ROOT, WEB_ROOT } from './web-build.js';

/** Debian's Chromium; MAILWRIGHT_CHROMIUM points elsewhere. */
export const CHROMIUM_PATH = process.env.MAILWRIGHT_CHROMIUM ?? '/usr/bin/chromium';

/** How long a sent mail may take to show up in the API. */
const CAPTURE_TIMEOUT_MS = 2_000;

/** Why the browser suites cannot run here, or null when they can. */
const chromiumUnavailable: string | null = existsSync(CHROMIUM_PATH) ? null : `Chromium not found at ${CHROMIUM_PATH} (set MAILWRIGHT_CHROMIUM)`;

/** `describe` for a browser suite: skipped, with the reason in its name, when Chromium is missing; failed under CI=true. */
export function describeInBrowser(name: string, body: () => void): void {
  describeWithPrerequisite(name, chromiumUnavailable, body);
}

/** How a test mail travels. */
export type Route = 'starttls' | 'implicit' | 'plain';

/** A page of the viewer, with the uncaught errors it threw (tests expect none). */
export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  errors: string[];
}

/** A running server with the viewer, a browser, and helpers to send mail and read the API. */
export interface ViewerHarness {
  server: RunningMailwright;
  browser: Browser;
  /** A fresh browser context (own storage) with one page, at `path`. */
  open(path?: string, options?: { colorScheme?: 'light' | 'dark'; viewport?: { width: number; height: number } }): Promise<OpenedPage>;
  /** A nodemailer transport to the server: STARTTLS (required), implicit TLS, or plaintext. */
  transport(via?: Route, auth?: { user: string; pass: string }): nodemailer.Transporter;
  /** Sends a mail and resolves with its captured record. */
  send(mail: Mail.Options & { via?: Route; auth?: { user: string; pass: string } }): Promise<CapturedMessage>;
  /** GETs an API path (below /api/v1) as JSON. */
  api<T = unknown>(path: string): Promise<T>;
  /** Deletes every message. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** Starts Mailwright serving the built viewer, and Chromium. */
export async function startViewer(options: MailwrightOptions = {}): Promise<ViewerHarness> {
  await ensureWebBuild();
  const server = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0, webRoot: WEB_ROOT, ...options });
  const browser = await chromium
    .launch({
      executablePath: CHROMIUM_PATH,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    })
    .catch(async (error: unknown) => {
      await server.close();
      throw error;
    });
  const contexts = new Set<BrowserContext>();

  const transport = (via: Route = 'starttls', auth?: { user: string; pass: string }): nodemailer.Transporter => {
    const endpoint = via === 'implicit' ? server.smtps : server.smtp;
    return nodemailer.createTransport({
      host: endpoint.host,
      port: endpoint.port,
      secure: via === 'implicit',
      requireTLS: via === 'starttls',
      ignoreTLS: via === 'plain',
      tls: { ca: server.ca, servername: 'localhost' },
      auth,
    });
  };

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${server.url}/api/v1${path}`);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };

  return {
    server,
    browser,
    async open(path = '/', { colorScheme = 'light', viewport = { width: 1280, height: 800 } } = {}) {
      const context = await browser.newContext({ viewport, colorScheme, acceptDownloads: true, baseURL: server.url });
      contexts.add(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(path);
      return { context, page, errors };
    },
    transport,
    async send({ via = 'starttls', auth, ...mail }) {
      const mailer = transport(via, auth);
      try {
        const info = await mailer.sendMail(mail);
        const messageId = info.messageId.replace(/^<|>$/g, '');
        return await vi.waitFor(
          async () => {
            const { messages } = await api<{ messages: CapturedMessage[] }>(`/messages?limit=20`);
            const found = messages.find((message) => message.messageId?.replace(/^<|>$/g, '') === messageId);
            if (!found) throw new Error(`Sent ${messageId} but it was not captured`);
            return found;
          },
          { timeout: CAPTURE_TIMEOUT_MS, interval: 20 },
        );
      } finally {
        mailer.close();
      }
    },
    api,
    async clear() {
      const response = await fetch(`${server.url}/api/v1/messages?all=true`, { method: 'DELETE' });
      if (!response.ok) throw new Error(`DELETE /messages: ${response.status}`);
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await server.close();
    },
  };
}

/**
 * Registers hooks in the enclosing suite that start a viewer before its tests and close it
 * after them; with `clearBeforeEach`, every test starts from an empty inbox. The returned
 * harness forwards to the started one, so it works in the suite's tests and in hooks
 * registered after this call.
 */
export function useViewer(options: { clearBeforeEach?: boolean } = {}): ViewerHarness {
  let started: ViewerHarness | undefined;
  const current = (): ViewerHarness => {
    if (!started) throw new Error('the viewer is not started: use it in tests, or in hooks registered after useViewer()');
    return started;
  };
  beforeAll(async () => {
    started = await startViewer();
  });
  afterAll(async () => {
    await started?.close();
  });
  if (options.clearBeforeEach) {
    beforeEach(async () => {
      await current().clear();
    });
  }
  return {
    get server() {
      return current().server;
    },
    get browser() {
      return current().browser;
    },
    open: (path, openOptions) => current().open(path, openOptions),
    transport: (via, auth) => current().transport(via, auth),
    send: (mail) => current().send(mail),
    api: <T>(path: string) => current().api<T>(path),
    clear: () => current().clear(),
    close: () => current().close(),
  };
}

export type { CapturedMessage, MessageDetail, SmtpSession };
