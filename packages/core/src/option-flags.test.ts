import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CliOptionsSchema, MailwrightOptionsSchema } from './mailwright-options.js';
import { describeOptionFlags, formatByteSize, optionFlagRegistry, withFlag } from './option-flags.js';

describe('describeOptionFlags', () => {
  const schema = z
    .object({
      listenPort: withFlag(z.number().int().default(2525), { kind: 'port', description: 'Port' }),
      pollIntervalMs: withFlag(z.number().int().positive().default(250), { kind: 'milliseconds', description: 'Poll' }),
      bufferLimitBytes: withFlag(
        z
          .number()
          .int()
          .positive()
          .default(3 * 1024 * 1024),
        { kind: 'size', description: 'Buffer' },
      ),
      mode: withFlag(z.enum(['fast', 'safe']).default('safe'), { kind: 'choice', description: 'Mode' }),
      level: withFlag(z.enum(['low', 'high']).optional(), { kind: 'choice', value: '<level>', description: 'Level', defaultText: 'it depends' }),
      extraNames: withFlag(z.array(z.string()).default([]), { kind: 'host-name', description: 'Names' }),
      profiles: withFlag(z.array(z.unknown()).default([]), { kind: 'listener', description: 'Profiles' }),
      verbose: withFlag(z.boolean().default(false), { kind: 'switch', description: 'Verbose' }),
      hook: withFlag(z.custom<() => void>((value) => typeof value === 'function').optional(), { kind: 'none', description: 'a function' }),
    })
    .strict();

  it('derives names, environment twins, placeholders, defaults and choices from the schema', () => {
    expect(describeOptionFlags(schema)).toEqual([
      {
        option: 'listenPort',
        name: 'listen-port',
        env: 'MAILWRIGHT_LISTEN_PORT',
        kind: 'port',
        type: 'string',
        multiple: false,
        value: '<port>',
        description: 'Port',
        defaultText: '2525',
      },
      // A unit suffix is dropped: the value's kind says the unit.
      {
        option: 'pollIntervalMs',
        name: 'poll-interval',
        env: 'MAILWRIGHT_POLL_INTERVAL',
        kind: 'milliseconds',
        type: 'string',
        multiple: false,
        value: '<ms>',
        description: 'Poll',
        defaultText: '250',
      },
      {
        option: 'bufferLimitBytes',
        name: 'buffer-limit',
        env: 'MAILWRIGHT_BUFFER_LIMIT',
        kind: 'size',
        type: 'string',
        multiple: false,
        value: '<size>',
        description: 'Buffer',
        defaultText: '3MiB',
      },
      {
        option: 'mode',
        name: 'mode',
        env: 'MAILWRIGHT_MODE',
        kind: 'choice',
        type: 'string',
        multiple: false,
        value: 'fast|safe',
        description: 'Mode',
        defaultText: 'safe',
        choices: ['fast', 'safe'],
      },
      {
        option: 'level',
        name: 'level',
        env: 'MAILWRIGHT_LEVEL',
        kind: 'choice',
        type: 'string',
        multiple: false,
        value: '<level>',
        description: 'Level',
        defaultText: 'it depends',
        choices: ['low', 'high'],
      },
      // A list is a repeatable flag in the singular; its variable keeps the plural.
      {
        option: 'extraNames',
        name: 'extra-name',
        env: 'MAILWRIGHT_EXTRA_NAMES',
        kind: 'host-name',
        type: 'string',
        multiple: true,
        envSeparator: ',',
        value: '<name>',
        description: 'Names',
      },
      {
        option: 'profiles',
        name: 'profile',
        env: 'MAILWRIGHT_PROFILES',
        kind: 'listener',
        type: 'string',
        multiple: true,
        envSeparator: ';',
        value: '<key=value,...>',
        description: 'Profiles',
      },
      { option: 'verbose', name: 'verbose', env: 'MAILWRIGHT_VERBOSE', kind: 'switch', type: 'boolean', multiple: false, description: 'Verbose' },
    ]);
  });

  it('follows the schema: a changed default or choice changes the flag', () => {
    const changed = schema.extend({
      listenPort: withFlag(z.number().int().default(2600), { kind: 'port', description: 'Port' }),
      mode: withFlag(z.enum(['fast', 'safe', 'paranoid']).default('paranoid'), { kind: 'choice', description: 'Mode' }),
    });
    const flags = describeOptionFlags(changed);
    expect(flags.find((flag) => flag.option === 'listenPort')?.defaultText).toBe('2600');
    expect(flags.find((flag) => flag.option === 'mode')).toMatchObject({
      value: 'fast|safe|paranoid',
      defaultText: 'paranoid',
      choices: ['fast', 'safe', 'paranoid'],
    });
  });

  it('refuses a field without metadata, naming it', () => {
    expect(() => describeOptionFlags(z.object({ forgotten: z.string().optional() }))).toThrow('option "forgotten" has no command-line metadata');
  });

  it('refuses metadata that does not fit the field', () => {
    expect(() => describeOptionFlags(z.object({ count: withFlag(z.number().default(1), { kind: 'switch', description: 'x' }) }))).toThrow(
      'option "count" is a zod number, which a "switch" flag cannot set',
    );
    expect(() => describeOptionFlags(z.object({ names: withFlag(z.string().optional(), { kind: 'origin', description: 'x' }) }))).toThrow(
      /"names" is a zod string/,
    );
    expect(() => describeOptionFlags(z.object({ mode: withFlag(z.string().optional(), { kind: 'choice', description: 'x' }) }))).toThrow(
      /"mode" is a zod string/,
    );
  });
});

describe('the options schemas', () => {
  it('give every option of the server a flag, except the logger, which no command line can express', () => {
    const withoutFlag = Object.entries(MailwrightOptionsSchema.shape)
      .filter(([, field]) => optionFlagRegistry.get(field)?.kind === 'none')
      .map(([option]) => option);
    expect(withoutFlag).toEqual(['logger']);
    const flagged = describeOptionFlags(MailwrightOptionsSchema).map((flag) => flag.option);
    expect(flagged).toEqual(Object.keys(MailwrightOptionsSchema.shape).filter((option) => option !== 'logger'));
    expect(describeOptionFlags(CliOptionsSchema).map((flag) => flag.name)).toEqual(['log-level', 'log-format']);
  });

  it('show the schema defaults', () => {
    const byName = new Map(describeOptionFlags(MailwrightOptionsSchema).map((flag) => [flag.name, flag]));
    expect(byName.get('smtp-port')?.defaultText).toBe('1025');
    expect(byName.get('max-message-size')?.defaultText).toBe('50MiB');
    expect(byName.get('starttls')).toMatchObject({ value: 'offer|require|off', defaultText: 'offer' });
    expect(byName.get('tls-min-version')).toMatchObject({ defaultText: 'TLSv1.2', choices: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] });
  });
});

describe('formatByteSize', () => {
  it('uses the largest binary unit that divides the size', () => {
    expect(formatByteSize(50 * 1024 ** 2)).toBe('50MiB');
    expect(formatByteSize(2 * 1024 ** 3)).toBe('2GiB');
    expect(formatByteSize(1536)).toBe('1536');
    expect(formatByteSize(3072)).toBe('3KiB');
    expect(formatByteSize(1000)).toBe('1000');
  });
});
