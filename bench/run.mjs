#!/usr/bin/env node
// `npm run bench`: runs the scenarios of bench/scenarios side by side against their peers,
// prints absolute numbers, ratios and PASS/MISS per target of the performance contract
// (docs/benchmarks.md), and writes bench/results.json.
//
//   node bench/run.mjs [--quick] [--only <scenario>[,<scenario>]] [--cpu-prof] [--strict] [--out <file>]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { scenarios } from './scenarios/index.mjs';
import { installCleanupHandlers, stopAll } from './lib/processes.mjs';
import { num, renderTable } from './lib/report.mjs';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_DIR = dirname(BENCH_DIR);

const USAGE = `Usage: npm run bench -- [options]

  --quick             short run (fewer messages and rounds); numbers are rougher
  --only <names>      run only these scenarios (comma-separated or repeated): ${scenarios.map((s) => s.name).join(', ')}
  --cpu-prof          profile the Node.js peers (Mailwright, smtp-server sinks) while they are measured;
                      .cpuprofile files go to bench/profiles/ (summary: node bench/profile-summary.mjs <file>)
  --strict            exit with status 1 when a target is missed
  --out <file>        where to write the results (default bench/results.json)
  --help              this text`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      'cpu-prof': { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      out: { type: 'string', default: join(BENCH_DIR, 'results.json') },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const only = (values.only ?? [])
    .flatMap((value) => value.split(','))
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = only.filter((name) => !scenarios.some((scenario) => scenario.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  return { ...values, only };
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: REPO_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryBytes: os.totalmem(),
    loadAverage: os.loadavg(),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
  };
}

/** JSON as the repository's Prettier would write it, so that `npm run lint` stays clean. */
async function formatJson(value, file) {
  const json = `${JSON.stringify(value, null, 2)}\n`;
  try {
    const prettier = await import('prettier');
    return await prettier.format(json, { ...(await prettier.resolveConfig(file)), filepath: file });
  } catch {
    return json;
  }
}

function checkTarget(target) {
  // A target whose reference could not run here: shown as SKIP with the reason, not failed.
  if (target.skipped) return { ...target, pass: null };
  const pass = target.comparison === '<=' ? target.value <= target.limit : target.value >= target.limit;
  return { ...target, pass };
}

function renderTargets(targets) {
  return renderTable({
    title: 'Targets (performance contract, docs/benchmarks.md)',
    columns: [
      { key: 'result', label: 'result', align: 'left' },
      { key: 'name', label: 'target', align: 'left' },
      { key: 'value', label: 'measured' },
      { key: 'limit', label: 'limit' },
      { key: 'detail', label: '', align: 'left' },
    ],
    rows: targets.map((target) => ({
      result: target.error ? 'ERROR' : target.skipped ? 'SKIP' : target.pass ? 'PASS' : 'MISS',
      name: target.name,
      value: target.error || target.skipped ? '–' : `${num(target.value)}${target.unit}`,
      limit: `${target.comparison} ${num(target.limit)}${target.unit}`,
      detail: target.error ?? target.skipped ?? target.detail ?? '',
    })),
  });
}

async function main() {
  let options;
  try {
    options = parseOptions();
  } catch (error) {
    console.error(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  installCleanupHandlers((signal) => console.error(`\n${signal}: stopping every peer`));

  const selected = options.only.length > 0 ? scenarios.filter((scenario) => options.only.includes(scenario.name)) : scenarios;
  const cpuProfileDir = options['cpu-prof'] ? join(BENCH_DIR, 'profiles') : null;
  if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });
  const startedAt = new Date();
  const results = {
    startedAt: startedAt.toISOString(),
    quick: options.quick,
    machine: machine(),
    commit: git(['rev-parse', 'HEAD']),
    // Uncommitted changes under packages/ change what is measured.
    packagesDirty: git(['status', '--porcelain', '--', 'packages']) ? true : false,
    scenarios: {},
    targets: [],
  };
  const m = results.machine;
  console.log(
    `Mailwright bench ${options.quick ? '(quick) ' : ''}— ${m.cpus} × ${m.cpuModel}, ${num(m.memoryBytes / 2 ** 30, 0)} GiB, load ${m.loadAverage.map((l) => num(l)).join(' ')}, Node.js ${m.node}`,
  );
  console.log(`commit ${results.commit?.slice(0, 12) ?? 'unknown'}${results.packagesDirty ? ' (with uncommitted changes under packages/)' : ''}\n`);

  let failed = false;
  for (const scenario of selected) {
    const scenarioStarted = Date.now();
    console.log(`▶ ${scenario.name}: ${scenario.title}`);
    const ctx = { quick: options.quick, cpuProfileDir, log: (message) => console.log(`  · ${message}`) };
    try {
      const outcome = await scenario.run(ctx);
      const targets = outcome.targets.map((target) => ({ scenario: scenario.name, ...checkTarget(target) }));
      results.scenarios[scenario.name] = { durationMs: Date.now() - scenarioStarted, ...outcome.data, targets };
      results.targets.push(...targets);
      console.log(`\n${outcome.tables.map(renderTable).join('\n\n')}\n`);
    } catch (error) {
      failed = true;
      console.error(`  ✗ ${scenario.name} failed: ${error.stack ?? error.message}\n`);
      results.scenarios[scenario.name] = { error: error.message };
      results.targets.push({ scenario: scenario.name, name: scenario.title, error: error.message, value: null, limit: null, comparison: '', unit: '' });
      await stopAll();
    }
  }

  results.durationMs = Date.now() - startedAt.getTime();
  // Other work on a shared machine shows up here: compare with the load at the start.
  results.machine.loadAverageAtEnd = os.loadavg();
  if (results.targets.length > 0) console.log(renderTargets(results.targets));
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, await formatJson(results, options.out));
  console.log(`\nload average at the end: ${results.machine.loadAverageAtEnd.map((l) => num(l)).join(' ')} (on ${m.cpus} CPUs; other work skews the numbers)`);
  console.log(
    `results: ${relative(process.cwd(), options.out) || options.out}${cpuProfileDir ? `; CPU profiles: ${relative(process.cwd(), cpuProfileDir)}/` : ''} (${num(results.durationMs / 1000, 0)} s)`,
  );

  const missed = results.targets.some((target) => !target.error && !target.skipped && !target.pass);
  if (failed) process.exitCode = 1;
  else if (missed && options.strict) process.exitCode = 1;
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
