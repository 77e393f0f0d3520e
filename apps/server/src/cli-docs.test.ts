import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliOptionsSchema, MailwrightOptionsSchema, optionFlagRegistry } from '@mailwright/core/options';
import { describe, expect, it } from 'vitest';
import { HEALTHCHECK_FLAGS, SERVE_FLAGS, type FlagSpec } from './flags.js';

const read = (path: string): string => readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');

/** The rows of the first Markdown table after `heading` whose header starts with `| flag`, as cells. */
function flagTable(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no heading "${heading}"`);
  const lines = markdown.slice(start).split('\n');
  const header = lines.findIndex((line) => /^\|\s*flag\s*\|/.test(line));
  const rows: string[][] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((cell) => cell.trim().replace(/\\\|/g, '|')),
    );
  }
  return rows;
}

/** The flags a cell names: `--smtp-port <port>`, `-h`, `--help` → ['smtp-port'] / ['help']. */
const flagsIn = (cell: string): string[] => [...cell.matchAll(/`--([a-z][a-z-]*)/g)].map((match) => match[1] as string);

/** Flags whose default `--help` takes from the schema (not a text of the command line's own). */
function schemaDefaults(): Map<string, string> {
  const own = new Set(
    [MailwrightOptionsSchema, CliOptionsSchema].flatMap((schema) =>
      Object.entries(schema.shape)
        .filter(([, field]) => {
          const meta = optionFlagRegistry.get(field);
          return meta !== undefined && meta.kind !== 'none' && meta.defaultText !== undefined;
        })
        .map(([option]) => option),
    ),
  );
  return new Map(
    SERVE_FLAGS.filter((spec) => spec.option !== undefined && spec.defaultText !== undefined && !own.has(spec.option)).map((spec) => [
      spec.name,
      spec.defaultText as string,
    ]),
  );
}

function checkReferenceTable(rows: string[][], flags: readonly FlagSpec[], defaults: ReadonlyMap<string, string>): void {
  expect(rows.flatMap((row) => flagsIn(row[0] ?? ''))).toEqual(flags.map((spec) => spec.name));
  for (const row of rows) {
    const [flagCell = '', envCell = '', defaultCell = ''] = row;
    const text = row.join(' ');
    for (const name of flagsIn(flagCell)) {
      const spec = flags.find((candidate) => candidate.name === name) as FlagSpec;
      expect(envCell, `environment variable of --${name}`).toBe(spec.env ? `\`${spec.env}\`` : '');
      if (spec.value) expect(flagCell, `placeholder of --${name}`).toContain(`--${name} ${spec.value}`);
      const schemaDefault = defaults.get(name);
      if (schemaDefault !== undefined) expect(defaultCell, `default of --${name}`).toContain(schemaDefault);
      for (const choice of spec.choices ?? []) expect(text, `choice ${choice} of --${name}`).toContain(choice);
    }
  }
}

describe('docs/cli.md', () => {
  const markdown = read('docs/cli.md');

  it('lists exactly the derived flags, in order, with their variables, placeholders, schema defaults and choices', () => {
    checkReferenceTable(flagTable(markdown, '## Flags and environment variables'), SERVE_FLAGS, schemaDefaults());
  });

  it('lists exactly the health check flags', () => {
    checkReferenceTable(flagTable(markdown, '## `mailwright healthcheck`'), HEALTHCHECK_FLAGS, new Map());
  });
});

describe('README.md', () => {
  it('lists exactly the option flags (the full reference adds --help and --version)', () => {
    const names = flagTable(read('README.md'), '## CLI').flatMap((row) => flagsIn(row[0] ?? ''));
    expect([...names].sort()).toEqual(
      SERVE_FLAGS.filter((spec) => spec.option !== undefined)
        .map((spec) => spec.name)
        .sort(),
    );
  });
});
