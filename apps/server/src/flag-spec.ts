import type { OptionFlag } from '@mailwright/core/options';

/** One command-line flag and how it maps onto the environment and the options. */
export interface FlagSpec extends Partial<Pick<OptionFlag, 'option' | 'kind' | 'choices' | 'envSeparator'>> {
  /** Long name without dashes, e.g. `smtp-port`. */
  readonly name: string;
  /** One-letter alias, e.g. `h` for `-h`. */
  readonly short?: string;
  /** `string` flags take a value; `boolean` flags take none. */
  readonly type: 'string' | 'boolean';
  /** Whether the flag may be repeated; every occurrence is kept. */
  readonly multiple?: boolean;
  /** Placeholder of the value in `--help`, e.g. `<port>`. */
  readonly value?: string;
  /** One-line description for `--help`. */
  readonly description: string;
  /** The default as shown in `--help`. */
  readonly defaultText?: string;
  /** The environment twin, or null for flags without one (`--help`, `--version`). */
  readonly env: string | null;
}

/**
 * The environment twin of a flag: `--smtp-port` ↔ `MAILWRIGHT_SMTP_PORT` (the rule
 * `describeOptionFlags` applies to the options schema; written out here for the health check,
 * which loads no schema so that it starts fast).
 */
export function envNameOf(flag: string): string {
  return `MAILWRIGHT_${flag.toUpperCase().replace(/-/g, '_')}`;
}
