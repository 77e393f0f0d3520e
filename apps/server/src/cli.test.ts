import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BannerRecord } from './banner.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WAIT_MS = 20_000;
const SHUTDOWN_BOUND_MS = 5_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned `mailwright` process whose output can be awaited line by line. */
class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  exit: Exit | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(command: string, args: readonly string[], env: Record<string, string>) {
    // Only the variables given here: the developer's own MAILWRIGHT_* must not leak in.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MAILWRIGHT_')));
    this.child = spawn(command, args, { cwd: REPO_ROOT, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      });
    });
  }

  private notify(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** Resolves with the first stdout line that matches; rejects if the process exits first. */
  waitForLine(match: (line: string) => boolean, timeoutMs = WAIT_MS): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const line = this.stdout.split('\n').find(match);
        if (line !== undefined) done(() => resolve(line));
        else if (this.exit) done(() => reject(new Error(`exited (${JSON.stringify(this.exit)}) before the line appeared\n${this.output()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no matching line within ${timeoutMs} ms\n${this.output()}`))), timeoutMs);
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The exit, or a rejection when it takes longer than `timeoutMs`. */
  async exitWithin(timeoutMs: number): Promise<Exit & { elapsedMs: number }> {
    const start = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms\n${this.output()}`)), timeoutMs);
    });
    try {
      const exit = await Promise.race([this.exited, timeout]);
      return { ...exit, elapsedMs: performance.now() - start };
    } finally {
      clearTimeout(timer);
    }
  }

  output(): string {
    return `--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }
}

const processes: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

function runCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const cli = new CliProcess(process.execPath, [CLI, ...args], env);
  processes.push(cli);
  return cli;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailwright-cli-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts the CLI on free ports (json logs) and resolves with the ready record. */
async function startServer(extra: readonly string[] = [], env: Record<string, string> = {}): Promise<{ cli: CliProcess; ready: BannerRecord }> {
  const cli = runCli(['--smtp-port', '0', '--smtps-port', '0', '--http-port', '0', '--data-dir', await tempDir(), '--log-format', 'json', ...extra], env);
  const line = await cli.waitForLine((text) => text.includes('"msg":"mailwright ready"'));
  return { cli, ready: JSON.parse(line) as BannerRecord };
}

/** A local TCP server; `port` is where nothing listens once `close` resolved. */
async function listenOnFreePort(server: net.Server = net.createServer()): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanups.push(close);
  return { port, close };
}

