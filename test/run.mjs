#!/usr/bin/env node
// One entry point for `npm test`, `npm run bench`, `npm run emulator`: it installs
// what the project needs (idempotently), compiles, then runs the chosen part.
// Kept dependency-free because it runs before node_modules exists.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const sep = args.indexOf('--');
const own = sep < 0 ? args : args.slice(0, sep);
const rest = sep < 0 ? [] : args.slice(sep + 1);

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function must(cmd, cmdArgs, what) {
  const code = run(cmd, cmdArgs);
  if (code !== 0) {
    console.error(`\n${what} failed (exit ${code})`);
    process.exit(code);
  }
}

/** npm ci when node_modules is missing or was installed from another lock file. */
export function ensureDependencies() {
  const lock = join(root, 'package-lock.json');
  const stamp = join(root, 'node_modules', '.rstmdb-deps');
  const want = createHash('sha256')
    .update(readFileSync(existsSync(lock) ? lock : join(root, 'package.json')))
    .digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  console.log('Installing dependencies…');
  must('npm', [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund'], 'npm install');
  writeFileSync(stamp, want);
}

function compile() {
  must(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root], 'TypeScript compile');
}

function testFiles(dir, filter) {
  const out = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.js') && filter(relative(join(root, 'out', 'test'), p))) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

const summaryFile = join(tmpdir(), `rstmdb-test-summary-${process.pid}.jsonl`);

function runTests(files, extra = []) {
  if (files.length === 0) return 0;
  const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout'];
  reporters.push(`--test-reporter=${join(root, 'test', 'summary-reporter.mjs')}`, '--test-reporter-destination=stderr');
  return run(process.execPath, ['--test', ...reporters, ...extra, ...files], {
    env: { ...process.env, RSTMDB_TEST_SUMMARY: summaryFile },
  });
}

/** One plain closing line over every run: `tests: N passed, N failed`. */
function printSummary() {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  if (existsSync(summaryFile)) {
    for (const line of readFileSync(summaryFile, 'utf8').split('\n').filter(Boolean)) {
      const c = JSON.parse(line);
      totals.passed += c.passed;
      totals.failed += c.failed;
      totals.skipped += c.skipped;
    }
    rmSync(summaryFile, { force: true });
  }
  console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  return totals;
}

ensureDependencies();
compile();

if (own.includes('--emulator')) {
  process.exit(run(process.execPath, [join(root, 'out', 'test', 'emulator', 'main.js'), ...rest]));
} else if (own.includes('--demo')) {
  process.exit(run(process.execPath, [join(root, 'out', 'test', 'e2e', 'demo.js'), ...rest]));
} else if (own.includes('--electron')) {
  process.exit(run(process.execPath, [join(root, 'out', 'test', 'electron', 'runTest.js'), ...rest]));
} else if (own.includes('--bench')) {
  process.exit(run(process.execPath, [join(root, 'out', 'test', 'bench', 'main.js'), ...rest]));
} else {
  const isE2e = (rel) => rel.startsWith('e2e');
  const unit = testFiles(join(root, 'out', 'test'), (rel) => !isE2e(rel));
  // A backstop for any test without its own timeout (it applies to each file as a whole, too):
  // a broken test goes red, it never hangs the run.
  let code = runTests(unit, ['--test-timeout=300000']);
  if (!own.includes('--unit')) {
    const e2e = testFiles(join(root, 'out', 'test', 'e2e'), () => true);
    // One VS Code at a time: the machine has two cores.
    code = runTests(e2e, ['--test-concurrency=1', '--test-timeout=600000']) || code;
  }
  const totals = printSummary();
  if (totals.passed === 0 && code === 0) code = 1;
  process.exit(code);
}
