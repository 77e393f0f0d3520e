#!/usr/bin/env node
// Time to compute the authentication verdicts (DKIM, SPF, DMARC; mailauth against the mock
// zone) of a 10 KB DKIM-signed message, one message at a time, as happens after each `250`.
// Needs `npm run build` first.
//
//   node bench/authentication-verdict.mjs [--runs 300] [--warmup 50]
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';
import { DnsZone, computeAuthentication, createDkimKey, createZoneResolver, dmarcRecord, spfAllowRecord } from '@mailwright/server';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '300' }, warmup: { type: 'string', default: '50' } } });
const RUNS = Number(values.runs);
const WARMUP = Number(values.warmup);

const [rsa, ed] = await Promise.all([
  createDkimKey({ domain: 'example.com', selector: 's1' }),
  createDkimKey({ domain: 'example.com', selector: 'ed', algorithm: 'ed25519' }),
]);
const zone = DnsZone.from([
  rsa.record,
  ed.record,
  spfAllowRecord('example.com', '203.0.113.0/24', { also: ['include:_spf.example.net'] }),
  { name: '_spf.example.net', type: 'TXT', value: 'v=spf1 ip4:198.51.100.0/24 -all' },
  dmarcRecord('example.com', 'reject'),
]);
const resolver = createZoneResolver(zone);
// mailauth is loaded by the first check, as in a parse worker (its SPF evaluator is wrapped as it loads).
await computeAuthentication(
  { raw: Buffer.from('From: a@example.com\r\n\r\nhi\r\n'), mailFrom: '', helo: null, clientIp: '203.0.113.7', authservId: 'x' },
  { resolver },
);
const { dkimSign } = await import('mailauth');

// About 10 KB: a text body of short lines, as application mail has.
const text = Array.from({ length: 160 }, (_, index) => `Line ${String(index).padStart(3, '0')}: the quick brown fox jumps over the lazy dog.`).join('\r\n');
const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows', dkim: rsa.nodemailer });
const rsaSigned = (await transport.sendMail({ from: 'Alice <alice@example.com>', to: 'bob@example.net', subject: 'Benchmark', text })).message;
const unsigned = (
  await nodemailer
    .createTransport({ streamTransport: true, buffer: true, newline: 'windows' })
    .sendMail({ from: 'alice@example.com', to: 'bob@example.net', subject: 'Benchmark', text })
).message;
const edSigned = Buffer.concat([Buffer.from((await dkimSign(unsigned, { signatureData: [ed.mailauth] })).signatures), unsigned]);

async function measure(label, raw) {
  const input = { raw, mailFrom: 'alice@example.com', helo: 'mail.example.com', clientIp: '203.0.113.7', authservId: 'mx.mailwright.test' };
  const first = await computeAuthentication(input, { resolver });
  if (first.dkim[0]?.result !== 'pass' || first.spf.result !== 'pass' || first.dmarc.result !== 'pass')
    throw new Error(`${label}: expected pass, got ${first.authenticationResults}`);
  for (let index = 0; index < WARMUP; index++) await computeAuthentication(input, { resolver });
  const times = [];
  for (let index = 0; index < RUNS; index++) {
    const start = process.hrtime.bigint();
    await computeAuthentication(input, { resolver });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(2);
  console.log(
    `${label.padEnd(28)} ${String(raw.length).padStart(6)} B  p50 ${at(0.5)} ms  p90 ${at(0.9)} ms  p99 ${at(0.99)} ms  max ${times.at(-1).toFixed(2)} ms  (${RUNS} runs)`,
  );
}

await measure('RSA-2048 (nodemailer)', rsaSigned);
await measure('Ed25519 (mailauth)', edSigned);
