import { readFileSync } from 'node:fs';

/** The version of the `mailwright` package (read from its package.json, next to `src/` and `dist/`). */
export const CLI_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
