import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../apps/server/dist/cli.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READY_TIMEOUT_MS = 20_000;

/** A `mailwright` process started on a data directory, with the ports it chose. */
export interface StartedCli {
  child: ChildProcess;
  smtpPort: number;
  apiUrl: string;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the CLI on free ports and resolves once it logged that it is ready. */
export function startCli(dataDir: string, extra: string[] = []): Promise<StartedCli> {
  // Only the variables given here: the developer's own MAILWRIGHT_* must not leak in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MAILWRIGHT_')));
  const child = spawn(
    process.execPath,
    [CLI, '--smtp-port', '0', '--smtps-port', '0', '--http-port', '0', '--data-dir', dataDir, '--log-format', 'json', '--authentication', 'off', ...extra],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mailwright did not get ready within ${READY_TIMEOUT_MS} ms:\n${stderr}`));
    }, READY_TIMEOUT_MS);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`mailwright exited (${JSON.stringify(exit)}) before it was ready:\n${stderr}\n${stdout}`));
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      for (const line of stdout.split('\n')) {
        if (!line.includes('"mailwright ready"')) continue;
        const record = JSON.parse(line) as { apiUrl: string; listeners: { name: string; port: number }[] };
        clearTimeout(timer);
        resolve({
          child,
          smtpPort: record.listeners.find((listener) => listener.name === 'smtp')?.port ?? 0,
          apiUrl: record.apiUrl,
          stderr: () => stderr,
          exited,
        });
        return;
      }
    });
  });
}

/**
 * One SMTP connection sending messages one after the other, each with a unique subject,
 * reporting every subject the server acknowledged with `250` after its data. Ends (without
 * throwing) when the connection does.
 */
export function sendUntilClosed(port: number, name: string, onAcknowledged: (subject: string) => void): Promise<{ sent: number; refusals: string[] }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffer = '';
    let step = 'greeting';
    let sent = 0;
    let subject = '';
    const refusals: string[] = [];
    const next = (): void => {
      sent += 1;
      subject = `${name}-${sent}`;
      step = 'mail';
      socket.write('MAIL FROM:<crash@example.test>\r\n');
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        // Continuation lines of a multi-line reply.
        if (line[3] === '-') continue;
        const code = Number(line.slice(0, 3));
        if (step === 'greeting') {
          step = 'ehlo';
          socket.write('EHLO crash.example.test\r\n');
        } else if (step === 'ehlo') next();
        else if (step === 'mail') {
          step = 'rcpt';
          socket.write('RCPT TO:<inbox@example.test>\r\n');
        } else if (step === 'rcpt') {
          step = 'data';
          socket.write('DATA\r\n');
        } else if (step === 'data') {
          step = 'end';
          socket.write(`Subject: ${subject}\r\nFrom: crash@example.test\r\nTo: inbox@example.test\r\n\r\n${'Durability is the promise.\r\n'.repeat(40)}.\r\n`);
        } else if (step === 'end') {
          if (code === 250) onAcknowledged(subject);
          else refusals.push(line);
          next();
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ sent, refusals }));
  });
}
