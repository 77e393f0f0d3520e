import { describe, expect, it } from 'vitest';
import { MessageReader } from './message-reader.js';

/** Feeds `wire` to a reader in the given pieces; returns the message and what followed the end marker. */
function readInPieces(wire: Buffer, cuts: number[], maxSize = 0): { message: Buffer; rest: Buffer | null; size: number; exceeded: boolean } {
  const reader = new MessageReader(maxSize);
  const bounds = [0, ...cuts, wire.length];
  for (let index = 0; index < bounds.length - 1; index++) {
    const piece = wire.subarray(bounds[index], bounds[index + 1]);
    if (piece.length === 0) continue;
    const end = reader.read(piece);
    if (end >= 0) {
      const rest = Buffer.concat([piece.subarray(end), wire.subarray(bounds[index + 1])]);
      return { message: reader.message(), rest, size: reader.size, exceeded: reader.sizeExceeded };
    }
  }
  return { message: reader.message(), rest: null, size: reader.size, exceeded: reader.sizeExceeded };
}

/** Every way of cutting `wire` in two, and one byte per chunk. */
function everyCut(wire: Buffer): number[][] {
  const cuts: number[][] = [[]];
  for (let at = 1; at < wire.length; at++) cuts.push([at]);
  cuts.push(Array.from({ length: wire.length - 1 }, (_, index) => index + 1));
  return cuts;
}

const CASES: { name: string; wire: string; message: string; rest: string }[] = [
  { name: 'a plain message', wire: 'Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n', message: 'Subject: x\r\n\r\nbody\r\n', rest: 'QUIT\r\n' },
  { name: 'an empty message', wire: '.\r\nNOOP\r\n', message: '', rest: 'NOOP\r\n' },
  { name: 'a stuffed dot at the very start', wire: '..x\r\n.\r\n', message: '.x\r\n', rest: '' },
  {
    name: 'stuffed lines of dots',
    wire: 'a\r\n..\r\n...\r\n....\r\n..leading\r\n.\r\n',
    message: 'a\r\n.\r\n..\r\n...\r\n.leading\r\n',
    rest: '',
  },
  { name: 'a dot followed by CR that is not the end', wire: 'a\r\n.\rb\r\n.\r\n', message: 'a\r\n.\rb\r\n', rest: '' },
  { name: 'a dot followed by CR CR LF', wire: 'a\r\n.\r\r\n.\r\n', message: 'a\r\n.\r\r\n', rest: '' },
  { name: 'an undoubled dot starting a line is kept', wire: 'a\r\n.x\r\n.\r\n', message: 'a\r\n.x\r\n', rest: '' },
  { name: 'a dot after a bare LF is unstuffed but does not end', wire: 'a\n..b\n.\r\nc\r\n.\r\n', message: 'a\n.b\n.\r\nc\r\n', rest: '' },
  { name: 'a dot inside a line is data', wire: 'a.b\r\n x.\r\n.\r\n', message: 'a.b\r\n x.\r\n', rest: '' },
  {
    name: 'pipelined commands after the end',
    wire: 'x\r\n.\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\n',
    message: 'x\r\n',
    rest: 'MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\n',
  },
  { name: 'binary bytes', wire: '\x00\xff\r\r\n\n\n.\r\n', message: '\x00\xff\r\r\n\n\n.\r\n', rest: '' },
];

describe('MessageReader', () => {
  it.each(CASES)('reads $name the same however the chunks are cut', ({ wire, message, rest }) => {
    const bytes = Buffer.from(wire, 'latin1');
    for (const cuts of everyCut(bytes)) {
      const read = readInPieces(bytes, cuts);
      const where = `cut at ${cuts.join(',') || 'nothing'}`;
      if (rest === '' && !wire.endsWith('\r\n.\r\n') && !wire.startsWith('.\r\n')) {
        expect(read.rest, where).toBeNull();
      }
      expect(read.message.toString('latin1'), where).toBe(message);
      expect(read.size, where).toBe(Buffer.byteLength(message, 'latin1'));
      if (read.rest !== null) expect(read.rest.toString('latin1'), where).toBe(rest);
    }
  });

  it('does not end without the end marker', () => {
    const read = readInPieces(Buffer.from('a\r\n.\r'), [3, 4]);
    expect(read.rest).toBeNull();
    expect(read.message.toString()).toBe('a\r\n');
  });

  it('keeps nothing past the size limit but counts every byte and still finds the end', () => {
    const wire = Buffer.from(`${'x'.repeat(30)}\r\n.\r\nQUIT\r\n`);
    for (const cuts of [[], [10], [31], [32], [33]]) {
      const read = readInPieces(wire, cuts, 16);
      expect(read.exceeded).toBe(true);
      expect(read.size).toBe(32);
      expect(read.message.length).toBe(0);
      expect(read.rest?.toString()).toBe('QUIT\r\n');
    }
    const fits = readInPieces(wire, [], 32);
    expect(fits.exceeded).toBe(false);
    expect(fits.message.length).toBe(32);
  });
});
