import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURES_DIR = new URL('../../test/fixtures/', import.meta.url);

/** The names of the `.eml` fixtures under `packages/server/test/fixtures`. */
export type FixtureName = 'plain-text' | 'html-with-attachment' | 'eight-bit-headers' | 'broken-mime' | 'dot-stuffing';

/**
 * Reads an `.eml` fixture as bytes, with every line ending made CRLF (what SMTP carries),
 * whatever a checkout did to the line endings. Other bytes are left exactly as they are.
 */
export function readFixture(name: FixtureName): Buffer {
  const bytes = readFileSync(fileURLToPath(new URL(`${name}.eml`, FIXTURES_DIR)));
  return Buffer.from(bytes.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}
