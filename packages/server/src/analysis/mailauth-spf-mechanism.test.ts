import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { DnsZone } from '../dns/dns-zone.js';
import { createZoneResolver } from '../dns/zone-resolver.js';
import { loadMailauthChecks, loadSpfEvaluator, matchedSpfMechanism } from './mailauth-spf-mechanism.js';

const require = createRequire(import.meta.url);

/*
 * Canary for the one use of mailauth's internals. When an upgrade breaks it, this names what
 * changed: the pinned version, the module's place and export, or the shape of its answer.
 */
test('mailauth is the pinned version whose internal SPF evaluator the adapter uses', () => {
  const manifest = JSON.parse(readFileSync(require.resolve('mailauth/package.json'), 'utf8')) as { version: string };
  expect(manifest.version, 'mailauth was upgraded: re-check lib/spf/spf-verify.js and the strict-alignment workaround in compute-authentication.ts').toBe(
    '4.13.3',
  );
  expect(typeof loadSpfEvaluator(), 'mailauth/lib/spf/spf-verify.js no longer exports spfVerify').toBe('function');
});

test('the checks loaded from their own modules are the functions the package exports', () => {
  const checks = loadMailauthChecks();
  const exported = require('mailauth') as Record<string, unknown>;
  for (const name of ['dkimVerify', 'spf', 'dmarc', 'arc'] as const) {
    expect(checks[name], `mailauth no longer exports ${name}() from the module loadMailauthChecks() reads it from`).toBe(exported[name]);
  }
});

test('the evaluator answers { type, val, qualifier } for the mechanism that matched', async () => {
  const resolver = createZoneResolver(DnsZone.from([{ name: 'example.com', type: 'TXT', value: 'v=spf1 ip4:198.51.100.0/24 ~ip4:203.0.113.0/24 -all' }]));
  const evaluate = loadSpfEvaluator();
  const match = await evaluate('example.com', {
    sender: 'a@example.com',
    ip: '203.0.113.7',
    mta: 'mx.test',
    resolver: resolver as never,
    createSubResolver: () => resolver,
  });
  expect(match).toMatchObject({ type: 'ip4', val: '203.0.113.0/24', qualifier: '~' });
  expect(await matchedSpfMechanism('example.com', { sender: 'a@example.com', ip: '203.0.113.7', mta: 'mx.test', resolver })).toBe('~ip4:203.0.113.0/24');
});

test('a message’s SPF is evaluated once per identity: the mechanism comes from mailauth’s own evaluation', () => {
  // A fresh process, as a parse worker is: mailauth is first loaded by computeAuthentication.
  const entry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  const program = `
    import { createRequire } from 'node:module';
    const evaluator = createRequire(${JSON.stringify(entry)})('mailauth/lib/spf/spf-verify.js');
    const original = evaluator.spfVerify;
    let evaluations = 0;
    evaluator.spfVerify = (...args) => { evaluations += 1; return original(...args); };
    const server = await import(${JSON.stringify(entry)});
    const zone = server.DnsZone.from([
      { name: 'example.com', type: 'TXT', value: 'v=spf1 ip4:198.51.100.0/24 ~ip4:203.0.113.0/24 -all' },
      { name: 'mail.example.com', type: 'TXT', value: 'v=spf1 ip4:203.0.113.7 -all' },
    ]);
    const result = await server.computeAuthentication(
      { raw: Buffer.from('From: a@example.com\\r\\n\\r\\nhi\\r\\n'), mailFrom: 'a@example.com', clientIp: '203.0.113.7', helo: 'mail.example.com', authservId: 'mx.test' },
      { resolver: server.createZoneResolver(zone) },
    );
    process.stdout.write(JSON.stringify({ evaluations, spf: result.spf.result, mechanism: result.spf.mechanism, helo: result.helo.result }));
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  // Two identities (MAIL FROM and HELO), one evaluation each.
  expect(JSON.parse(run.stdout)).toEqual({ evaluations: 2, spf: 'softfail', mechanism: '~ip4:203.0.113.0/24', helo: 'pass' });
});
