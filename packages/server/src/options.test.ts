import { describe, expect, it } from 'vitest';
import { resolveMailwrightOptions } from './options.js';

function problemsOf(options: Parameters<typeof resolveMailwrightOptions>[0]): { path: string; message: string }[] {
  try {
    resolveMailwrightOptions(options);
  } catch (error) {
    expect(error).toMatchObject({ code: 'INVALID_OPTIONS' });
    return (error as { details: { path: string; message: string }[] }).details;
  }
  throw new Error('expected the options to be rejected');
}

describe('resolveMailwrightOptions', () => {
  it('fills in the documented defaults and freezes the result', () => {
    const options = resolveMailwrightOptions();
    expect(options).toMatchObject({
      host: '127.0.0.1',
      smtpPort: 1025,
      smtpsPort: 1465,
      httpPort: 8025,
      hostname: 'localhost',
      starttls: 'offer',
      auth: 'optional',
      maxMessageSize: 50 * 1024 * 1024,
      maxMessages: 10_000,
    });
    expect(Object.isFrozen(options)).toBe(true);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({
      smtpPort: -1,
      starttls: 'maybe' as never,
      tlsCert: 'PEM',
      tlsMinVersion: 'TLSv1.3',
      tlsMaxVersion: 'TLSv1.2',
      nonsense: true,
    } as never);
    expect(problems.map((problem) => problem.path)).toEqual(expect.arrayContaining(['smtpPort', 'starttls', '']));
    expect(problems.length).toBeGreaterThanOrEqual(3);
  });

  it('rejects conflicting combinations together', () => {
    const problems = problemsOf({ tlsCert: 'PEM', tlsMinVersion: 'TLSv1.3', tlsMaxVersion: 'TLSv1.2', smtpPort: 2525, httpPort: 2525 });
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'tlsKey', message: 'tlsCert and tlsKey must be given together' },
        { path: 'tlsMinVersion', message: 'TLSv1.3 is above tlsMaxVersion TLSv1.2' },
        { path: 'httpPort', message: 'port 2525 is also used by smtpPort' },
      ]),
    );
  });

  it('names listener problems by their position in the input', () => {
    const problems = problemsOf({
      listeners: [{ name: 'bad name!' }, { name: 'lab', port: 2600 }, { name: 'lab', tls: 'implicit', starttls: 'require' }, { name: 'smtp' }],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'listeners[0].name' }),
        expect.objectContaining({ path: 'listeners[2].starttls' }),
        { path: 'listeners[3].name', message: 'listener name "smtp" is already taken' },
      ]),
    );
  });
});
