#!/usr/bin/env node
// Summarizes a V8 CPU profile (from `npm run bench -- --cpu-prof`): where the time went,
// by function (self time) and by package or file, with idle and GC shown apart.
//
//   node bench/profile-summary.mjs bench/profiles/<file>.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
if (positionals.length === 0) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [--top N]');
  process.exit(2);
}
const top = Number(values.top);

/** node_modules/<pkg> (with scope), our own packages/<name>, node:internal, or the file. */
function ownerOf(url) {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return 'node: core';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const ours = /\/packages\/([^/]+)\/(?:dist|src)\/(.+)$/.exec(url);
  if (ours) return `@mailwright/${ours[1]}: ${ours[2]}`;
  return url.replace(/^file:\/\//, '');
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  // timeDeltas[i] is the time before samples[i]; attribute it to that sample.
  profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const totalUs = profile.endTime - profile.startTime;

  const byFunction = new Map();
  const byOwner = new Map();
  let idleUs = 0;
  let gcUs = 0;
  let programUs = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = nodes.get(id);
    const name = callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    if (name === '(garbage collector)') gcUs += us;
    if (name === '(program)') programUs += us;
    const where = callFrame.url ? `${ownerOf(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
    const key = `${name} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const owner = name.startsWith('(') ? name : ownerOf(callFrame.url);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us) => `${((100 * us) / busyUs).toFixed(1).padStart(5)}%`;
  const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  console.log(
    `${file}\n  wall ${ms(totalUs).trim()}, busy ${ms(busyUs).trim()} (GC ${ms(gcUs).trim()}, program ${ms(programUs).trim()}); percentages are of busy time\n`,
  );
  console.log('  by package / file (self time)');
  for (const [owner, us] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms(us)} ${pct(us)}  ${owner}`);
  console.log('\n  by function (self time)');
  for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms(us)} ${pct(us)}  ${key}`);

  // Inclusive time of our own functions and the library entry points they call.
  const inclusive = new Map();
  const visit = (id, stack) => {
    const node = nodes.get(id);
    const { callFrame } = node;
    const key = `${callFrame.functionName || '(anonymous)'} ${callFrame.url ? `${ownerOf(callFrame.url)}:${callFrame.lineNumber + 1}` : ''}`.trim();
    const fresh = !stack.has(key);
    if (fresh) stack.add(key);
    let sum = selfUs.get(id) ?? 0;
    for (const child of node.children ?? []) sum += visit(child, stack);
    if (fresh) {
      stack.delete(key);
      if (callFrame.functionName !== '(idle)' && callFrame.functionName !== '(root)') inclusive.set(key, (inclusive.get(key) ?? 0) + sum);
    }
    return sum;
  };
  visit(profile.nodes[0].id, new Set());
  console.log('\n  by function (inclusive, our code and first library frames)');
  const interesting = [...inclusive].filter(([key]) => key.includes('@mailwright/') || /simpleParser|MailParser|SMTPConnection|_onCommand|handler_/.test(key));
  for (const [key, us] of interesting.sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms(us)} ${pct(us)}  ${key}`);
  console.log('');
}
