// The published packages as a user gets them: `npm pack --workspaces` from this checkout, the
// tarballs installed in a new project outside the repository (so no hoisted monorepo
// dependency can stand in for a missing one), then used there: the SDK starts an in-process
// server and catches a mail, the vitest matchers type-check and run, @mailwright/testcontainers
// imports, type-checks and (with a Docker engine) starts the image, and the `mailwright`
// binary serves the inbox viewer shipped in its own tarball.
import { execFile, spawn } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE, IMAGE_BUILD_TIMEOUT_MS, buildImage, describeWithDocker } from '../container/docker-harness.js';
import { ensureWebBuild, WEB_ROOT } from '../web/web-build.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

/** The workspaces published to the registry, by package name, and where they live. */
const PUBLISHED: Record<string, string> = {
  '@mailwright/core': 'packages/core',
  '@mailwright/server': 'packages/server',
  '@mailwright/sdk': 'packages/sdk',
  '@mailwright/testcontainers': 'packages/testcontainers',
  mailwright: 'apps/server',
};
/**
 * Workspaces that `npm pack --workspaces` packs too (npm has no switch to skip them) but that
 * are private: `npm publish --workspaces` skips them, and they are never installed here.
 */
const PRIVATE: Record<string, string> = {
  '@mailwright/web': 'apps/web',
  '@mailwright/tests': 'tests',
};

/** Packing, installing and the consumer's own runs; on a loaded machine the install dominates. */
const SETUP_TIMEOUT_MS = 360_000;
/** TypeScript's incremental state for the consumer project, kept between runs. */
const TSC_STATE = join(root, 'node_modules/.cache/mailwright/packed-consumer.tsbuildinfo');
const STEP_TIMEOUT_MS = 120_000;

interface PackResult {
  name: string;
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  bin?: Record<string, string>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** The environment for child processes: none of this runner's own variables, no MAILWRIGHT_* of the developer. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(
    ([key]) => !key.startsWith('VITEST') && !key.startsWith('MAILWRIGHT_') && key !== 'NODE_OPTIONS' && key !== 'TEST',
  );
  return { ...Object.fromEntries(inherited), ...extra };
}

const SDK_TEST = `import { expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { Mailwright, assertDeliveredOverTls, type ReceivedMessage } from '@mailwright/sdk';
import '@mailwright/sdk/vitest';

it('asserts STARTTLS delivery with the packed packages', async () => {
  const mail = await Mailwright.start();
  try {
    const inbox = mail.inbox();
    await nodemailer
      .createTransport({ host: mail.smtp.host, port: mail.smtp.port, requireTLS: true, tls: { ca: mail.ca, servername: 'localhost' } })
      // With an attachment: its body is parsed in a worker thread, whose file must ship in the package.
      .sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Reset', text: 'hello', attachments: [{ filename: 'a.txt', content: 'x' }] });
    const msg: ReceivedMessage = await inbox.waitForMessage({ subject: /reset/i, timeout: 5_000 });
    expect(msg).toBeDeliveredOverTls({ mode: 'starttls', minVersion: 'TLSv1.2' });
    expect(msg).toHaveRecipient(inbox.address);
    assertDeliveredOverTls(msg, { mode: 'starttls' });
    expect(msg.text).toContain('hello');
    expect(msg.attachments.map((attachment) => attachment.filename)).toEqual(['a.txt']);
    // @ts-expect-error -- the matcher's options are typed: 'sometimes' is not a TLS mode
    expect(msg).not.toBeDeliveredOverTls({ mode: 'sometimes' });
  } finally {
    await mail.close();
  }
}, 30_000);
`;

// Run only when the outer suite has built the image and names it; type-checked always.
const CONTAINER_TEST = `import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { MailwrightContainer, MAILWRIGHT_IMAGE, type StartedMailwrightContainer } from '@mailwright/testcontainers';
import '@mailwright/sdk/vitest';

const image = process.env.PACKED_CONSUMER_IMAGE;
if (!image) throw new Error('PACKED_CONSUMER_IMAGE names the image to start');

it('starts the image, captures a mail sent over STARTTLS and serves the viewer', async () => {
  expect(MAILWRIGHT_IMAGE).toBe('mailwright:local');
  const container: StartedMailwrightContainer = await new MailwrightContainer(image).withStarttls('require').start();
  try {
    const mail = await container.client();
    const inbox = mail.inbox();
    await nodemailer
      .createTransport({ host: container.getHost(), port: container.getSmtpPort(), requireTLS: true, tls: { ca: await container.getCaCertificate() } })
      .sendMail({ from: 'app@example.test', to: inbox.address, subject: 'From the container', text: 'hello' });
    const msg = await inbox.waitForMessage({ subject: 'From the container', timeout: 10_000 });
    expect(msg).toBeDeliveredOverTls({ mode: 'starttls', minVersion: 'TLSv1.2' });
    // The image serves the viewer as built (docker/bundle.mjs copies it next to the CLI).
    const page = await fetch(\`\${container.getHttpUrl()}/\`);
    expect(page.headers.get('content-type')).toMatch(/^text\\/html/);
    expect(await page.text()).toBe(await readFile(process.env.PACKED_CONSUMER_VIEWER_INDEX as string, 'utf8'));
  } finally {
    await container.stop();
  }
}, 120_000);
`;

