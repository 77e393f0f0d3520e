import { describe, expect, it } from 'vitest';
import { HEALTHCHECK_FLAGS, SERVE_FLAGS } from './flags.js';
import { formatHelp } from './help.js';

describe('formatHelp', () => {
  it('lists every flag with its environment twin and default', () => {
    const text = formatHelp('serve');
    for (const spec of SERVE_FLAGS) {
      expect(text).toContain(`--${spec.name}`);
      if (spec.env) expect(text).toContain(spec.env);
      if (spec.defaultText) expect(text).toContain(`default: ${spec.defaultText}`);
    }
  });

  it('has a page for healthcheck', () => {
    const text = formatHelp('healthcheck');
    expect(text).toMatch(/^Usage: mailwright healthcheck/);
    for (const spec of HEALTHCHECK_FLAGS) expect(text).toContain(`--${spec.name}`);
  });
});

describe('formatHelp, derived from the schemas', () => {
  it('shows every flag with its placeholder, description, choices, default and environment twin, and no other flag', () => {
    const text = formatHelp('serve');
    for (const spec of SERVE_FLAGS) {
      const row = text.split('\n').findIndex((line) => line.includes(`--${spec.name}${spec.value ? ` ${spec.value}` : ''} `));
      expect(row, spec.name).toBeGreaterThan(0);
      const lines = text
        .split('\n')
        .slice(row, row + 2)
        .join('\n');
      expect(lines).toContain(spec.description);
      for (const choice of spec.choices ?? []) expect(lines).toContain(choice);
      if (spec.defaultText) expect(lines).toContain(`default: ${spec.defaultText}`);
      if (spec.env) expect(lines).toContain(`env: ${spec.env}`);
    }
    const listed = [...text.matchAll(/^ {2}(?:-\w, | {4})--([a-z-]+)/gm)].map((match) => match[1]);
    expect(listed).toEqual(SERVE_FLAGS.map((spec) => spec.name));
  });

  it('says how repeatable flags’ variables separate their items', () => {
    const text = formatHelp('serve').replace(/\n\s+/g, ' ');
    expect(text).toMatch(/separating items with ";": MAILWRIGHT_LISTENERS, MAILWRIGHT_FAULTS\./);
    for (const spec of SERVE_FLAGS.filter((candidate) => candidate.multiple && candidate.envSeparator === ',')) expect(text).toContain(spec.env);
  });

  it('lists the keys of --listener with their choices', () => {
    const text = formatHelp('serve').replace(/\n\s+/g, ' ');
    expect(text).toContain('--listener keys: name, port, tls (starttls|implicit|none), starttls (offer|require|off|fail),');
    expect(text).toContain('key-type (ecdsa-p256|rsa-2048|rsa-1024)');
    expect(text).toContain('ciphers (separated by ":")');
  });

  it('shows the health check flags on its own page', () => {
    const text = formatHelp('healthcheck');
    for (const spec of HEALTHCHECK_FLAGS) expect(text).toContain(`--${spec.name}`);
    expect(text).not.toContain('--smtp-port');
  });
});
