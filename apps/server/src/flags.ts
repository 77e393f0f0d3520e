import { CliOptionsSchema, MailwrightOptionsSchema, describeOptionFlags } from '@mailwright/core/options';
import type { FlagSpec } from './flag-spec.js';

export { envNameOf, type FlagSpec } from './flag-spec.js';
export { HEALTHCHECK_FLAGS } from './healthcheck-flags.js';

/**
 * Flags of `mailwright` (serving): one for each server option and each option of the command
 * itself, derived from their schemas (names, environment twins, defaults, choices, help), then
 * `--help` and `--version`.
 */
export const SERVE_FLAGS: readonly FlagSpec[] = [
  ...describeOptionFlags(MailwrightOptionsSchema),
  ...describeOptionFlags(CliOptionsSchema),
  { name: 'help', short: 'h', type: 'boolean', description: 'Show this help and exit', env: null },
  { name: 'version', short: 'v', type: 'boolean', description: 'Show the version and exit', env: null },
];

/** The subcommands besides serving. */
export const SUBCOMMANDS = ['healthcheck'] as const;