// Node's own resolution of every public entry point (vitest resolves through Vite): the
// exports maps, the ESM files and their dependencies as installed.
const IMPORT_CHECK = `const entries = ['@mailwright/core', '@mailwright/server', '@mailwright/sdk', '@mailwright/testcontainers'];
const exports = {};
for (const entry of entries) exports[entry] = Object.keys(await import(entry)).sort();
process.stdout.write(JSON.stringify(exports));
`;

interface Consumer {
  dir: string;
  packed: Map<string, PackResult>;
}

const cleanups: (() => Promise<void>)[] = [];

/** Packs every workspace into a temporary directory and installs the published tarballs in a new project beside it. */
async function packConsumer(): Promise<Consumer> {
  await ensureWebBuild();
  const work = await mkdtemp(join(tmpdir(), 'mailwright-consumer-'));
  cleanups.push(() => rm(work, { recursive: true, force: true }));
  const tarballsDir = join(work, 'tarballs');
  const dir = join(work, 'project');
  await mkdir(tarballsDir);
  await mkdir(dir);

  const { stdout } = await exec('npm', ['pack', '--workspaces', '--json', '--pack-destination', tarballsDir], {
    cwd: root,
    env: cleanEnv(),
    maxBuffer: 64 * 1024 * 1024,
  });
  const packed = new Map((JSON.parse(stdout) as PackResult[]).map((result) => [result.name, result]));

  const tarball = (name: string): string => `file:../tarballs/${packed.get(name)?.filename ?? `${name}-is-not-packed`}`;
  const rootPackage = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const dev = rootPackage.devDependencies;
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'consumer',
      private: true,
      type: 'module',
      dependencies: Object.fromEntries(Object.keys(PUBLISHED).map((name) => [name, tarball(name)])),
      // typescript is not installed here: the repository's compiler checks the project, with
      // every type resolved from the project's node_modules.
      devDependencies: {
        vitest: dev.vitest,
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
        // Our declaration files are checked as a strict project sees them; TypeScript's own
        // lib files need no checking.
        skipLibCheck: false,
        skipDefaultLibCheck: true,
        incremental: true,
        tsBuildInfoFile: './consumer.tsbuildinfo',
        types: ['node'],
      },
      include: ['*.ts'],
    }),
  );
  await writeFile(join(dir, 'reset.test.ts'), SDK_TEST);
  await writeFile(join(dir, 'container.test.ts'), CONTAINER_TEST);
  await writeFile(join(dir, 'import-check.mjs'), IMPORT_CHECK);
  // Our packages have no install scripts; those of third-party packages (native builds of
  // ssh2's optional accelerators under testcontainers) cost time and prove nothing here. The
  // one the server needs, better-sqlite3's addon (the CLI's default storage), is built as a
  // user's install builds it.
  await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], {
    cwd: dir,
    env: cleanEnv(),
    timeout: SETUP_TIMEOUT_MS,
  });
  await exec('npm', ['rebuild', 'better-sqlite3'], { cwd: dir, env: cleanEnv(), timeout: SETUP_TIMEOUT_MS });
  return { dir, packed };
}

/** Runs the consumer's vitest on one file and resolves with the state of each test, by name. */
async function runConsumerTests(dir: string, file: string, env: Record<string, string> = {}): Promise<Record<string, string>> {
  const report = join(dir, `${file}.results.json`);
  const run = await exec(join(dir, 'node_modules/.bin/vitest'), ['run', file, '--reporter=json', `--outputFile=${report}`], {
    cwd: dir,
    env: cleanEnv(env),
    timeout: STEP_TIMEOUT_MS,
  }).catch((error: Error & { stdout?: string; stderr?: string }) => error);
  const results = (await readFile(report, 'utf8').then(JSON.parse, () => null)) as {
    testResults: { message: string; assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
  } | null;
  if (run instanceof Error) {
    const failures = results?.testResults.flatMap((result) => [result.message, ...result.assertionResults.flatMap((test) => test.failureMessages)]) ?? [];
    throw new Error(`vitest run ${file} failed in the consumer project:\n${failures.filter(Boolean).join('\n')}\n${run.stdout ?? ''}\n${run.stderr ?? ''}`, {
      cause: run,
    });
  }
  if (!results) throw new Error(`vitest run ${file} wrote no report`);
  return Object.fromEntries(results.testResults.flatMap((result) => result.assertionResults.map((test) => [test.title, test.status])));
}

/** Every file under `dir`, as paths relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/**
 * The packages a file of JavaScript or type declarations imports: bare specifiers of static and
 * dynamic imports, re-exports and require() calls, as the TypeScript scanner finds them (never
 * in comments or strings), Node built-ins left out.
 */
function importedPackages(source: string): Set<string> {
  const names = new Set<string>();
  for (const { fileName: specifier } of ts.preProcessFile(source, true, true).importedFiles) {
    if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) continue;
    const parts = specifier.split('/');
    const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
    if (!builtinModules.includes(name)) names.add(name);
  }
  return names;
}

