// Plays fuzzer plans and generated messages against a real SMTP server over real sockets,
// and counts what happened: lines written, replies by class, sessions the server closed,
// sessions that did not end after QUIT.
import net from 'node:net';
import tls from 'node:tls';

const GREETING_TIMEOUT_MS = 10_000;
const REPLY_TIMEOUT_MS = 10_000;
// A server closes at once after QUIT; one that has not within this is counted, not waited for.
const CLOSE_TIMEOUT_MS = 2_000;
// After the plan: end a line left open, end a DATA phase left open, then QUIT.
const EPILOGUE = Buffer.from('\r\n.\r\nQUIT\r\n');

/** Reads SMTP replies from a socket; `next()` resolves with the next complete reply. */
class ReplyReader {
  constructor() {
    this.buffer = '';
    this.replies = [];
    this.waiters = [];
    this.lines = [];
  }

  attach(socket) {
    socket.on('data', (chunk) => this.push(chunk));
  }

  push(chunk) {
    this.buffer += chunk.toString('latin1');
    let at;
    while ((at = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, at).replace(/\r$/, '');
      this.buffer = this.buffer.slice(at + 1);
      this.lines.push(line);
      // The last line of a reply has a space (or nothing) after its code.
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), text: this.lines.join('\n') };
        this.lines = [];
        const waiter = this.waiters.shift();
        if (waiter) waiter(reply);
        else this.replies.push(reply);
      }
    }
  }

  next(timeoutMs = REPLY_TIMEOUT_MS) {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(done), 1);
        resolve(null);
      }, timeoutMs);
      const done = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      this.waiters.push(done);
    });
  }
}

