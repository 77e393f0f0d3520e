import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailwright, type RunningMailwright } from '@mailwright/server';
import { ensureWebBuild, WEB_ROOT } from './web-build.js';

/** The budget of the viewer's JavaScript, gzipped. */
const JS_BUDGET_BYTES = 250 * 1024;

describe('the built viewer, as the server serves it', () => {
  let server: RunningMailwright;
  let index: string;

  beforeAll(async () => {
    await ensureWebBuild();
    server = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0, webRoot: WEB_ROOT });
    index = await readFile(join(WEB_ROOT, 'index.html'), 'utf8');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves index.html at / and for every viewer address, revalidated and with a CSP', async () => {
    for (const path of ['/', '/messages/some-id?tab=source', '/sessions', '/sessions/abc']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await response.text()).toBe(index);
    }
    const api = await fetch(`${server.url}/api/v1/nothing-here`);
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('serves hashed assets with their types, cached for good, and the favicon', async () => {
    const assets = [...index.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1] as string);
    expect(assets.some((asset) => asset.endsWith('.js'))).toBe(true);
    expect(assets.some((asset) => asset.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const response = await fetch(`${server.url}${asset}`);
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('content-type'), asset).toMatch(asset.endsWith('.js') ? /^(text|application)\/javascript/ : /^text\/css/);
      expect(response.headers.get('cache-control'), asset).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const favicon = await fetch(`${server.url}/favicon.svg`);
    expect(favicon.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(favicon.headers.get('cache-control')).toBe('no-cache');
  });

  it(`keeps the JavaScript under ${JS_BUDGET_BYTES / 1024} KB gzipped`, async () => {
    const files = (await readdir(join(WEB_ROOT, 'assets'))).filter((file) => file.endsWith('.js'));
    let gzipped = 0;
    for (const file of files) gzipped += gzipSync(await readFile(join(WEB_ROOT, 'assets', file)), { level: 9 }).length;
    console.log(`[web] viewer JavaScript: ${(gzipped / 1024).toFixed(1)} KB gzipped in ${files.length} file(s)`);
    expect(gzipped).toBeGreaterThan(0);
    expect(gzipped).toBeLessThan(JS_BUDGET_BYTES);
  });

  it('loads nothing from other hosts: no fonts, CDNs or remote styles', async () => {
    const css = await Promise.all(
      (await readdir(join(WEB_ROOT, 'assets'))).filter((file) => file.endsWith('.css')).map((file) => readFile(join(WEB_ROOT, 'assets', file), 'utf8')),
    );
    for (const text of [index, ...css]) {
      expect(text).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
      expect(text).not.toMatch(/url\(\s*['"]?(?:https?:)?\/\//);
      expect(text).not.toMatch(/@import|@font-face/);
    }
  });
});
