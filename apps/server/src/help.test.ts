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
