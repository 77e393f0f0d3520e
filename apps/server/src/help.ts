import { CERTIFICATE_PROFILES, KEY_TYPES } from '@mailwright/core';
import { HEALTHCHECK_FLAGS, SERVE_FLAGS, type FlagSpec } from './flags.js';

function flagRows(specs: readonly FlagSpec[]): string[] {
  const left = specs.map((spec) => `${spec.short ? `-${spec.short}, ` : '    '}--${spec.name}${spec.value ? ` ${spec.value}` : ''}`);
  const width = Math.max(...left.map((text) => text.length)) + 2;
  return specs.flatMap((spec, index) => {
    const details = [spec.defaultText ? `default: ${spec.defaultText}` : null, spec.env ? `env: ${spec.env}` : null].filter((part) => part !== null);
    const lines = [`  ${(left[index] ?? '').padEnd(width)}${spec.description}`];
    if (details.length > 0) lines.push(`  ${''.padEnd(width)}  ${details.join('; ')}`);
    return lines;
  });
}

/** The text of `mailwright --help` or `mailwright healthcheck --help`. */
export function formatHelp(topic: 'serve' | 'healthcheck'): string {
  if (topic === 'healthcheck') {
    return [
      'Usage: mailwright healthcheck [--url <url>] [--timeout <ms>]',
      '',
      'Exits 0 when GET <url>/api/v1/health answers 200 in time, else 1.',
      '',
      'Flags:',
      ...flagRows(HEALTHCHECK_FLAGS),
      '',
    ].join('\n');
  }
  return [
    'Usage: mailwright [flags]',
    '       mailwright healthcheck [--url <url>]',
    '',
    'Mock SMTP inboxes that capture every message and how it was delivered.',
    '',
    'Flags (every flag also reads its environment variable; flags win):',
    ...flagRows(SERVE_FLAGS),
    '',
    '--listener keys: name, port, tls (starttls|implicit|none), starttls (offer|require|off|fail),',
    `  certificate (${CERTIFICATE_PROFILES.join('|')}),`,
    `  key-type (${KEY_TYPES.join('|')}), min-version, max-version,`,
    '  ciphers (separated by ":"), client-certificate (off|request|require), auth (off|optional|required).',
    `  ${SERVE_FLAGS.find((spec) => spec.name === 'listener')?.env ?? ''} separates listeners with ";", MAILWRIGHT_AUTH_USERS users with ",".`,
    '',
    'Exit status: 0 after a clean shutdown, 1 when the server cannot start, 2 for invalid configuration.',
    '',
  ].join('\n');
}
