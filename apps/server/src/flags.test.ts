import { CliOptionsSchema, MailwrightOptionsSchema, optionFlagRegistry } from '@mailwright/core/options';
import { describe, expect, it } from 'vitest';
import { resolveCliConfig, type CliContext } from './cli-config.js';
import { SERVE_FLAGS, envNameOf } from './flags.js';

const context: CliContext = {
  env: {},
  cwd: '/work',
  homedir: '/home/ada',
  stdoutIsTTY: false,
  readTextFile: () => '-----BEGIN CERTIFICATE-----\n',
  isDirectory: () => true,
  defaultWebRoot: undefined,
};

/** Every option that has a flag: the server's, and the command's own. */
const OPTIONS_WITH_FLAGS = [MailwrightOptionsSchema, CliOptionsSchema].flatMap((schema) =>
  Object.entries(schema.shape)
    .filter(([, field]) => optionFlagRegistry.get(field)?.kind !== 'none')
    .map(([option]) => option),
);

describe('SERVE_FLAGS', () => {
  it('has one flag for every option of the schemas, and no other flag but --help and --version', () => {
    expect(SERVE_FLAGS.filter((spec) => spec.option !== undefined).map((spec) => spec.option)).toEqual(OPTIONS_WITH_FLAGS);
    expect(SERVE_FLAGS.filter((spec) => spec.option === undefined).map((spec) => spec.name)).toEqual(['help', 'version']);
  });

  it('gives every option flag an environment twin named after the option', () => {
    for (const spec of SERVE_FLAGS.filter((candidate) => candidate.option !== undefined)) {
      const plural = spec.multiple ? `${spec.name}s` : spec.name;
      expect(spec.env, spec.name).toBe(envNameOf(plural));
    }
  });

  it('reads every option flag from its environment twin', () => {
    // A value each kind refuses, or (text and paths) one that shows up in the options.
    const probes: Record<string, string> = {
      switch: 'maybe',
      credentials: 'no-colon',
      listener: 'port=1',
      'host-name': 'two words',
      text: 'probe-value',
      path: 'probe-value',
    };
    for (const spec of SERVE_FLAGS.filter((candidate) => candidate.env !== null)) {
      const env = spec.env as string;
      const value = probes[spec.kind ?? ''] ?? 'x';
      const result = resolveCliConfig([], {
        ...context,
        env: { [env]: value },
        isDirectory: () => false,
        readTextFile: () => {
          throw new Error('unreadable');
        },
      });
      if (result.ok && result.config.command === 'serve') {
        expect(JSON.stringify(result.config.options[spec.option as keyof typeof result.config.options]), `${env}=${value}`).toContain(value);
      } else if (!result.ok)
        expect(
          result.problems.map((problem) => problem.source.replace(/ .*/, '')),
          `${env}=${value}`,
        ).toContain(env);
      else expect.unreachable(`${env}=${value}: ${result.config.command}`);
    }
  });

  it('knows no flag that is not in the schema', () => {
    expect(resolveCliConfig(['--stream-buffer', '1'], context)).toEqual({
      ok: false,
      topic: 'serve',
      problems: [{ source: '--stream-buffer', message: 'unknown flag' }],
    });
    // The option's own name is not a flag either: only the derived one is.
    expect(resolveCliConfig(['--command-timeout-ms=5'], context)).toMatchObject({ ok: false, problems: [{ message: expect.stringMatching(/^unknown flag/) }] });
  });

  it('agrees with the names the health check writes out for the variables it reads', () => {
    const envOf = (option: string): string | null | undefined => SERVE_FLAGS.find((spec) => spec.option === option)?.env;
    expect(envOf('host')).toBe(envNameOf('host'));
    expect(envOf('httpPort')).toBe(envNameOf('http-port'));
  });
});
