// `@mailwright/core/options`: the server's options schema and what the CLI derives from it.
// A subpath of its own, so that what loads the main entry (the web viewer) does not build the
// schema.
export { CliOptionsSchema, LOG_FORMATS, LOG_LEVELS, MailwrightOptionsSchema } from './mailwright-options.js';
export type { LogFormat, LogLevel, Logger, MailwrightOptions, ResolvedMailwrightOptions } from './mailwright-options.js';
export { ENV_PREFIX, OPTION_KINDS, describeOptionFlags, formatByteSize, optionFlagRegistry, withFlag } from './option-flags.js';
export type { NoFlagMeta, OptionFlag, OptionFlagMeta, OptionKind } from './option-flags.js';
