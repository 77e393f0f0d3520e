// A private Postfix instance as the app's mail relay: its own configuration and queue in a
// temporary directory, no SMTP server of its own (mail goes in through `sendmail`), and a
// transport table that sends each recipient to the Mailwright listener a test chose, with the
// TLS policy the test chose for that listener.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';

const POSTFIX = '/usr/sbin/postfix';
const SENDMAIL = '/usr/sbin/sendmail';
const COMMAND_TIMEOUT_MS = 30_000;
const STATUS = /status=(sent|deferred|bounced)/;

/** Why Postfix cannot run here, or null when it can. */
export function postfixUnavailable(): string | null {
  if (!existsSync(POSTFIX) || !existsSync(SENDMAIL)) return 'Postfix is not installed (apt-get install postfix)';
  if (process.getuid?.() !== 0) return 'starting a Postfix instance needs root';
  return null;
}

/** Where one recipient goes, and how Postfix must treat TLS on the way. */
export interface Route {
  recipient: string;
  port: number;
  /** An `smtp_tls_policy_maps` entry: `may`, `encrypt`, `secure match=localhost`, … */
  tlsPolicy: string;
}

/** What Postfix's log says about one queued message. */
export interface DeliveryOutcome {
  status: 'sent' | 'deferred' | 'bounced';
  /** The log line with the status. */
  line: string;
  /** Every log line of the smtp process that made the attempt (TLS lines included). */
  log: string;
}

export interface PostfixRelay {
  /** Queues a message through `sendmail`, as an app on the host would. */
  send(message: { from: string; to: string; subject: string; text: string }): Promise<void>;
  /**
   * Waits until Postfix logs its first delivery attempt to a recipient (each route has its own),
   * or, with `status`, its first attempt that ended so.
   */
  outcome(recipient: string, timeoutMs?: number, status?: DeliveryOutcome['status']): Promise<DeliveryOutcome>;
  /** Every attempt Postfix logged for a recipient so far, oldest first. */
  attempts(recipient: string): Promise<DeliveryOutcome['status'][]>;
  stop(): Promise<void>;
}

function run(command: string, args: readonly string[], stdin = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}:\n${output}`));
    });
    child.stdin.end(stdin);
  });
}

// The daemons a relay needs, none chrooted; no smtpd: nothing listens on a port. Each smtp
// process makes one delivery attempt, so that its log lines are that attempt's.
const MASTER_CF = `
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp -o max_use=1
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

/** Starts a Postfix instance that relays each route's recipient to its port, trusting `caPem`. */
export async function startPostfixRelay(routes: readonly Route[], caPem: string, settings: readonly string[] = []): Promise<PostfixRelay> {
  const dir = await mkdtemp(join(tmpdir(), 'mailwright-postfix-'));
  // The daemons run as the postfix user and must reach the queue through this directory.
  await chmod(dir, 0o755);
  const log = join(dir, 'maillog');
  await mkdir(join(dir, 'spool'));
  await mkdir(join(dir, 'data'));
  await chown(join(dir, 'data'), ...(await postfixIds()));
  await writeFile(join(dir, 'ca.pem'), caPem);
  await writeFile(join(dir, 'transport'), routes.map((route) => `${route.recipient} smtp:[127.0.0.1]:${route.port}\n`).join(''));
  // One policy per port (routes may share a listener; the first route's policy applies).
  const policies = new Map(routes.toReversed().map((route) => [route.port, route.tlsPolicy]));
  await writeFile(join(dir, 'tls_policy'), [...policies].map(([port, policy]) => `[127.0.0.1]:${port} ${policy}\n`).join(''));
  await writeFile(join(dir, 'master.cf'), MASTER_CF.trimStart());
  await writeFile(
    join(dir, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${dir}/spool`,
      `data_directory = ${dir}/data`,
      'mail_owner = postfix',
      'setgid_group = postdrop',
      'inet_interfaces = loopback-only',
      'inet_protocols = ipv4',
      'myhostname = app.example.test',
      'mydestination =',
      `transport_maps = texthash:${dir}/transport`,
      `smtp_tls_policy_maps = texthash:${dir}/tls_policy`,
      'smtp_tls_security_level = none',
      `smtp_tls_CAfile = ${dir}/ca.pem`,
      'smtp_tls_loglevel = 1',
      // One attempt per message while the test runs; no connection reuse between them.
      'smtp_connection_cache_on_demand = no',
      `maillog_file = ${log}`,
      `maillog_file_prefixes = ${dir}`,
      ...settings,
      '',
    ].join('\n'),
  );
  const postfix = (...args: string[]): Promise<string> => run(POSTFIX, ['-c', dir, ...args]);
  try {
    await postfix('post-install', 'create-missing');
    await postfix('start');
  } catch (error) {
    // Postfix writes why it did not start to its log, not to the terminal.
    const why = await readFile(log, 'utf8').catch(() => '');
    await rm(dir, { recursive: true, force: true });
    if (why) (error as Error).message += `\n${log}:\n${why.trim().split('\n').slice(-20).join('\n')}`;
    throw error;
  }

  return {
    async send({ from, to, subject, text }) {
      await run(SENDMAIL, ['-C', dir, '-f', from, to], `From: ${from}\nTo: ${to}\nSubject: ${subject}\n\n${text}\n`);
    },
    async attempts(recipient) {
      return (await readIfPresent(log))
        .split('\n')
        .filter((entry) => entry.includes(`: to=<${recipient}>`) && STATUS.test(entry))
        .map((entry) => STATUS.exec(entry)?.[1] as DeliveryOutcome['status']);
    },
    async outcome(recipient, timeoutMs = COMMAND_TIMEOUT_MS, wanted) {
      return vi.waitFor(
        async () => {
          const lines = (await readIfPresent(log)).split('\n');
          const line = lines.find(
            (entry) => entry.includes(`: to=<${recipient}>`) && STATUS.test(entry) && (wanted === undefined || entry.includes(`status=${wanted}`)),
          );
          if (!line) throw new Error(`Postfix logged no delivery attempt to ${recipient}:\n${lines.join('\n')}`);
          const status = STATUS.exec(line)?.[1] as DeliveryOutcome['status'];
          // The lines of the smtp process that made the attempt: its TLS lines carry no queue id.
          const pid = /postfix\/smtp\[(\d+)\]/.exec(line)?.[1];
          return { status, line, log: lines.filter((entry) => pid !== undefined && entry.includes(`postfix/smtp[${pid}]`)).join('\n') };
        },
        { timeout: timeoutMs, interval: 50 },
      );
    },
    async stop() {
      await postfix('abort').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function postfixIds(): Promise<[number, number]> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const entry = passwd.split('\n').find((line) => line.startsWith('postfix:'));
  const [, , uid, gid] = entry?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('there is no postfix user (apt-get install postfix creates it)');
  return [Number(uid), Number(gid)];
}

async function readIfPresent(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}
