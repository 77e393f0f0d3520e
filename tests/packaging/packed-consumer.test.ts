import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGES = ['packages/core', 'packages/server', 'packages/sdk'];

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && key !== 'NODE_OPTIONS' && key !== 'TEST'));
}

const CONSUMER_TEST = `import { expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { Mailwright, assertDeliveredOverTls, type ReceivedMessage } from '@mailwright/sdk';
import '@mailwright/sdk/vitest';

it('asserts STARTTLS delivery with the packed packages', async () => {
  const mail = await Mailwright.start();
  try {
    const inbox = mail.inbox();
    await nodemailer
      .createTransport({ host: mail.smtp.host, port: mail.smtp.port, requireTLS: true, tls: { ca: mail.ca, servername: 'localhost' } })
      .sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Reset', text: 'hello' });
    const msg: ReceivedMessage = await inbox.waitForMessage({ subject: /reset/i, timeout: 5_000 });
    expect(msg).toBeDeliveredOverTls({ mode: 'starttls', minVersion: 'TLSv1.2' });
    expect(msg).toHaveRecipient(inbox.address);
    assertDeliveredOverTls(msg, { mode: 'starttls' });
    // Bodies are parsed in a worker thread, whose file must ship in the package.
    expect(msg.text).toContain('hello');
    // @ts-expect-error -- the matcher's options are typed: 'sometimes' is not a TLS mode
    expect(msg).not.toBeDeliveredOverTls({ mode: 'sometimes' });
  } finally {
    await mail.close();
  }
});
`;

describe('the packed packages in a consumer project', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('installs from npm pack, type-checks the matchers and runs them green', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailwright-consumer-'));
    const tarballs: string[] = [];
    for (const pkg of PACKAGES) {
      const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', dir], { cwd: join(root, pkg), env: cleanEnv() });
      const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
      expect(packed!.files.some((file) => file.path.endsWith('.test.js'))).toBe(false);
      if (pkg === 'packages/server') expect(packed!.files.map((file) => file.path)).toContain('dist/analysis/parse-worker.js');
      tarballs.push(`file:./${packed!.filename}`);
    }
    const rootPackage = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const dev = rootPackage.devDependencies;
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        dependencies: {
          '@mailwright/core': tarballs[0],
          '@mailwright/server': tarballs[1],
          '@mailwright/sdk': tarballs[2],
        },
        devDependencies: {
          vitest: dev.vitest,
          typescript: dev.typescript,
          nodemailer: dev.nodemailer,
          '@types/nodemailer': dev['@types/nodemailer'],
          '@types/node': dev['@types/node'],
        },
      }),
    );
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        include: ['*.test.ts'],
      }),
    );
    await writeFile(join(dir, 'reset.test.ts'), CONSUMER_TEST);
    await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, env: cleanEnv(), timeout: 300_000 });
    await exec('npx', ['tsc', '-p', '.'], { cwd: dir, env: cleanEnv() });
    const { stdout } = await exec('npx', ['vitest', 'run'], { cwd: dir, env: cleanEnv() });
    expect(stdout).toMatch(/1 passed/);
  }, 360_000);
});
