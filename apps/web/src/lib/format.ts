import type { Address, CapturedMessage, TlsInfo } from '@mailwright/core';

const KIB = 1024;

/** `1.4 KB`, `12 B`, `3.2 MB`. */
export function formatSize(bytes: number): string {
  if (bytes < KIB) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / KIB;
  let unit = 0;
  while (value >= KIB && unit < units.length - 1) {
    value /= KIB;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A compact time for lists: the time of day for today, the date otherwise. */
export function formatListTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  return date.toDateString() === now.toDateString() ? timeFormat.format(date) : dateFormat.format(date);
}

/** A full, readable date and time. */
export function formatFullTime(iso: string): string {
  return fullFormat.format(new Date(iso));
}

/** Milliseconds since a session opened: `0.4 ms`, `38 ms`, `1.250 s`. */
export function formatOffset(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(3)} s`;
}

/** `Name <address>`, or the address alone. */
export function formatAddress(address: Address): string {
  return address.name ? `${address.name} <${address.address}>` : address.address;
}

/** The short form for lists: the name when there is one. */
export function shortAddress(address: Address): string {
  return address.name || address.address;
}

/** Who a message came from, for lists. */
export function senderOf(message: CapturedMessage): string {
  if (message.from) return shortAddress(message.from);
  return message.envelope.mailFrom || '(no sender)';
}

/** Who a message went to, for lists: header recipients, or the envelope when there are none. */
export function recipientsOf(message: CapturedMessage): string {
  const headers = [...message.to, ...message.cc];
  if (headers.length > 0) return headers.map(shortAddress).join(', ');
  return message.envelope.rcptTo.join(', ') || '(no recipients)';
}

/** `TLSv1.3` → `1.3`. */
export function tlsVersion(protocol: string | null): string {
  if (!protocol) return '?';
  return protocol.replace(/^TLSv/i, '');
}

/** The badge text of a delivery: `STARTTLS · TLS 1.3`, `TLS · 1.2` (implicit), or `Plaintext`. */
export function deliveryLabel(tls: TlsInfo): string {
  if (tls.mode === 'starttls') return `STARTTLS · TLS ${tlsVersion(tls.protocol)}`;
  if (tls.mode === 'implicit') return `TLS · ${tlsVersion(tls.protocol)}`;
  return 'Plaintext';
}

/** The name of a TLS mode for people. */
export function tlsModeName(mode: TlsInfo['mode']): string {
  return mode === 'starttls' ? 'STARTTLS' : mode === 'implicit' ? 'Implicit TLS' : 'None (plaintext)';
}
