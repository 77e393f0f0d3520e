// The least a Node.js SMTP server can do per connection: greet, answer every command line with
// a fixed reply, count messages, and parse nothing else (no SMTP library, no session state). It is
// no usable server: it is the floor of any server written for Node.js, measured in the same run
// as the others, so that the latency of a Node.js server can be judged against what Node.js
// itself costs per connection and round trip on this machine.
import net from 'node:net';
import { failStart, serveRequests } from './ipc-peer.mjs';

const EHLO_REPLY = '250-localhost\r\n250-PIPELINING\r\n250 8BITMIME\r\n';
let messages = 0;

try {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.write('220 localhost ESMTP\r\n');
    let data = false;
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n'); end >= 0; end = pending.indexOf('\r\n')) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 2);
        if (data) {
          if (line === '.') {
            data = false;
            messages += 1;
            socket.write('250 Ok\r\n');
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write(EHLO_REPLY);
        else if (verb === 'DATA') {
          data = true;
          socket.write('354 Go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 Bye\r\n');
        else socket.write('250 Ok\r\n');
      }
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  serveRequests(
    {
      stats: () => ({ total: messages }),
      clear() {
        messages = 0;
        return {};
      },
    },
    () => new Promise((resolve) => server.close(resolve)),
  );
  process.send({ type: 'ready', smtp: { host: '127.0.0.1', port: server.address().port } });
} catch (error) {
  failStart(error);
}
