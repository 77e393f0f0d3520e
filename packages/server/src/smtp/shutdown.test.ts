import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createMailwright } from '../mailwright.js';

/** A line-reading raw SMTP client. */
function rawClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return {
    closed,
    write: (text: string) => socket.write(text),
    async reply(code: string): Promise<string> {
      for (;;) {
        const line = buffer.split('\r\n').find((candidate) => candidate.startsWith(`${code} `));
        if (line) {
          buffer = buffer.slice(buffer.indexOf(line) + line.length + 2);
          return line;
        }
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

describe('shutdown', () => {
  it('tells idle sessions 421 and closes them, while a transaction in flight may finish', async () => {
    const server = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0 });
    const idle = rawClient(server.smtp.port);
    const busy = rawClient(server.smtp.port);
    await Promise.all([idle.reply('220'), busy.reply('220')]);
    idle.write('EHLO idle.test\r\n');
    busy.write('EHLO busy.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n');
    await Promise.all([idle.reply('250'), busy.reply('354')]);
    busy.write('Subject: in flight\r\n\r\nfirst half\r\n');

    const closing = server.close();
    expect(await idle.reply('421')).toMatch(/shutting down/);
    await idle.closed;

    busy.write('second half\r\n.\r\n');
    expect(await busy.reply('250')).toMatch(/queued as/);
    await closing;
    await busy.closed;
    expect((await server.store.listMessages({ limit: 10 })).messages.map((message) => message.subject)).toEqual(['in flight']);
  });
});
