import { describe, expect, it } from 'vitest';
import { decodeBody, parseHeaderParams, readMimeEntity, splitMultipart } from './mime-entity.js';

describe('readMimeEntity', () => {
  it('reads folded headers, the content type and its parameters, and leaves the body as received', () => {
    const bytes = Buffer.from(
      'Content-Type: multipart/signed;\r\n\tprotocol="application/pkcs7-signature";\r\n micalg=sha-256; boundary="b 1"\r\nSubject: x\r\n\r\nbody\r\n',
    );
    const entity = readMimeEntity(bytes);
    expect(entity.contentType).toBe('multipart/signed');
    expect(entity.params).toEqual({ protocol: 'application/pkcs7-signature', micalg: 'sha-256', boundary: 'b 1' });
    expect(entity.headers.get('subject')).toBe('x');
    expect(entity.body.toString()).toBe('body\r\n');
    expect(Buffer.concat([entity.headerBytes, entity.body]).equals(bytes)).toBe(true);
  });

  it('defaults to text/plain and treats a message without a blank line as all header', () => {
    const entity = readMimeEntity(Buffer.from('Subject: only\n'));
    expect(entity.contentType).toBe('text/plain');
    expect(entity.body.length).toBe(0);
  });

  it('joins RFC 2231 continuations', () => {
    expect(parseHeaderParams('application/pkcs7-mime; name*0="smime"; name*1=".p7m"').params.name).toBe('smime.p7m');
  });
});

describe('splitMultipart', () => {
  it('returns each part exactly, without the line ending that belongs to the next delimiter', () => {
    const body = Buffer.from('preamble\r\n--b\r\nContent-Type: text/plain\r\n\r\nsigned\r\n\r\n--b\r\nsig\r\n--b--\r\nepilogue\r\n--b\r\nnot a part');
    const parts = splitMultipart(body, 'b').map(String);
    expect(parts).toEqual(['Content-Type: text/plain\r\n\r\nsigned\r\n', 'sig']);
  });

  it('ignores the boundary string inside a line and keeps an unclosed last part', () => {
    const parts = splitMultipart(Buffer.from('--b\nx --b y\n--b\nlast'), 'b').map(String);
    expect(parts).toEqual(['x --b y', 'last']);
  });
});

describe('decodeBody', () => {
  it('undoes base64 and quoted-printable', () => {
    expect(decodeBody(readMimeEntity(Buffer.from('Content-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8=\r\n'))).toString()).toBe('hello');
    expect(decodeBody(readMimeEntity(Buffer.from('Content-Transfer-Encoding: quoted-printable\r\n\r\na=3Db=\r\nc'))).toString()).toBe('a=bc');
  });
});
