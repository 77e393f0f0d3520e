/**
 * The host to connect to for a server bound to `bound`: the bound address itself, or, for a
 * wildcard address (which cannot be connected to), `via` — the host the server was reached
 * by — when given, else the loopback address of the same family (`127.0.0.1`, `::1`).
 * IPv6 addresses come without brackets (see {@link urlHost}).
 */
export function connectHost(bound: string, via?: string): string {
  if (bound !== '0.0.0.0' && bound !== '::') return bound;
  if (via !== undefined && via !== '') return via.replace(/^\[|\]$/g, '');
  return bound === '::' ? '::1' : '127.0.0.1';
}

/** A host as the authority of a URL: IPv6 addresses in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
