import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { addressParser } from './address-parser.js';

const require = createRequire(import.meta.url);
const ALIAS = 'nodemailer-10';

describe('the nodemailer-10 alias', () => {
  it("is the exact nodemailer version mailparser depends on (move the alias with mailparser's nodemailer dependency)", () => {
    const manifest = require('../../package.json') as { dependencies: Record<string, string> };
    const mailparser = require('mailparser/package.json') as { version: string; dependencies: Record<string, string> };
    const installed = (require(`${ALIAS}/package.json`) as { version: string }).version;
    const wanted = mailparser.dependencies['nodemailer'];
    const help = `mailparser ${mailparser.version} depends on nodemailer ${wanted}, the ${ALIAS} alias is ${manifest.dependencies[ALIAS]} (installed ${installed}): set "${ALIAS}": "npm:nodemailer@${wanted}" in packages/server/package.json (and rename the alias if the major version changed)`;
    expect(wanted, `mailparser no longer pins nodemailer exactly: ${help}`).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.dependencies[ALIAS], help).toBe(`npm:nodemailer@${wanted}`);
    expect(installed, help).toBe(wanted);
    expect(ALIAS, help).toBe(`nodemailer-${wanted?.split('.')[0]}`);
  });

  it('parses the way the summary expects', () => {
    expect(addressParser('"Ann Example" <ann@example.test>, bob@example.test')).toEqual([
      { name: 'Ann Example', address: 'ann@example.test' },
      { name: '', address: 'bob@example.test' },
    ]);
  });
});