function connect({ host, port, implicitTls, servername }) {
  return new Promise((resolve, reject) => {
    const socket = implicitTls ? tls.connect({ host, port, rejectUnauthorized: false, ...(servername ? { servername } : {}) }) : net.connect({ host, port });
    socket.once(implicitTls ? 'secureConnect' : 'connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function upgrade(socket, servername) {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket, rejectUnauthorized: false, ...(servername ? { servername } : {}) });
    secure.once('secureConnect', () => {
      secure.off('error', reject);
      resolve(secure);
    });
    secure.once('error', reject);
  });
}

/** Writes and waits for the write to be flushed (backpressure); false when the socket is gone. */
function write(socket, bytes) {
  if (socket.destroyed || !socket.writable) return Promise.resolve(false);
  return new Promise((resolve) => {
    socket.write(bytes, (error) => resolve(!error));
  });
}

function closed(socket, timeoutMs) {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Statistics shared by every session of a run. */
export function createSmtpStats() {
  return {
    sessions: 0,
    linesWritten: 0,
    bytesWritten: 0,
    replies: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
    closedEarly: 0,
    notClosedAfterQuit: 0,
    notClosedSessions: [],
    connectErrors: 0,
    tlsUpgrades: 0,
    tlsFailures: 0,
  };
}

function countReply(stats, code) {
  const key = `${Math.floor(code / 100)}xx`;
  if (key in stats.replies) stats.replies[key]++;
}

/**
 * Plays one session plan (smtp-fuzzer.mjs) against `target` ({ host, port, smtpsPort }).
 * Never throws for what the server does: every outcome is counted in `stats`.
 */
export async function playSession(target, plan, stats) {
  stats.sessions++;
  let socket;
  try {
    socket = await connect({
      host: target.host,
      port: plan.transport === 'implicit' ? target.smtpsPort : target.port,
      implicitTls: plan.transport === 'implicit',
      servername: plan.servername,
    });
  } catch {
    stats.connectErrors++;
    return;
  }
  socket.on('error', () => undefined);
  let reader = new ReplyReader();
  reader.attach(socket);
  let serverClosed = false;
  try {
    const greeting = await reader.next(GREETING_TIMEOUT_MS);
    if (greeting) countReply(stats, greeting.code);
    if (plan.transport === 'starttls') {
      await write(socket, `EHLO fuzz-${plan.index}.example\r\n`);
      const ehlo = await reader.next();
      if (ehlo) countReply(stats, ehlo.code);
      await write(socket, 'STARTTLS\r\n');
      const ready = await reader.next();
      if (ready) countReply(stats, ready.code);
      if (ready?.code === 220) {
        try {
          socket.removeAllListeners('data');
          socket = await upgrade(socket, plan.servername);
          socket.on('error', () => undefined);
          reader = new ReplyReader();
          reader.attach(socket);
          stats.tlsUpgrades++;
        } catch {
          stats.tlsFailures++;
          socket.destroy();
          return;
        }
      }
    }
    socket.once('close', () => (serverClosed = true));
    for (const chunk of plan.chunks) {
      if (serverClosed) break;
      if (!(await write(socket, chunk.bytes))) break;
      stats.linesWritten += chunk.lines;
      stats.bytesWritten += chunk.bytes.length;
    }
    if (serverClosed || socket.destroyed) {
      stats.closedEarly++;
      return;
    }
    await write(socket, EPILOGUE);
    if (!(await closed(socket, CLOSE_TIMEOUT_MS))) {
      stats.notClosedAfterQuit++;
      if (stats.notClosedSessions.length < 20)
        stats.notClosedSessions.push({ index: plan.index, transport: plan.transport, lastReply: reader.lines.at(-1) ?? null });
    }
  } finally {
    for (const reply of reader.replies) countReply(stats, reply.code);
    socket.destroy();
  }
}

/** Dot-stuffs a message for DATA and ends it with CRLF "." CRLF. */
export function dotStuff(raw) {
  const text = raw.toString('latin1');
  const stuffed = (text.startsWith('.') ? '.' : '') + text.replace(/\r\n\./g, '\r\n..');
  return Buffer.concat([Buffer.from(stuffed, 'latin1'), Buffer.from(stuffed.endsWith('\r\n') ? '.\r\n' : '\r\n.\r\n')]);
}

/**
 * Sends messages ({ index, raw }) over one connection, one transaction each, waiting for
 * every reply. Resolves with { accepted: number[], rejected: { index, code, text }[] }.
 */
export async function sendMessages(target, messages) {
  const accepted = [];
  const rejected = [];
  let socket;
  try {
    socket = await connect({ host: target.host, port: target.port, implicitTls: false });
  } catch (error) {
    return { accepted, rejected: messages.map((message) => ({ index: message.index, code: 0, text: `connect: ${error.message}` })) };
  }
  socket.on('error', () => undefined);
  const reader = new ReplyReader();
  reader.attach(socket);
  const command = async (line) => {
    if (!(await write(socket, line))) return { code: 0, text: 'connection lost' };
    return (await reader.next()) ?? { code: 0, text: 'no reply' };
  };
  try {
    const greeting = await reader.next(GREETING_TIMEOUT_MS);
    if (greeting?.code !== 220) throw new Error(`greeting: ${greeting?.text ?? 'none'}`);
    await command('EHLO mime.fuzz.test\r\n');
    for (const message of messages) {
      const steps = [`MAIL FROM:<mime-${message.index}@fuzz.test> BODY=8BITMIME\r\n`, `RCPT TO:<mime@example.test>\r\n`, 'DATA\r\n'];
      let failed = null;
      for (const step of steps) {
        const reply = await command(step);
        if (reply.code >= 400 || reply.code === 0) {
          failed = reply;
          break;
        }
      }
      if (!failed) {
        const reply = await command(dotStuff(message.raw));
        if (reply.code === 250) accepted.push(message.index);
        else failed = reply;
      }
      if (failed) {
        rejected.push({ index: message.index, code: failed.code, text: failed.text });
        if (failed.code === 0) break;
        await command('RSET\r\n');
      }
    }
    for (const message of messages) {
      if (!accepted.includes(message.index) && !rejected.some((entry) => entry.index === message.index))
        rejected.push({ index: message.index, code: 0, text: 'not sent: connection lost' });
    }
    await write(socket, 'QUIT\r\n');
    await closed(socket, CLOSE_TIMEOUT_MS);
  } catch (error) {
    for (const message of messages) {
      if (!accepted.includes(message.index) && !rejected.some((entry) => entry.index === message.index))
        rejected.push({ index: message.index, code: 0, text: error.message });
    }
  } finally {
    socket.destroy();
  }
  return { accepted, rejected };
}