function portOf(ready: BannerRecord, name: string): number {
  const listener = ready.listeners.find((entry) => entry.name === name);
  if (!listener) throw new Error(`no listener ${name} in ${JSON.stringify(ready.listeners)}`);
  return listener.port;
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -b)`);
});

afterEach(async () => {
  for (const cli of processes.splice(0)) {
    if (cli.exit === null) {
      cli.child.kill('SIGKILL');
      await cli.exited;
    }
  }
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('mailwright (process)', () => {
  it('captures a message sent over STARTTLS, serves it over REST, and exits 0 on SIGTERM', async () => {
    const password = 'pa55-never-printed';
    const { cli, ready } = await startServer(['--auth-user', `tester:${password}`], { MAILWRIGHT_MAX_RECIPIENTS: '5' });
    expect(ready.caUrl).toBe(`${ready.url}/api/v1/tls/ca.pem`);
    expect(ready.auth).toEqual({ mode: 'optional', users: 1 });
    const info = (await (await fetch(`${ready.url}/api/v1/info`)).json()) as { limits: { maxRecipients: number } };
    expect(info.limits.maxRecipients).toBe(5);

    const ca = await (await fetch(ready.caUrl)).text();
    expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: portOf(ready, 'smtp'),
      secure: false,
      requireTLS: true,
      tls: { ca, servername: 'localhost' },
      auth: { user: 'tester', pass: password },
    });
    await transport.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Reset your password', text: 'Hello' });
    transport.close();

    const list = (await (await fetch(`${ready.url}/api/v1/messages?subject=reset`)).json()) as {
      messages: { subject: string; tls: { mode: string; protocol: string }; auth: { username: string } }[];
    };
    expect(list.messages).toHaveLength(1);
    expect(list.messages[0]).toMatchObject({ subject: 'Reset your password', tls: { mode: 'starttls', protocol: 'TLSv1.3' }, auth: { username: 'tester' } });

    cli.child.kill('SIGTERM');
    const exit = await cli.exitWithin(SHUTDOWN_BOUND_MS);
    expect(exit.code).toBe(0);
    expect(cli.stdout).toContain('"msg":"SIGTERM received: shutting down"');
    expect(cli.stdout).toContain('"msg":"mailwright stopped"');
    expect(cli.stdout + cli.stderr).not.toContain(password);
  });

  it('prints a banner with every listener in the pretty format, and exits 0 on SIGINT', async () => {
    const dataDir = await tempDir();
    const cli = runCli([
      '--smtp-port=0',
      '--smtps-port=0',
      '--http-port=0',
      '--data-dir',
      dataDir,
      '--log-format',
      'pretty',
      '--listener',
      'name=lab,certificate=expired,tls=implicit,min-version=TLSv1.3',
      '--auth-user',
      'ada:secret-in-banner?',
    ]);
    await cli.waitForLine((line) => line.includes('Press Ctrl+C to stop.'));
    const row = (name: string) => new RegExp(`^\\s+${name}\\s+127\\.0\\.0\\.1:(\\d+)\\s+(.*)$`, 'm').exec(cli.stdout);
    const url = /REST API\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/.exec(cli.stdout)?.[1];
    expect(url).toBeDefined();
    const info = (await (await fetch(`${url}/api/v1/info`)).json()) as { listeners: { name: string; port: number }[] };
    for (const listener of info.listeners) expect(Number(row(listener.name)?.[1])).toBe(listener.port);
    expect(row('smtp')?.[2]).toMatch(/^starttls\s+offer\s+TLSv1\.2-TLSv1\.3\s+valid\s+optional$/);
    expect(row('smtps')?.[2]).toMatch(/^implicit\s+-\s+TLSv1\.2-TLSv1\.3\s+valid\s+optional$/);
    expect(row('lab')?.[2]).toMatch(/^implicit\s+-\s+TLSv1\.3\s+expired\s+optional$/);
    expect(cli.stdout).toContain(`${url}/api/v1/tls/ca.pem`);
    expect(cli.stdout).toContain(dataDir);
    expect(cli.stdout).not.toContain('secret-in-banner');

    cli.child.kill('SIGINT');
    expect((await cli.exitWithin(SHUTDOWN_BOUND_MS)).code).toBe(0);
  });

  it('forces the exit on a second signal while the shutdown is still draining', async () => {
    const { cli, ready } = await startServer();
    // A mail transaction in flight keeps the graceful close waiting for its drain timeout.
    const socket = net.connect(portOf(ready, 'smtp'), '127.0.0.1');
    cleanups.push(async () => void socket.destroy());
    socket.on('error', () => undefined);
    let received = '';
    const replied = (code: string): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (received.split('\r\n').some((line) => line.startsWith(`${code} `))) {
            socket.off('data', onData);
            resolve();
          }
        };
        const onData = (chunk: Buffer): void => {
          received += chunk.toString();
          check();
        };
        socket.on('data', onData);
        check();
      });
    await replied('220');
    socket.write('EHLO client.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n');
    await replied('354');

    cli.child.kill('SIGTERM');
    await cli.waitForLine((line) => line.includes('SIGTERM received: shutting down'));
    cli.child.kill('SIGTERM');
    const exit = await cli.exitWithin(SHUTDOWN_BOUND_MS);
    expect(exit.code).toBe(1);
    expect(cli.stdout).toContain('received again: exiting without waiting');
    expect(cli.stdout).not.toContain('"msg":"mailwright stopped"');
  });

  it('exits 2 and lists every problem of an invalid configuration, without a stack trace', async () => {
    const cli = runCli(
      ['--smtp-port', 'abc', '--starttls', 'maybe', '--tls-cert', '/nonexistent/cert.pem', '--bogus', '--listener', 'name=lab,certificate=old'],
      {
        MAILWRIGHT_AUTH: 'sometimes',
      },
    );
    const exit = await cli.exitWithin(WAIT_MS);
    expect(exit.code).toBe(2);
    expect(cli.stdout).toBe('');
    const lines = cli.stderr.trim().split('\n');
    expect(lines[0]).toBe('mailwright: invalid configuration (7 problems):');
    expect(lines.slice(1, -1)).toEqual([
      '  - --bogus: unknown flag',
      '  - --smtp-port: "abc" is not a port number (0-65535)',
      '  - --tls-cert: cannot read /nonexistent/cert.pem: no such file',
      '  - --starttls: "maybe" is not one of offer, require, off',
      '  - MAILWRIGHT_AUTH: "sometimes" is not one of off, optional, required',
      expect.stringMatching(/^ {2}- --listener \(lab\): certificate: /),
      '  - --tls-key: --tls-cert and --tls-key must be given together',
    ]);
    expect(lines.at(-1)).toBe('Run `mailwright --help` to see every flag.');
    expect(cli.stderr).not.toMatch(/^\s+at /m);
  });

  it('exits 2 listing every mistake of a --dns-zone file with its line', async () => {
    const zone = join(await tempDir(), 'bad.zone');
    await writeFile(zone, '# mistakes\nmx.example.com A 999.1.1.1\nexample.com TXT v=spf1 -all\nexample.com MX ten mx.example.com\n');
    const cli = runCli(['--dns-zone', zone, '--smtp-port', '0', '--smtps-port', '0', '--http-port', '0', '--data-dir', await tempDir()]);
    expect((await cli.exitWithin(WAIT_MS)).code).toBe(2);
    const lines = cli.stderr.trim().split('\n');
    expect(lines[0]).toBe('mailwright: invalid configuration (2 problems):');
    expect(lines[1]).toBe(`  - --dns-zone: ${zone}:2: value: "999.1.1.1" is not an IPv4 address`);
    expect(lines[2]).toMatch(new RegExp(`^ {2}- --dns-zone: ${zone.replace(/[.]/g, '\\.')}:4: value: `));
  });

  it('refuses to listen beyond loopback without a token (exit 2), and warns when told to anyway', async () => {
    const refused = runCli(['--host', '0.0.0.0', '--smtp-port', '0', '--smtps-port', '0', '--http-port', '0', '--data-dir', await tempDir()]);
    expect((await refused.exitWithin(WAIT_MS)).code).toBe(2);
    expect(refused.stderr).toMatch(/^ {2}- --host: binding to 0\.0\.0\.0 .* set --api-token, or --insecure-no-token on a private network$/m);

    const { cli, ready } = await startServer(['--host', '0.0.0.0'], { MAILWRIGHT_INSECURE_NO_TOKEN: 'true' });
    expect(cli.stdout).toContain('without an API token (--insecure-no-token)');
    const local = ready.url.replace('0.0.0.0', '127.0.0.1');
    expect((await fetch(`${local}/api/v1/messages`)).status).toBe(200);
  });

  it('exits 1 with a one-line error when a port is already in use', async () => {
    const taken = await listenOnFreePort();
    const cli = runCli(['--smtp-port', String(taken.port), '--smtps-port', '0', '--http-port', '0', '--data-dir', await tempDir(), '--log-format', 'json']);
    const exit = await cli.exitWithin(WAIT_MS);
    expect(exit.code).toBe(1);
    expect(cli.stderr).toBe(`mailwright: cannot start: Listener "smtp": port ${taken.port} on 127.0.0.1 is already in use\n`);
  });

  it('exits 2 with the reason when a listener cannot do what it is configured to do', async () => {
    const cli = runCli([
      '--smtp-port',
      '0',
      '--smtps-port',
      '0',
      '--http-port',
      '0',
      '--data-dir',
      await tempDir(),
      '--log-format',
      'json',
      '--listener',
      'name=lab,key-type=rsa-2048,ciphers=ECDHE-ECDSA-AES128-GCM-SHA256',
    ]);
    const exit = await cli.exitWithin(WAIT_MS);
    expect(exit.code).toBe(2);
    expect(cli.stderr).toMatch(/^ {2}- --listener: Listener "lab" cannot work as configured: TLSv1\.2: no cipher suite .* rsa-2048 key/m);
  });

  it('exits 1 with the reason when the CA key in the data directory does not match its certificate', async () => {
    const dataDir = await tempDir();
    // A CA certificate and a key of another pair, made by openssl.
    const openssl = (args: string[]) => spawnSync('openssl', args, { stdio: 'ignore' }).status;
    expect(
      openssl([
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        '/CN=CA',
        '-days',
        '30',
        '-keyout',
        join(dataDir, 'unused-key.pem'),
        '-out',
        join(dataDir, 'ca.pem'),
      ]),
    ).toBe(0);
    expect(openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dataDir, 'ca-key.pem')])).toBe(0);
    const cli = runCli(['--smtp-port', '0', '--smtps-port', '0', '--http-port', '0', '--data-dir', dataDir, '--log-format', 'json']);
    const exit = await cli.exitWithin(WAIT_MS);
    expect(exit.code).toBe(1);
    expect(cli.stderr).toBe(
      `mailwright: cannot start: The test CA key ${join(dataDir, 'ca-key.pem')} does not belong to the certificate ${join(dataDir, 'ca.pem')} (was one of them replaced?). ` +
        'Restore the matching pair, or remove both files to create a new CA (clients must then trust the new ca.pem).\n',
    );
  });

  it('answers --help and --version', async () => {
    const help = runCli(['--help']);
    expect((await help.exitWithin(WAIT_MS)).code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mailwright \[flags\]/);
    expect(help.stdout).toContain('--smtp-port <port>');
    expect(help.stdout).toContain('MAILWRIGHT_SMTP_PORT');

    const version = runCli(['--version']);
    expect((await version.exitWithin(WAIT_MS)).code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('runs as `npx mailwright`', async () => {
    const cli = new CliProcess('npx', ['--no-install', 'mailwright', '--version'], {});
    processes.push(cli);
    expect((await cli.exitWithin(WAIT_MS)).code).toBe(0);
    expect(cli.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('mailwright healthcheck (process)', () => {
  it('exits 0 against a running server, by --url or by MAILWRIGHT_HTTP_PORT', async () => {
    const { ready } = await startServer();
    const byUrl = runCli(['healthcheck', '--url', ready.url]);
    expect((await byUrl.exitWithin(WAIT_MS)).code).toBe(0);
    expect(byUrl.stdout).toBe(`healthy: HTTP 200 from ${ready.url}/api/v1/health\n`);

    const byEnv = runCli(['healthcheck'], { MAILWRIGHT_HTTP_PORT: String(new URL(ready.url).port) });
    expect((await byEnv.exitWithin(WAIT_MS)).code).toBe(0);
  });

  it('exits 1 against a closed port', async () => {
    const freed = await listenOnFreePort();
    await freed.close();
    const cli = runCli(['healthcheck', '--url', `http://127.0.0.1:${freed.port}`]);
    expect((await cli.exitWithin(WAIT_MS)).code).toBe(1);
    expect(cli.stderr).toMatch(/^unhealthy: .*ECONNREFUSED/);
  });

  it('exits 1 when the answer is not 200, or does not come in time', async () => {
    const unavailable = await listenOnFreePort(http.createServer((_request, response) => response.writeHead(503).end()));
    const failing = runCli(['healthcheck', '--url', `http://127.0.0.1:${unavailable.port}`]);
    expect((await failing.exitWithin(WAIT_MS)).code).toBe(1);
    expect(failing.stderr).toContain('HTTP 503');

    const silent = await listenOnFreePort(http.createServer(() => undefined));
    const slow = runCli(['healthcheck', '--url', `http://127.0.0.1:${silent.port}`, '--timeout', '200']);
    expect((await slow.exitWithin(WAIT_MS)).code).toBe(1);
    expect(slow.stderr).toContain('within 200 ms');
  });
});

describe('the health check', () => {
  it('loads neither the options schema nor the server: its static imports stay clear of them', () => {
    // cli.js imports the health check statically and everything else on demand; walk its
    // static imports (in the built output, as the CLI runs) and look for the heavy ones.
    const seen = new Set<string>();
    const external = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/^import\s+(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
        const specifier = match[1] as string;
        if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
        else external.add(specifier);
      }
    };
    visit(CLI);
    expect(seen.size).toBeGreaterThan(3);
    // Core's connect-host entry is a leaf with no imports of its own.
    expect([...external].filter((name) => !name.startsWith('node:'))).toEqual(['@mailwright/core/connect-host']);
    expect(readFileSync(createRequire(import.meta.url).resolve('@mailwright/core/connect-host'), 'utf8')).not.toMatch(/^import\s/m);
  });
});
