import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

// The SDK as a user's test imports it, in a process of its own: the test runner's process has
// loaded other modules that may touch globals.
const SDK_URL = new URL('../dist/index.js', import.meta.url).href;

/** Starts an in-process server from a fresh Node.js process and reports the process's `Reflect` before and after. */
const SCRIPT = `
const names = () => Reflect.ownKeys(Reflect).map(String).sort();
const before = names();
const { Mailwright } = await import(${JSON.stringify(SDK_URL)});
const mail = await Mailwright.start();
// Certificates of another profile and key type, issued after the start.
const lab = await mail.listeners.create({ certificate: 'expired', keyType: 'rsa-2048' });
const client = await mail.issueClientCertificate('child');
const after = names();
await lab.remove();
await mail.close();
console.log(JSON.stringify({ before, after, getMetadata: typeof Reflect.getMetadata, defineMetadata: typeof Reflect.defineMetadata, port: lab.port, client: client.cert.includes('BEGIN CERTIFICATE') }));
`;

describe('Mailwright.start() in a user process', () => {
  it('leaves the global Reflect as it was: no metadata polyfill', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '--eval', SCRIPT], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      timeout: 60_000,
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      before: string[];
      after: string[];
      getMetadata: string;
      defineMetadata: string;
      port: number;
      client: boolean;
    };
    expect(report.port).toBeGreaterThan(0);
    expect(report.client).toBe(true);
    expect(report.getMetadata).toBe('undefined');
    expect(report.defineMetadata).toBe('undefined');
    expect(report.after).toEqual(report.before);
  });
});
