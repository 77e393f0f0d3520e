import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SERVER_ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** The CommonJS modules of `pkg` loaded in a fresh process after `script` ran. */
function loadedFrom(pkg: string, script: string): number {
  const program = `
    import { createRequire } from 'node:module';
    const server = await import(${JSON.stringify(SERVER_ENTRY)});
    ${script}
    const cache = createRequire(import.meta.url).cache;
    process.stdout.write(String(Object.keys(cache).filter((file) => file.includes('/node_modules/${pkg}/')).length));
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  return Number(result.stdout);
}

describe('mailauth', () => {
  // About 10 MB of heap that a server checking no message's authentication need not hold.
  it('is not loaded with the server, only when a message is checked', () => {
    expect(loadedFrom('mailauth', '')).toBe(0);
    const check = `
      const resolver = async () => [];
      await server.computeAuthentication(
        { raw: Buffer.from('From: a@example.com\\r\\n\\r\\nhi\\r\\n'), mailFrom: 'a@example.com', clientIp: '192.0.2.1', helo: 'client.example', authservId: 'mx.test' },
        { resolver },
      ).catch(() => undefined);
    `;
    expect(loadedFrom('mailauth', check)).toBeGreaterThan(0);
    // Only the checks: BIMI's HTTP client (undici) and XML parser stay out of the verdict workers.
    expect(loadedFrom('undici', check)).toBe(0);
    expect(loadedFrom('fast-xml-parser', check)).toBe(0);
  });
});
