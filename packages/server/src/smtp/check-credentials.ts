import type { SmtpAuthentication } from './smtp-engine.js';

/**
 * Whether AUTH credentials are accepted: any username and password when no users are
 * configured (CRAM-MD5 then has nothing to check against), else the listed ones.
 */
export function checkCredentials(auth: SmtpAuthentication, users: ReadonlyMap<string, string>): boolean {
  if (users.size === 0) return auth.method !== 'CRAM-MD5';
  const known = users.get(auth.username);
  if (known === undefined) return false;
  return auth.validatePassword(known);
}
