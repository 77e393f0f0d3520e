import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageDetailSchema } from '@mailwright/core';
import { RawSmtpClient } from '../test-support/raw-smtp-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { extractLinks } from './extract-links.js';

describe('extractLinks', () => {
  it('decodes character references in hrefs, named, decimal and hexadecimal, with or without quotes', () => {
    const html = [
      '<a href="https://app.test/reset?token=abc&amp;x=1">a</a>',
      "<a href='https://app.test/q?a=1&#38;b=2'>b</a>",
      '<a href=https://app.test/h?c=1&#x26;d=&quot;e&quot;>c</a>',
      '<area href="https://app.test/map?&lt;x&gt;">',
    ].join('');
    expect(extractLinks(null, html)).toEqual([
      'https://app.test/reset?token=abc&x=1',
      'https://app.test/q?a=1&b=2',
      'https://app.test/h?c=1&d="e"',
      'https://app.test/map?<x>',
    ]);
  });

  it('keeps only web links: no mailto:, tel:, javascript:, relative or fragment targets, no bare addresses or host names', () => {
    const html =
      '<a href="mailto:help@app.test">m</a><a href="tel:+1555">t</a><a href="javascript:alert(1)">j</a>' +
      '<a href="/relative">r</a><a href="#top">f</a><a href="  HTTPS://App.test/Upper  ">u</a>';
    const text = 'Write to help@app.test or mailto:help@app.test, see www.app.test or ftp://files.app.test/x and //cdn.app.test/y';
    expect(extractLinks(text, html)).toEqual(['HTTPS://App.test/Upper']);
  });

  it('lists each link once, hrefs first, then the text body, then the text of the HTML', () => {
    const text = 'Your invoice: https://app.test/invoices/42\nHelp: https://app.test/help';
    const html = '<p>Your <a href="https://app.test/invoices/42">invoice</a>.</p><p>Terms: https://app.test/terms</p>';
    expect(extractLinks(text, html)).toEqual(['https://app.test/invoices/42', 'https://app.test/help', 'https://app.test/terms']);
  });

  it('leaves trailing punctuation of prose out and keeps balanced parentheses in', () => {
    const text = 'Go to https://app.test/a. Or (https://app.test/b), or https://wiki.test/Foo_(bar)! Done: https://app.test/c?x=1;';
    expect(extractLinks(text, null)).toEqual(['https://app.test/a', 'https://app.test/b', 'https://wiki.test/Foo_(bar)', 'https://app.test/c?x=1']);
  });

  it('reads the visible text of the HTML decoded, not scripts or styles', () => {
    const html =
      '<style>a { background: url(https://style.test/x.png) }</style><script>fetch("https://script.test/")</script>' +
      '<p>Open https://app.test/p?a=1&amp;b=2 now</p>';
    expect(extractLinks(null, html)).toEqual(['https://app.test/p?a=1&b=2']);
  });

  it('has nothing to say about a message without bodies or links', () => {
    expect(extractLinks(null, null)).toEqual([]);
    expect(extractLinks('no links here', '<p>none <a name="x">here</a></p>')).toEqual([]);
  });
});

describe('links in the message detail', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('come from the decoded bodies: quoted-printable with soft line breaks, entities, text and HTML deduplicated', async () => {
    const data = [
      'From: app@app.test',
      'To: user@inbox.test',
      'Subject: Links',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Reset: https://app.test/reset?token=3Dabc&x=3D1',
      '--b',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      '<a href=3D"https://app.test/reset?token=3Dabc&amp;x=3D1">Reset</a>',
      '<a href=3D"https://app.test/a/long/path/that/is/soft=',
      '-broken/here">more</a> <a href=3D"mailto:help@app.test">help</a>',
      '--b--',
      '',
    ].join('\r\n');
    const client = await RawSmtpClient.connect({ host: '127.0.0.1', port: t.server.smtp.port });
    await client.ehlo();
    const replies = await client.sendMessage({ from: 'app@app.test', to: ['user@inbox.test'], data });
    await client.quit();
    const id = /queued as (\S+)/.exec(replies.final?.lines.join(' ') ?? '')?.[1];
    expect(id).toBeDefined();
    const detail = MessageDetailSchema.parse(await t.getJson(`/messages/${id}`));
    expect(detail.links).toEqual(['https://app.test/reset?token=abc&x=1', 'https://app.test/a/long/path/that/is/soft-broken/here']);
  });
});
