import { describe, expect, it } from 'vitest';
import { connectHost, urlHost } from './connect-host.js';

describe('connectHost', () => {
  it('maps a wildcard bind address to the loopback address of its family', () => {
    expect(connectHost('0.0.0.0')).toBe('127.0.0.1');
    expect(connectHost('::')).toBe('::1');
  });

  it('prefers the host the server was reached by, without brackets', () => {
    expect(connectHost('0.0.0.0', 'mailwright.internal')).toBe('mailwright.internal');
    expect(connectHost('::', '[fd00::5]')).toBe('fd00::5');
    expect(connectHost('0.0.0.0', '')).toBe('127.0.0.1');
  });

  it('keeps any other address as it is', () => {
    expect(connectHost('127.0.0.1', 'example.test')).toBe('127.0.0.1');
    expect(connectHost('::1')).toBe('::1');
    expect(connectHost('192.0.2.7')).toBe('192.0.2.7');
    expect(connectHost('localhost')).toBe('localhost');
  });
});

describe('urlHost', () => {
  it('brackets IPv6 addresses once and leaves the rest', () => {
    expect(urlHost('::1')).toBe('[::1]');
    expect(urlHost('[::1]')).toBe('[::1]');
    expect(urlHost('127.0.0.1')).toBe('127.0.0.1');
    expect(urlHost('localhost')).toBe('localhost');
    expect(`http://${urlHost(connectHost('::'))}:8025`).toBe('http://[::1]:8025');
  });
});
