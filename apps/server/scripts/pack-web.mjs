#!/usr/bin/env node
// The `mailwright` package ships the inbox viewer it serves. npm runs this before packing
// (`copy`): the built viewer, apps/web/dist, is copied to web/ beside dist/, where the CLI
// looks first (dist/cli.js → ../web/; docker/bundle.mjs lays out the image the same way).
// After packing (`remove`) the copy goes again, so that in the monorepo the CLI keeps serving
// apps/web/dist as it is rebuilt rather than a stale copy.
//
//   node scripts/pack-web.mjs copy|remove      (the package's prepack and postpack)
import { cp, rm, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const packageRoot = fileURLToPath(new URL('../', import.meta.url));
const webDist = fileURLToPath(new URL('../../web/dist/', import.meta.url));
const target = `${packageRoot}web/`;
const command = process.argv[2];

const exists = (path) =>
  stat(path).then(
    () => true,
    () => false,
  );

if (command !== 'copy' && command !== 'remove') {
  process.stderr.write('usage: node scripts/pack-web.mjs copy|remove\n');
  process.exit(2);
}
await rm(target, { recursive: true, force: true });
if (command === 'copy') {
  // A package without its code or without the viewer would install and then fail or serve
  // nothing: refuse to pack it.
  for (const required of [`${packageRoot}dist/cli.js`, `${webDist}index.html`]) {
    if (!(await exists(required))) {
      process.stderr.write(`mailwright prepack: ${required} is missing; run \`npm run build\` at the repository root first\n`);
      process.exit(1);
    }
  }
  await cp(webDist, target, { recursive: true });
}
