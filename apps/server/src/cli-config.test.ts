import { describe, expect, it } from 'vitest';
import { resolveCliConfig, type CliContext, type CliProblem, type ServeConfig } from './cli-config.js';
import { SERVE_FLAGS } from './flags.js';

const CERT_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
const FILES: Record<string, string> = {
  '/certs/cert.pem': CERT_PEM,
  '/certs/key.pem': KEY_PEM,
  '/certs/notes.txt': 'hello',
  '/zones/good.zone': 'example.com TXT v=spf1 -all\n',
  '/zones/bad.zone': '# two mistakes\nmx.example.com A nope\nexample.com TXT v=spf1 -all\n-bad-.example.com MX 10 mx.example.com\n',
};
const DIRECTORIES = new Set(['/srv/web', '/work/site']);

function context(env: Record<string, string> = {}, overrides: Partial<CliContext> = {}): CliContext {
  return {
    env,
    cwd: '/work',
    homedir: '/home/ada',
    stdoutIsTTY: false,
    readTextFile(path) {
      const text = FILES[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return text;
    },
    isDirectory: (path) => DIRECTORIES.has(path),
    defaultWebRoot: undefined,
    ...overrides,
  };
}

function serve(argv: string[], env: Record<string, string> = {}, overrides: Partial<CliContext> = {}): ServeConfig {
  const result = resolveCliConfig(argv, context(env, overrides));
  if (!result.ok) throw new Error(`expected a valid configuration, got:\n${result.problems.map((p) => `${p.source}: ${p.message}`).join('\n')}`);
  if (result.config.command !== 'serve') throw new Error(`expected serve, got ${result.config.command}`);
  return result.config;
}

function problems(argv: string[], env: Record<string, string> = {}): CliProblem[] {
  const result = resolveCliConfig(argv, context(env));
  if (result.ok) throw new Error('expected problems, got a valid configuration');
  return result.problems;
}

/** Every value flag with one valid value and the option it produces. */
const SCALAR_CASES: { flag: string; value: string; expected: Record<string, unknown> }[] = [
  { flag: 'host', value: '127.0.0.2', expected: { host: '127.0.0.2' } },
  { flag: 'smtp-port', value: '2525', expected: { smtpPort: 2525 } },
  { flag: 'smtps-port', value: '2465', expected: { smtpsPort: 2465 } },
  { flag: 'http-port', value: '8080', expected: { httpPort: 8080 } },
  { flag: 'hostname', value: 'mail.example.test', expected: { hostname: 'mail.example.test' } },
  { flag: 'data-dir', value: '/var/lib/mailwright', expected: { dataDir: '/var/lib/mailwright' } },
  { flag: 'starttls', value: 'require', expected: { starttls: 'require' } },
  { flag: 'tls-min-version', value: 'TLSv1.3', expected: { tlsMinVersion: 'TLSv1.3' } },
  { flag: 'tls-max-version', value: 'TLSv1.2', expected: { tlsMaxVersion: 'TLSv1.2' } },
  { flag: 'auth', value: 'required', expected: { auth: 'required' } },
  { flag: 'max-message-size', value: '10MB', expected: { maxMessageSize: 10_000_000 } },
  { flag: 'max-messages', value: '500', expected: { maxMessages: 500 } },
  { flag: 'storage', value: 'memory', expected: { storage: 'memory' } },
  { flag: 'max-age', value: '7d', expected: { maxAge: 7 * 86_400_000 } },
  { flag: 'max-bytes', value: '2GiB', expected: { maxBytes: 2 * 1024 ** 3 } },
  { flag: 'max-sessions', value: '600', expected: { maxSessions: 600 } },
  { flag: 'max-recipients', value: '7', expected: { maxRecipients: 7 } },
  { flag: 'max-memory', value: '64MiB', expected: { maxMemory: 64 * 1024 * 1024 } },
  { flag: 'max-connections', value: '300', expected: { maxConnections: 300 } },
  { flag: 'max-connections-per-ip', value: '30', expected: { maxConnectionsPerIp: 30 } },
  { flag: 'command-timeout', value: '5000', expected: { commandTimeoutMs: 5000 } },
  { flag: 'data-timeout', value: '90000', expected: { dataTimeoutMs: 90_000 } },
  { flag: 'stream-max-buffered', value: '1MiB', expected: { streamMaxBufferedBytes: 1024 * 1024 } },
  { flag: 'stream-ping-interval', value: '5000', expected: { streamPingIntervalMs: 5000 } },
  { flag: 'api-token', value: 'sesame-open-42', expected: { apiToken: 'sesame-open-42' } },
  { flag: 'web-root', value: '/srv/web', expected: { webRoot: '/srv/web' } },
  { flag: 'dns', value: 'live', expected: { dns: 'live' } },
  { flag: 'dns-zone', value: '/zones/good.zone', expected: { dnsZone: '/zones/good.zone' } },
  { flag: 'dns-timeout', value: '500', expected: { dnsTimeoutMs: 500 } },
  { flag: 'authentication', value: 'off', expected: { authentication: 'off' } },
  { flag: 'protection', value: 'off', expected: { protection: 'off' } },
  { flag: 'client-ip', value: '203.0.113.7', expected: { clientIp: '203.0.113.7' } },
];

const envOf = (flag: string): string => SERVE_FLAGS.find((spec) => spec.name === flag)?.env as string;

describe('resolveCliConfig: serve flags', () => {
  it('has a test case for every flag with an environment twin', () => {
    const covered = new Set([
      ...SCALAR_CASES.map((entry) => entry.flag),
      'tls-cert',
      'tls-key',
      'auth-user',
      'listener',
      'fault',
      'allowed-origin',
      'tls-name',
      'log-level',
      'log-format',
      'allowed-host',
      'insecure-no-token',
      'allow-privileged-ports',
      'dns-server',
    ]);
    const withEnv = SERVE_FLAGS.filter((spec) => spec.env !== null).map((spec) => spec.name);
    expect(withEnv.filter((flag) => !covered.has(flag))).toEqual([]);
  });

  it('refuses a zone file with mistakes, listing each with its line', () => {
    expect(problems(['--dns-zone', '/zones/bad.zone', '--client-ip', '203.0.113.300'])).toEqual([
      { source: '--dns-zone', message: '/zones/bad.zone:2: value: "nope" is not an IPv4 address' },
      { source: '--dns-zone', message: expect.stringMatching(/^\/zones\/bad\.zone:4: name: the label "-bad-"/) },
      { source: '--client-ip', message: 'must be an IPv4 or IPv6 address' },
    ]);
    expect(problems(['--dns-zone', 'missing.zone'])).toEqual([{ source: '--dns-zone', message: 'cannot read /work/missing.zone: no such file' }]);
  });

  it('reads name servers for live DNS, with optional ports', () => {
    expect(serve(['--dns-server', '192.0.2.53', '--dns-server', '[2001:db8::53]:5353']).options.dnsServers).toEqual(['192.0.2.53', '[2001:db8::53]:5353']);
    expect(serve([], { MAILWRIGHT_DNS_SERVERS: '127.0.0.1:5353,2001:db8::53' }).options.dnsServers).toEqual(['127.0.0.1:5353', '2001:db8::53']);
    expect(problems(['--dns-server', 'ns.example.com'])).toEqual([
      { source: '--dns-server', message: '"ns.example.com" is not an IP address with an optional port (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:5353)' },
    ]);
  });

  it('names every environment twin MAILWRIGHT_<FLAG>', () => {
    expect(envOf('smtp-port')).toBe('MAILWRIGHT_SMTP_PORT');
    expect(envOf('tls-min-version')).toBe('MAILWRIGHT_TLS_MIN_VERSION');
    expect(envOf('auth-user')).toBe('MAILWRIGHT_AUTH_USERS');
    expect(envOf('listener')).toBe('MAILWRIGHT_LISTENERS');
  });

  it('has the documented defaults when nothing is given', () => {
    const config = serve([]);
    expect(config.options).toEqual({ dataDir: '/home/ada/.local/share/mailwright', storage: 'sqlite' });
    expect(config.logLevel).toBe('info');
    expect(config.logFormat).toBe('json');
    expect(config.warnings).toEqual([]);
  });

  it.each(SCALAR_CASES)('--$flag <value>, --$flag=<value> and its env twin set the option', ({ flag, value, expected }) => {
    expect(serve([`--${flag}`, value]).options).toMatchObject(expected);
    expect(serve([`--${flag}=${value}`]).options).toMatchObject(expected);
    expect(serve([], { [envOf(flag)]: value }).options).toMatchObject(expected);
  });

  it.each(SCALAR_CASES)('--$flag wins over its env twin', ({ flag, value, expected }) => {
    const envValue =
      flag === 'web-root'
        ? '/work/site'
        : flag.includes('port')
          ? '3000'
          : flag === 'max-message-size'
            ? '1KiB'
            : flag === 'max-age'
              ? '3h'
              : flag.startsWith('max')
                ? '3'
                : value;
    expect(serve([`--${flag}`, value], { [envOf(flag)]: envValue }).options).toMatchObject(expected);
  });

  it('lets the last occurrence of a single-valued flag win', () => {
    expect(serve(['--smtp-port', '1', '--smtp-port', '2']).options.smtpPort).toBe(2);
  });

  it('ignores empty environment variables', () => {
    expect(serve([], { MAILWRIGHT_SMTP_PORT: '', MAILWRIGHT_HOST: '  ' }).options).toEqual({ dataDir: '/home/ada/.local/share/mailwright', storage: 'sqlite' });
  });

  it('reads --tls-cert and --tls-key as PEM files, from flags or env', () => {
    expect(serve(['--tls-cert', '/certs/cert.pem', '--tls-key=/certs/key.pem']).options).toMatchObject({ tlsCert: CERT_PEM, tlsKey: KEY_PEM });
    expect(serve([], { MAILWRIGHT_TLS_CERT: '/certs/cert.pem', MAILWRIGHT_TLS_KEY: '/certs/key.pem' }).options).toMatchObject({
      tlsCert: CERT_PEM,
      tlsKey: KEY_PEM,
    });
    // Relative paths are resolved against the working directory.
    expect(serve(['--tls-cert', '../certs/cert.pem', '--tls-key', '../certs/key.pem']).options.tlsCert).toBe(CERT_PEM);
  });

  it('reports an unreadable or non-PEM certificate file, and a certificate without a key', () => {
    expect(problems(['--tls-cert', '/certs/missing.pem', '--tls-key', '/certs/notes.txt'])).toEqual([
      { source: '--tls-cert', message: 'cannot read /certs/missing.pem: no such file' },
      { source: '--tls-key', message: '/certs/notes.txt is not a PEM file (no "-----BEGIN" line)' },
    ]);
    expect(problems([], { MAILWRIGHT_TLS_CERT: '/certs/cert.pem' })).toEqual([
      { source: '--tls-key', message: '--tls-cert and --tls-key must be given together' },
    ]);
  });

  it('takes --auth-user repeatedly, and MAILWRIGHT_AUTH_USERS comma-separated; passwords may hold colons', () => {
    const users = [
      { username: 'ada', password: 'lovelace' },
      { username: 'bob', password: 'p:a:ss' },
    ];
    expect(serve(['--auth-user', 'ada:lovelace', '--auth-user=bob:p:a:ss']).options.authUsers).toEqual(users);
    expect(serve([], { MAILWRIGHT_AUTH_USERS: 'ada:lovelace, bob:p:a:ss,' }).options.authUsers).toEqual(users);
    expect(serve(['--auth-user', 'eve:x'], { MAILWRIGHT_AUTH_USERS: 'ada:lovelace' }).options.authUsers).toEqual([{ username: 'eve', password: 'x' }]);
  });

  it('never echoes a password in a problem', () => {
    const found = problems(['--auth-user', 'topsecretvalue', '--auth-user', 'ada:hunter22', '--auth-user', 'ada:other-secret']);
    expect(found).toEqual([
      { source: '--auth-user #1', message: 'expected user:password (the value has no ":")' },
      { source: '--auth-user #3', message: 'user "ada" is listed twice' },
    ]);
    expect(JSON.stringify(found)).not.toMatch(/topsecretvalue|hunter22|other-secret/);
  });

  it('takes --tls-name repeatedly, and MAILWRIGHT_TLS_NAMES comma-separated', () => {
    expect(serve(['--tls-name', 'mail.test', '--tls-name', '172.17.0.1']).options.tlsNames).toEqual(['mail.test', '172.17.0.1']);
    expect(serve([], { MAILWRIGHT_TLS_NAMES: 'mail.test, 10.0.0.7' }).options.tlsNames).toEqual(['mail.test', '10.0.0.7']);
    expect(problems(['--tls-name', 'two words'])).toEqual([{ source: '--tls-name', message: '"two words" is not a host name or IP address' }]);
  });

  it('takes --allowed-origin repeatedly, and MAILWRIGHT_ALLOWED_ORIGINS comma-separated', () => {
    expect(serve(['--allowed-origin', 'http://localhost:5173', '--allowed-origin', '*']).options.allowedOrigins).toEqual(['http://localhost:5173', '*']);
    expect(serve([], { MAILWRIGHT_ALLOWED_ORIGINS: 'https://a.test,https://b.test:8443' }).options.allowedOrigins).toEqual([
      'https://a.test',
      'https://b.test:8443',
    ]);
    expect(problems(['--allowed-origin', 'https://a.test/app'])).toEqual([
      { source: '--allowed-origin', message: '"https://a.test/app" is not an origin (scheme://host[:port], no path), nor *' },
    ]);
  });

  it('takes --allowed-host repeatedly, and MAILWRIGHT_ALLOWED_HOSTS comma-separated', () => {
    expect(serve(['--allowed-host', 'mail.team.test', '--allowed-host', '.corp.test']).options.allowedHosts).toEqual(['mail.team.test', '.corp.test']);
    expect(serve([], { MAILWRIGHT_ALLOWED_HOSTS: 'mailwright, *' }).options.allowedHosts).toEqual(['mailwright', '*']);
    expect(problems(['--allowed-host', 'http://mail.test'])).toEqual([
      { source: '--allowed-host', message: '"http://mail.test" is not a host name (.example.test allows subdomains, * any name)' },
    ]);
  });

  it('refuses a non-loopback --host without --api-token, unless --insecure-no-token (or its env twin) says so', () => {
    expect(problems(['--host', '0.0.0.0'])).toEqual([
      { source: '--host', message: expect.stringMatching(/^binding to 0\.0\.0\.0 .*set --api-token, or --insecure-no-token on a private network$/) },
    ]);
    expect(problems([], { MAILWRIGHT_HOST: '::' })).toEqual([{ source: 'MAILWRIGHT_HOST', message: expect.stringMatching(/^binding to ::/) }]);
    expect(serve(['--host', '0.0.0.0', '--insecure-no-token']).options).toMatchObject({ host: '0.0.0.0', insecureNoToken: true });
    expect(serve(['--host', '0.0.0.0'], { MAILWRIGHT_INSECURE_NO_TOKEN: 'true' }).options).toMatchObject({ insecureNoToken: true });
    expect(serve(['--host', '0.0.0.0', '--api-token', 'sesame-open-42']).options).toMatchObject({ host: '0.0.0.0' });
    expect(problems(['--host', '0.0.0.0'], { MAILWRIGHT_INSECURE_NO_TOKEN: 'false' })).toHaveLength(1);
    expect(problems([], { MAILWRIGHT_INSECURE_NO_TOKEN: 'sure' })).toEqual([
      { source: 'MAILWRIGHT_INSECURE_NO_TOKEN', message: 'must be true or false, not "sure"' },
    ]);
  });

  it('takes --allow-privileged-ports and its env twin', () => {
    expect(serve([]).options.allowPrivilegedPorts).toBeUndefined();
    expect(serve(['--allow-privileged-ports']).options.allowPrivilegedPorts).toBe(true);
    expect(serve([], { MAILWRIGHT_ALLOW_PRIVILEGED_PORTS: '1' }).options.allowPrivilegedPorts).toBe(true);
  });

  it('serves the built viewer by default, unless --web-root says otherwise', () => {
    expect(serve([], {}, { defaultWebRoot: '/opt/web' }).options.webRoot).toBe('/opt/web');
    expect(serve(['--web-root', '/srv/web'], {}, { defaultWebRoot: '/opt/web' }).options.webRoot).toBe('/srv/web');
    expect(serve([]).options.webRoot).toBeUndefined();
    expect(problems(['--web-root', 'missing'])).toEqual([{ source: '--web-root', message: '/work/missing is not a directory' }]);
  });

  it('parses --max-message-size in bytes or with decimal and binary units', () => {
    const size = (value: string) => serve(['--max-message-size', value]).options.maxMessageSize;
    expect(size('1048576')).toBe(1_048_576);
    expect(size('50MiB')).toBe(50 * 1024 ** 2);
    expect(size('50mib')).toBe(50 * 1024 ** 2);
    expect(size('50M')).toBe(50 * 1024 ** 2);
    expect(size('10MB')).toBe(10_000_000);
    expect(size('1.5KiB')).toBe(1536);
    expect(size('2GB')).toBe(2_000_000_000);
    expect(size('512B')).toBe(512);
    for (const bad of ['10XB', 'MB', '-5', '0', '0.5B']) expect(problems(['--max-message-size', bad])[0]?.source).toBe('--max-message-size');
  });

  it('resolves --data-dir against the working directory and expands ~', () => {
    expect(serve(['--data-dir', 'state']).options.dataDir).toBe('/work/state');
    expect(serve(['--data-dir', '~/mw']).options.dataDir).toBe('/home/ada/mw');
    expect(serve([], { MAILWRIGHT_DATA_DIR: '~' }).options.dataDir).toBe('/home/ada');
  });

  it('defaults --data-dir to $XDG_DATA_HOME/mailwright, ignoring a relative XDG_DATA_HOME', () => {
    expect(serve([], { XDG_DATA_HOME: '/xdg/data' }).options.dataDir).toBe('/xdg/data/mailwright');
    expect(serve([], { XDG_DATA_HOME: 'relative/data' }).options.dataDir).toBe('/home/ada/.local/share/mailwright');
  });

  it('picks the log format from the terminal unless told, and takes the level', () => {
    expect(serve([], {}, { stdoutIsTTY: true }).logFormat).toBe('pretty');
    expect(serve([], {}, { stdoutIsTTY: false }).logFormat).toBe('json');
    expect(serve(['--log-format', 'json'], {}, { stdoutIsTTY: true }).logFormat).toBe('json');
    expect(serve([], { MAILWRIGHT_LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(serve(['--log-format=json'], { MAILWRIGHT_LOG_FORMAT: 'pretty' }).logFormat).toBe('json');
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const) expect(serve(['--log-level', level]).logLevel).toBe(level);
    expect(serve([], { MAILWRIGHT_LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(serve(['--log-level', 'warn'], { MAILWRIGHT_LOG_LEVEL: 'debug' }).logLevel).toBe('warn');
  });

  it('warns about MAILWRIGHT_* variables that look like a typo, and leaves other tools’ variables alone', () => {
    expect(serve([], { MAILWRIGHT_SMTP_PROT: '1', MAILWRIGHT_URL: 'http://x' }).warnings).toEqual([
      'ignoring unknown environment variable MAILWRIGHT_SMTP_PROT (did you mean MAILWRIGHT_SMTP_PORT?)',
    ]);
  });
});

describe('resolveCliConfig: --fault', () => {
  it('maps key=value pairs and JSON onto fault rules; repeatable, MAILWRIGHT_FAULTS separates them with ";"', () => {
    expect(
      serve(['--fault', 'at=rcpt,code=451,text=4.7.1 Try later,recipient=a@x.test,times=1', '--fault', '{"at":"data","action":{"disconnectMidData":true}}'])
        .options.faults,
    ).toEqual([
      { at: 'rcpt', action: { reply: { code: 451, text: '4.7.1 Try later' } }, match: { recipient: 'a@x.test' }, times: 1 },
      { at: 'data', action: { disconnectMidData: true } },
    ]);
    expect(serve([], { MAILWRIGHT_FAULTS: 'at=rcpt,greylist=1000;at=mail,rate-limit=10/60000,sender=app@x.test' }).options.faults).toEqual([
      { at: 'rcpt', action: { greylist: { retryAfterMs: 1000 } }, match: {} },
      { at: 'mail', action: { rateLimit: { max: 10, windowMs: 60000 } }, match: { sender: 'app@x.test' } },
    ]);
  });

  it('reports shape problems and what the rule schema refuses, naming the flag', () => {
    expect(problems(['--fault', 'at=rcpt,colour=red', '--fault', 'at=rcpt,code=250', '--fault', 'at=nowhere,delay=100000', '--fault', '{oops'])).toEqual([
      { source: '--fault #1', message: expect.stringMatching(/^unknown key "colour" \(known: id, at, code/) },
      { source: '--fault #1', message: expect.stringMatching(/^give one action: code, delay/) },
      { source: '--fault #4', message: expect.stringMatching(/^is not valid JSON/) },
      { source: '--fault #2', message: 'action.reply.code: a reject code is 400 to 599' },
      { source: '--fault #3', message: expect.stringMatching(/^at: /) },
      { source: '--fault #3', message: 'action.delay: at most 60000 ms' },
    ]);
  });
});

describe('resolveCliConfig: --listener', () => {
  it('maps key=value pairs onto a listener profile, in camelCase or kebab-case', () => {
    expect(
      serve(['--listener', 'name=lab,port=2526,certificate=expired,tls=implicit,min-version=TLSv1.3,clientCertificate=request,auth=required']).options
        .listeners,
    ).toEqual([{ name: 'lab', port: 2526, certificate: 'expired', tls: 'implicit', minVersion: 'TLSv1.3', clientCertificate: 'request', auth: 'required' }]);
  });

  it('is repeatable, and MAILWRIGHT_LISTENERS separates listeners with ";"', () => {
    const expected = [
      { name: 'a', port: 0 },
      { name: 'b', starttls: 'fail' },
    ];
    expect(serve(['--listener', 'name=a,port=0', '--listener', 'name=b,starttls=fail']).options.listeners).toEqual(expected);
    expect(serve([], { MAILWRIGHT_LISTENERS: 'name=a,port=0; name=b,starttls=fail;' }).options.listeners).toEqual(expected);
    expect(serve(['--listener', 'name=c'], { MAILWRIGHT_LISTENERS: 'name=a' }).options.listeners).toEqual([{ name: 'c' }]);
  });

  it('takes key-type (and keyType) and the new certificate profiles, and refuses an unknown key type', () => {
    expect(serve(['--listener', 'name=rsa,key-type=rsa-2048,certificate=incomplete-chain']).options.listeners).toEqual([
      { name: 'rsa', keyType: 'rsa-2048', certificate: 'incomplete-chain' },
    ]);
    expect(serve(['--listener', 'name=weak,keyType=rsa-1024,certificate=weak-signature']).options.listeners?.[0]).toMatchObject({ keyType: 'rsa-1024' });
    expect(problems(['--listener', 'name=lab,key-type=dsa'])).toEqual([
      { source: '--listener (lab)', message: expect.stringMatching(/^keyType: .*"ecdsa-p256"/) },
    ]);
  });

  it('keeps colons in cipher lists', () => {
    expect(serve(['--listener', 'name=old,max-version=TLSv1.2,ciphers=AES128-SHA:AES256-SHA']).options.listeners?.[0]?.ciphers).toBe('AES128-SHA:AES256-SHA');
  });

  it('reports malformed items, unknown and repeated keys, a bad port and a missing name', () => {
    expect(problems(['--listener', 'name=a,oops,colour=red,port=99999,name=b', '--listener', 'port=1', '--listener', ''])).toEqual([
      { source: '--listener #1 (a)', message: '"oops" is not key=value' },
      { source: '--listener #1 (a)', message: expect.stringMatching(/^unknown key "colour" \(known: name, port, tls/) },
      { source: '--listener #1 (a)', message: 'port: "99999" is not a port number (0-65535)' },
      { source: '--listener #1 (a)', message: 'key "name" is given twice' },
      { source: '--listener #2', message: 'name=<name> is required' },
      { source: '--listener #3', message: 'is empty; expected name=<name>,port=<port>,...' },
    ]);
  });

  it('reports what the listener schema refuses, naming the listener', () => {
    const found = problems(['--listener', 'name=lab,certificate=old', '--listener', 'name=imp,tls=implicit,starttls=require', '--listener', 'name=smtp']);
    expect(found).toEqual([
      { source: '--listener #1 (lab)', message: expect.stringMatching(/^certificate: .*"valid"/) },
      { source: '--listener #2 (imp)', message: 'starttls: an implicit TLS listener cannot use starttls "require"' },
      { source: '--listener #3 (smtp)', message: 'name: listener name "smtp" is already taken' },
    ]);
  });

  it('attributes listener problems to MAILWRIGHT_LISTENERS when they come from there', () => {
    expect(problems([], { MAILWRIGHT_LISTENERS: 'name=a,port=1025' })).toEqual([
      { source: 'MAILWRIGHT_LISTENERS (a)', message: 'port: port 1025 is also used by --smtp-port' },
    ]);
  });
});

describe('resolveCliConfig: problems', () => {
  it('lists every problem of one run at once: flags, env, values, files, and the engine’s own checks', () => {
    const found = problems(
      [
        '--smtp-port',
        'abc',
        '--smtps-port=70000',
        '--starttls',
        'maybe',
        '--tls-cert',
        '/certs/missing.pem',
        '--tls-key',
        '/certs/key.pem',
        '--bogus',
        'value',
        '--listner',
        'name=x',
        '--max-messages',
        '0',
        '--log-format',
        'xml',
        '--http-port',
        '1465',
        '--tls-min-version',
        'TLSv1.3',
        '--tls-max-version',
        'TLSv1.2',
        'stray',
      ],
      { MAILWRIGHT_AUTH: 'sometimes', MAILWRIGHT_LOG_LEVEL: 'loud' },
    );
    expect(found).toEqual([
      { source: '--bogus', message: 'unknown flag' },
      { source: '--listner', message: 'unknown flag (did you mean --listener?)' },
      { source: 'stray', message: 'unexpected argument' },
      { source: '--smtp-port', message: '"abc" is not a port number (0-65535)' },
      { source: '--smtps-port', message: '"70000" is not a port number (0-65535)' },
      { source: '--tls-cert', message: 'cannot read /certs/missing.pem: no such file' },
      { source: '--starttls', message: '"maybe" is not one of offer, require, off' },
      { source: 'MAILWRIGHT_AUTH', message: '"sometimes" is not one of off, optional, required' },
      { source: '--max-messages', message: '"0" is not a whole number above 0' },
      { source: 'MAILWRIGHT_LOG_LEVEL', message: '"loud" is not one of trace, debug, info, warn, error, silent' },
      { source: '--log-format', message: '"xml" is not one of pretty, json' },
      { source: '--tls-min-version', message: 'TLSv1.3 is above --tls-max-version TLSv1.2' },
    ]);
  });

  it('reads --max-age as a whole number with a unit, and refuses retention the memory storage does not have', () => {
    expect(serve(['--max-age', '90s']).options.maxAge).toBe(90_000);
    expect(serve(['--max-age', '2w']).options.maxAge).toBe(14 * 86_400_000);
    expect(problems(['--max-age', '7'])).toEqual([
      { source: '--max-age', message: '"7" is not a duration (a whole number with s, m, h, d or w: 90s, 12h, 7d)' },
    ]);
    expect(problems(['--storage', 'memory', '--max-age', '1d', '--max-bytes', '1GB'])).toEqual([
      { source: '--max-age', message: '--max-age needs storage "sqlite"; memory storage is bounded by --max-messages and --max-memory' },
      { source: '--max-bytes', message: '--max-bytes needs storage "sqlite"; memory storage is bounded by --max-messages and --max-memory' },
    ]);
  });

  it('does not report a refused value a second time through the engine’s cross-field checks', () => {
    // A refused --smtp-port must not fall back to 1025 and clash with --http-port 1025.
    expect(problems(['--smtp-port', 'x', '--http-port', '1025'])).toEqual([{ source: '--smtp-port', message: '"x" is not a port number (0-65535)' }]);
    expect(problems(['--tls-min-version', 'TLSv9', '--tls-max-version', 'TLSv1.1'])).toHaveLength(1);
    expect(problems(['--tls-cert', '/nope.pem', '--tls-key', '/certs/key.pem'])).toHaveLength(1);
  });

  it('maps the engine’s problems back to flags and env vars', () => {
    expect(problems(['--http-port', '2525'], { MAILWRIGHT_SMTP_PORT: '2525' })).toEqual([
      { source: '--http-port', message: 'port 2525 is also used by --smtp-port' },
    ]);
    expect(problems(['--api-token', 'short'])).toEqual([{ source: '--api-token', message: 'at least 8 characters' }]);
    expect(problems([], { MAILWRIGHT_API_TOKEN: 'short' })).toEqual([{ source: 'MAILWRIGHT_API_TOKEN', message: 'at least 8 characters' }]);
  });

  it('refuses values on switches, missing values and empty values', () => {
    expect(problems(['--help=yes', '--version=1'])).toEqual([
      { source: '--help', message: 'takes no value' },
      { source: '--version', message: 'takes no value' },
    ]);
    expect(problems(['--smtp-port'])).toEqual([{ source: '--smtp-port', message: expect.stringMatching(/^needs a value/) }]);
    expect(problems(['--smtp-port', '--http-port', '1'])).toEqual([{ source: '--smtp-port', message: expect.stringMatching(/^needs a value/) }]);
    expect(problems(['--host='])).toEqual([{ source: '--host', message: 'must not be empty' }]);
    expect(problems(['--smtp-port=-1'])).toEqual([{ source: '--smtp-port', message: '"-1" is not a port number (0-65535)' }]);
  });

  it('answers --help and --version even next to invalid flags', () => {
    expect(resolveCliConfig(['--bogus', '--help'], context())).toEqual({ ok: true, config: { command: 'help', topic: 'serve' } });
    expect(resolveCliConfig(['-h'], context())).toEqual({ ok: true, config: { command: 'help', topic: 'serve' } });
    expect(resolveCliConfig(['--version', '--smtp-port', 'x'], context())).toEqual({ ok: true, config: { command: 'version' } });
    expect(resolveCliConfig(['-v'], context())).toEqual({ ok: true, config: { command: 'version' } });
  });
});

describe('resolveCliConfig: healthcheck', () => {
  const healthcheck = (argv: string[], env: Record<string, string> = {}) => resolveCliConfig(['healthcheck', ...argv], context(env));

  it('probes 127.0.0.1:8025 by default, or MAILWRIGHT_HOST and MAILWRIGHT_HTTP_PORT', () => {
    expect(healthcheck([])).toEqual({ ok: true, config: { command: 'healthcheck', url: 'http://127.0.0.1:8025', timeoutMs: 3000 } });
    expect(healthcheck([], { MAILWRIGHT_HTTP_PORT: '9000', MAILWRIGHT_HOST: '0.0.0.0' })).toMatchObject({ config: { url: 'http://127.0.0.1:9000' } });
    expect(healthcheck([], { MAILWRIGHT_HOST: '::' })).toMatchObject({ config: { url: 'http://[::1]:8025' } });
    expect(healthcheck([], { MAILWRIGHT_HOST: '10.0.0.5' })).toMatchObject({ config: { url: 'http://10.0.0.5:8025' } });
  });

  it('takes --url (or MAILWRIGHT_HEALTHCHECK_URL) and --timeout', () => {
    expect(healthcheck(['--url', 'http://mail:8025/', '--timeout=500'], { MAILWRIGHT_HTTP_PORT: '9000' })).toEqual({
      ok: true,
      config: { command: 'healthcheck', url: 'http://mail:8025', timeoutMs: 500 },
    });
    expect(healthcheck([], { MAILWRIGHT_HEALTHCHECK_URL: 'https://mail.test' })).toMatchObject({ config: { url: 'https://mail.test' } });
  });

  it('lists every problem', () => {
    expect(healthcheck(['--url', 'ftp://x', '--timeout', 'soon', '--smtp-port', '1'])).toEqual({
      ok: false,
      topic: 'healthcheck',
      problems: [
        { source: '--smtp-port', message: 'unknown flag' },
        { source: '--url', message: '"ftp://x" is not an http:// or https:// URL' },
        { source: '--timeout', message: '"soon" is not a whole number above 0' },
      ],
    });
    expect(healthcheck([], { MAILWRIGHT_HTTP_PORT: '0' })).toMatchObject({
      ok: false,
      problems: [{ source: 'MAILWRIGHT_HTTP_PORT', message: expect.stringContaining('pass --url') }],
    });
  });

  it('has its own --help', () => {
    expect(healthcheck(['--help'])).toEqual({ ok: true, config: { command: 'help', topic: 'healthcheck' } });
  });
});
