// A bare smtp-server that accepts every message and discards it: the baseline of what
// any server built on smtp-server can do. No parsing, no storage, no logging.
// With --no-greeting-delay it greets at once instead of after smtp-server's 100 ms
// early-talker wait (as Mailwright does): the floor for a server built on smtp-server.
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { failStart, serveRequests } from './ipc-peer.mjs';

if (process.argv.includes('--no-greeting-delay')) {
  // init() is what waits 100 ms before connectionReady(); the rest of the set-up is the same.
  SMTPConnection.prototype.init = function init() {
    this._setListeners(() => this.connectionReady());
  };
}

let messages = 0;
let bytes = 0;

try {
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, session, callback) {
      let size = 0;
      stream.on('data', (chunk) => {
        size += chunk.length;
      });
      stream.once('end', () => {
        messages += 1;
        bytes += size;
        callback(null, 'Ok: discarded');
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  serveRequests(
    {
      stats: () => ({ total: messages, bytes }),
      clear() {
        messages = 0;
        bytes = 0;
        return {};
      },
    },
    () => new Promise((resolve) => server.close(resolve)),
  );

  process.send({ type: 'ready', smtp: { host: '127.0.0.1', port: server.server.address().port } });
} catch (error) {
  failStart(error);
}
