#!/usr/bin/env node
// Prepares the Docker build context from what `npm run build` produced on the host, since a
// container cannot reach the package registry:
//
//   docker/dist/package.json        name, version (the CLI reads its version from ../package.json)
//   docker/dist/bin/mailwright.mjs  apps/server/dist/cli.js and every dependency, one ESM file
//   docker/dist/bin/parse-worker.js the message parser's worker thread, with its dependencies; the
//                                   engine starts it from the file next to its own code
//   docker/dist/web/                apps/web/dist, when built (the CLI finds it at ../web/)
//   docker/dist/node_modules/       better-sqlite3 (a native addon, built on the host for the
//                                   image's Debian and architecture) with what loads it
//
// The layout mirrors the published `mailwright` package, so the CLI's own look-ups (its
// version, the viewer next to it) work unchanged inside the image.
//
//   node docker/bundle.mjs [--out <dir>]   after `npm run build`; <dir> defaults to docker/dist
import { build } from 'esbuild';
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('../', import.meta.url));
const { values: args } = parseArgs({ options: { out: { type: 'string' } } });
const out = `${args.out ? resolve(args.out) : fileURLToPath(new URL('./dist', import.meta.url))}/`;
const entry = `${root}apps/server/dist/cli.js`;
const workerEntry = `${root}packages/server/dist/analysis/parse-worker.js`;
const webDist = `${root}apps/web/dist/`;

const exists = (path) =>
  stat(path).then(
    () => true,
    () => false,
  );

for (const required of [entry, workerEntry]) {
  if (!(await exists(required))) {
    process.stderr.write(`docker/bundle.mjs: ${required} is missing; run \`npm run build\` first\n`);
    process.exit(1);
  }
}

const cliPackage = JSON.parse(await readFile(`${root}apps/server/package.json`, 'utf8'));

await rm(out, { recursive: true, force: true });
await mkdir(`${out}bin`, { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  // Optional native accelerators of ws, loaded in a try/catch: absent in the image, and ws
  // falls back to its JavaScript implementation.
  external: ['bufferutil', 'utf-8-validate', 'better-sqlite3'],
  // CommonJS dependencies call require() for Node built-ins, which an ESM bundle has no
  // binding for; give them one. The entry's `#!/usr/bin/env node` line is kept above this.
  banner: {
    js: "import { createRequire as __mailwrightCreateRequire } from 'node:module'; const require = __mailwrightCreateRequire(import.meta.url);",
  },
};
const result = await build({ ...common, entryPoints: [entry], outfile: `${out}bin/mailwright.mjs` });
// The engine starts its parse worker from `new URL('./parse-worker.js', import.meta.url)`: next to the bundle.
const worker = await build({ ...common, entryPoints: [workerEntry], outfile: `${out}bin/parse-worker.js` });

await writeFile(
  `${out}package.json`,
  `${JSON.stringify({ name: cliPackage.name, version: cliPackage.version, private: true, type: 'module', license: cliPackage.license }, null, 2)}\n`,
);

// The SQLite store's native addon cannot be bundled: it is copied with its loader, as npm laid it out.
const sqlite = `${root}node_modules/better-sqlite3/`;
if (!(await exists(`${sqlite}build/Release/better_sqlite3.node`))) {
  process.stderr.write(`docker/bundle.mjs: ${sqlite}build/Release/better_sqlite3.node is missing; run \`npm ci\` first\n`);
  process.exit(1);
}
for (const path of ['package.json', 'LICENSE', 'lib', 'build/Release/better_sqlite3.node']) {
  await cp(`${sqlite}${path}`, `${out}node_modules/better-sqlite3/${path}`, { recursive: true });
}
for (const name of ['bindings', 'file-uri-to-path']) await cp(`${root}node_modules/${name}/`, `${out}node_modules/${name}/`, { recursive: true });

const hasWeb = await exists(`${webDist}index.html`);
if (hasWeb) await cp(webDist, `${out}web/`, { recursive: true });

const bytes = [result, worker].flatMap((built) => Object.values(built.metafile.outputs)).reduce((sum, output) => sum + output.bytes, 0);
process.stdout.write(
  `${out}: bin/mailwright.mjs (${(bytes / 1024 / 1024).toFixed(1)} MiB, mailwright ${cliPackage.version})` +
    (hasWeb ? ', web/ (the inbox viewer)\n' : ', no web/ (apps/web/dist is not built)\n'),
);