let consumer: Consumer;
beforeAll(async () => {
  const started = performance.now();
  consumer = await packConsumer();
  console.log(`[packaging] packed and installed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the packed packages in a consumer project', () => {
  it(
    'npm pack --workspaces packs every workspace; exactly the published ones are not private',
    async () => {
      const { packed } = consumer;
      expect([...packed.keys()].sort()).toEqual([...Object.keys(PUBLISHED), ...Object.keys(PRIVATE)].sort());
      for (const [name, dir] of Object.entries({ ...PUBLISHED, ...PRIVATE })) {
        const manifest = JSON.parse(await readFile(join(root, dir, 'package.json'), 'utf8')) as Manifest;
        expect(manifest.name).toBe(name);
        expect(manifest.private === true, `${name} is ${name in PRIVATE ? '' : 'not '}private`).toBe(name in PRIVATE);
      }
      for (const name of Object.keys(PUBLISHED)) {
        const result = packed.get(name) as PackResult;
        console.log(
          `[packaging] ${name}: ${(result.size / 1024).toFixed(1)} KiB packed, ${(result.unpackedSize / 1024).toFixed(1)} KiB unpacked, ${result.files.length} files`,
        );
      }
    },
    SETUP_TIMEOUT_MS,
  );

  it('ships built code only: no tests, sources or build state; the server its parse worker, the CLI its viewer', async () => {
    const { packed } = consumer;
    for (const name of Object.keys(PUBLISHED)) {
      const paths = (packed.get(name) as PackResult).files.map((file) => file.path);
      for (const path of paths) {
        expect(path, name).toMatch(/^(?:package\.json|README\.md|LICENSE|bin\/[^/]+\.js|dist\/.+\.(?:js|d\.ts|js\.map|d\.ts\.map)|web\/.+)$/);
        expect(path, name).not.toMatch(/\.test\.|test-support\/|\.tsbuildinfo$/);
      }
    }
    expect((packed.get('@mailwright/server') as PackResult).files.map((file) => file.path)).toContain('dist/analysis/parse-worker.js');
    const cliPaths = (packed.get('mailwright') as PackResult).files.map((file) => file.path);
    expect(cliPaths).toContain('bin/mailwright.js');
    expect(cliPaths).toContain('dist/cli.js');
    // The viewer as built, every file of it.
    expect(cliPaths.filter((path) => path.startsWith('web/')).sort()).toEqual((await listFiles(WEB_ROOT)).map((path) => `web/${path}`).sort());
    // The CLI is a program, not a library: no type declarations.
    expect(cliPaths.filter((path) => path.endsWith('.d.ts'))).toEqual([]);
  });

  it('declares every package its shipped code imports, and imports every package it declares', async () => {
    const { dir } = consumer;
    for (const name of Object.keys(PUBLISHED)) {
      const installed = join(dir, 'node_modules', name);
      const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as Manifest;
      const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies }));
      const imported = new Set<string>();
      for (const file of await listFiles(installed)) {
        if (!/\.(?:js|mjs|d\.ts)$/.test(file) || file.startsWith('web/')) continue;
        for (const dependency of importedPackages(await readFile(join(installed, file), 'utf8'))) imported.add(dependency);
      }
      expect([...imported].filter((dependency) => !declared.has(dependency) && dependency !== name).sort(), `${name} imports undeclared packages`).toEqual([]);
      expect([...declared].filter((dependency) => !imported.has(dependency)).sort(), `${name} declares packages it never imports`).toEqual([]);
      // Nothing runs at install time, so --ignore-scripts above hides nothing of ours.
      expect(
        Object.keys(manifest.scripts ?? {}).filter((script) => /^(?:pre|post)?install$|^prepare$/.test(script)),
        name,
      ).toEqual([]);
      // Our own packages are pinned to the versions packed together, never linked.
      for (const [dependency, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
        if (dependency.startsWith('@mailwright/')) expect(range, `${name} → ${dependency}`).toMatch(/^\^?\d+\.\d+\.\d+$/);
      }
    }
  });

  it(
    'imports every entry point with Node, and type-checks the consumer code strictly, declaration files included',
    async () => {
      const { dir } = consumer;
      const { stdout } = await exec(process.execPath, ['import-check.mjs'], { cwd: dir, env: cleanEnv() });
      const exported = JSON.parse(stdout) as Record<string, string[]>;
      expect(exported['@mailwright/core']).toEqual(expect.arrayContaining(['MailwrightError', 'ErrorCode']));
      expect(exported['@mailwright/server']).toEqual(expect.arrayContaining(['createMailwright', 'resolveMailwrightOptions']));
      expect(exported['@mailwright/sdk']).toEqual(expect.arrayContaining(['Mailwright', 'assertDeliveredOverTls']));
      expect(exported['@mailwright/testcontainers']).toEqual(expect.arrayContaining(['MailwrightContainer', 'StartedMailwrightContainer', 'MAILWRIGHT_IMAGE']));
      // Checking the dependencies' declarations (zod's above all) takes most of the time, so
      // TypeScript's incremental state is kept between runs: the project is rebuilt at a new
      // path each time, and the state holds paths relative to it and a hash of every file, so
      // only files that changed, ours, are checked again.
      const buildInfo = join(dir, 'consumer.tsbuildinfo');
      await copyFile(TSC_STATE, buildInfo).catch(() => undefined);
      await exec(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, env: cleanEnv() }).catch(
        (error: Error & { stdout?: string }) => {
          throw new Error(`tsc found errors in the consumer project:\n${error.stdout ?? ''}`, { cause: error });
        },
      );
      await mkdir(dirname(TSC_STATE), { recursive: true });
      await copyFile(buildInfo, `${TSC_STATE}.${process.pid}`);
      await rename(`${TSC_STATE}.${process.pid}`, TSC_STATE);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'runs the SDK in process: it starts a server, catches a mail, and the vitest matchers pass',
    async () => {
      const { dir } = consumer;
      expect(await runConsumerTests(dir, 'reset.test.ts')).toEqual({ 'asserts STARTTLS delivery with the packed packages': 'passed' });
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'runs the mailwright binary: it prints its version and serves the inbox viewer from its own tarball',
    async () => {
      const { dir } = consumer;
      const bin = join(dir, 'node_modules/.bin/mailwright');
      const version = await exec(bin, ['--version'], { cwd: dir, env: cleanEnv() });
      expect(version.stdout).toBe(`${(JSON.parse(await readFile(join(root, 'apps/server/package.json'), 'utf8')) as Manifest).version}\n`);

      const child = spawn(bin, ['--smtp-port', '0', '--smtps-port', '0', '--http-port', '0', '--data-dir', join(dir, 'data'), '--log-format', 'json'], {
        cwd: dir,
        env: cleanEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      try {
        let output = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
        const ready = await new Promise<{ url: string; webUrl: string | null }>((resolve, reject) => {
          let stdout = '';
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
            stdout += chunk;
            output += chunk;
            const line = stdout.split('\n').find((text) => text.includes('"msg":"mailwright ready"'));
            if (line) resolve(JSON.parse(line) as { url: string; webUrl: string | null });
          });
          void exited.then((code) => reject(new Error(`mailwright exited with ${code} before it was ready:\n${output}`)));
        });
        expect(ready.webUrl).toBe(`${ready.url}/`);

        const page = await fetch(ready.webUrl as string);
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toMatch(/^text\/html/);
        const html = await page.text();
        expect(html).toBe(await readFile(join(WEB_ROOT, 'index.html'), 'utf8'));
        const script = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
        expect(script, html).toBeDefined();
        const asset = await fetch(`${ready.url}${script}`);
        expect(asset.status).toBe(200);
        expect(asset.headers.get('content-type')).toMatch(/^(?:text|application)\/javascript/);
        expect(await asset.text()).toBe(await readFile(join(dir, 'node_modules/mailwright/web', script as string), 'utf8'));
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
    },
    STEP_TIMEOUT_MS,
  );
});

describeWithDocker('the packed @mailwright/testcontainers, against the image', () => {
  it(
    'starts the image built from this checkout: it captures a mail and serves the viewer',
    async () => {
      await buildImage();
      expect(
        await runConsumerTests(consumer.dir, 'container.test.ts', {
          PACKED_CONSUMER_IMAGE: IMAGE,
          PACKED_CONSUMER_VIEWER_INDEX: join(WEB_ROOT, 'index.html'),
        }),
      ).toEqual({
        'starts the image, captures a mail sent over STARTTLS and serves the viewer': 'passed',
      });
    },
    IMAGE_BUILD_TIMEOUT_MS,
  );
});
