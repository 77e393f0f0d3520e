import { createSocket, type Socket } from 'node:dgram';

/** What the test server answers for a question: TXT strings or IPv4 addresses, NXDOMAIN, or nothing at all. */
export type DnsTestAnswer = { txt: string[][] } | { a: string[] } | 'nxdomain' | 'silent';

/** A running UDP DNS server on 127.0.0.1 for live-resolver tests. */
export interface DnsTestServer {
  /** `127.0.0.1:port`, for a resolver's server list. */
  address: string;
  /** Questions received, as `name TYPE`. */
  questions: string[];
  close(): Promise<void>;
}

const TYPES: Record<number, string> = { 1: 'A', 16: 'TXT', 28: 'AAAA', 15: 'MX', 12: 'PTR', 5: 'CNAME' };

/** Starts a minimal authoritative-style DNS server (RFC 1035 wire format, UDP) answering with `answer`. */
export async function startDnsTestServer(answer: (name: string, type: string) => DnsTestAnswer): Promise<DnsTestServer> {
  const socket: Socket = createSocket('udp4');
  const questions: string[] = [];
  socket.on('message', (query, peer) => {
    if (query.length < 12) return;
    let offset = 12;
    const labels: string[] = [];
    while (offset < query.length && query[offset] !== 0) {
      const length = query[offset] ?? 0;
      labels.push(query.subarray(offset + 1, offset + 1 + length).toString('latin1'));
      offset += length + 1;
    }
    const questionEnd = offset + 5;
    const type = TYPES[query.readUInt16BE(offset + 1)] ?? String(query.readUInt16BE(offset + 1));
    const name = labels.join('.');
    questions.push(`${name} ${type}`);
    const reply = answer(name, type);
    if (reply === 'silent') return;
    const records: Buffer[] = [];
    if (reply !== 'nxdomain') {
      const rdatas =
        'txt' in reply
          ? reply.txt.map((strings) => Buffer.concat(strings.map((string) => Buffer.concat([Buffer.from([Buffer.byteLength(string)]), Buffer.from(string)]))))
          : reply.a.map((address) => Buffer.from(address.split('.').map(Number)));
      for (const rdata of rdatas) {
        const head = Buffer.alloc(12);
        head.writeUInt16BE(0xc00c, 0); // a pointer to the question's name
        head.writeUInt16BE('txt' in reply ? 16 : 1, 2);
        head.writeUInt16BE(1, 4); // IN
        head.writeUInt32BE(60, 6);
        head.writeUInt16BE(rdata.length, 10);
        records.push(head, rdata);
      }
    }
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8180 | (reply === 'nxdomain' ? 3 : 0), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(reply === 'nxdomain' ? 0 : records.length / 2, 6);
    socket.send(Buffer.concat([header, query.subarray(12, questionEnd), ...records]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    questions,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
