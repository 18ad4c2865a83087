#!/usr/bin/env node
// `npm run test:mutations [-- <name filter>…] [--list] [--check]`: breaks the product on purpose,
// one break at a time, in a copy of the tree, runs the tests that should notice, and prints which
// breaks were caught. Every break listed here must be caught: a break that goes unnoticed means a
// promise without a test. A verdict is only "caught" for the right reason:
// - the unbroken copy compiles, and each break's tests pass on it first (its baseline) and run at
//   least one test; otherwise the break is judged NO BASELINE, never caught;
// - the text a break replaces must occur exactly once in today's code (else STALE, loudly);
// - the broken copy must compile: a break that does not is a bug in the break (NOT APPLIED);
// - a test must fail (not the run hang: HUNG means a test without a timeout), and where a break
//   names `expect`, one of the failed tests must match it (else WRONG TEST).
// On demand only (not part of `npm test`): it runs the relevant e2e files twice per break's
// selection (baseline, then broken). Set RSTMDB_E2E_LOCK=<file> to hold that flock(1) lock around
// each run that starts a real VS Code, so other users of the machine are not starved of cores.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * file: what is broken; find: text that must occur exactly once (so a stale break fails loudly);
 * replace: the broken text; tests: compiled test files under out/test (and optionally a name
 * pattern); expect: what the failure report (failed tests' names and messages) must match, so
 * that the test meant to catch it is the one that did.
 */
const BREAKS = [
  // The eleven breaks of issue 13 that went unnoticed, first.
  {
    name: 'live feed unplugged (events from the subscription are dropped)',
    file: 'src/model/serverConnection.ts',
    find: 'this.changes.hint(e);',
    replace: '',
    tests: ['e2e/extension-host.test.js'],
    expect: /Live: with the WAL tail stalled/,
  },
  {
    name: 'guard preview evaluated on {} instead of the instance context',
    file: 'src/commands/applyEvent.ts',
    find: 'detail: guardPreview(t.guard, inst.ctx)',
    replace: 'detail: guardPreview(t.guard, {})',
    tests: ['e2e/writes.test.js'],
    expect: /guard preview/,
  },
  {
    name: 'read-only refusal removed from Create Instance',
    file: 'src/commands/instanceCommands.ts',
    find: "if (!conn || refuseIfReadOnly(conn, 'creating an instance')) return;",
    replace: 'if (!conn) return;',
    tests: ['e2e/writes.test.js'],
    expect: /read-only: Create, Apply and Delete/,
  },
  {
    name: 'CRC32C written little-endian on both sides',
    file: 'src/rcp/frame.ts',
    find: 'out.writeUInt32BE(flags & FLAG_CRC_PRESENT ? crc32c(payload) : 0, at + 14);',
    replace: 'out.writeUInt32LE(flags & FLAG_CRC_PRESENT ? crc32c(payload) : 0, at + 14);',
    also: [
      { find: 'const crc = header.readUInt32BE(14);', replace: 'const crc = header.readUInt32LE(14);' },
      // The emulator has its own framing: "both sides" means it too.
      { file: 'test/emulator/wire.ts', find: 'out.writeUInt32BE(crc32c(payload), 14);', replace: 'out.writeUInt32LE(crc32c(payload), 14);' },
      { file: 'test/emulator/wire.ts', find: 'const crc = b.readUInt32BE(14);', replace: 'const crc = b.readUInt32LE(14);' },
    ],
    tests: ['rcp/frame.test.js', 'emulator/wire-samples.test.js'],
    expect: /known-good wire samples|re-encodes it byte for byte/,
  },
  {
    name: 'guard evaluator bug shared with the emulator (>= read as >)',
    file: 'src/rcp/guard.ts',
    find: "ast.op === '>=' ? v >= n",
    replace: "ast.op === '>=' ? v > n",
    also: [{ file: 'test/emulator/guard.ts', find: "e.k === 'ge' ? v >= e.value", replace: "e.k === 'ge' ? v > e.value" }],
    tests: ['rcp/guard.test.js', 'emulator/emulator.test.js'],
    expect: /evaluat|>=/,
  },
  {
    name: 'TLS troubleshooting messages removed (Node\'s raw text shown instead)',
    file: 'src/rcp/connection.ts',
    find: "if (TLS_REASONS[code]) return new RcpConnectionError(address, 'tls', `TLS: ${TLS_REASONS[code]} (${code})`, { cause: err });",
    replace: '',
    tests: ['rcp/troubleshooting.test.js'],
    expect: /TLS: the server certificate/,
  },
  // A handful more.
  {
    name: '"connection refused" message replaced by Node\'s raw text',
    file: 'src/rcp/connection.ts',
    find: "if (code === 'ECONNREFUSED') return new RcpConnectionError(address, 'connect_failed', 'connection refused (is the server running?)', { cause: err });",
    replace: '',
    tests: ['rcp/troubleshooting.test.js'],
    expect: /connection refused/,
  },
  {
    name: 'error code dropped from what the user is told (AUTH_FAILED shown as its bare message)',
    file: 'src/model/describeError.ts',
    find: 'if (err instanceof RcpError) return `${err.code}: ${err.message}`;',
    replace: 'if (err instanceof RcpError) return err.message;',
    tests: ['e2e/connections.test.js'],
    expect: /wrong token/,
  },
  {
    name: 'redraws not coalesced (every event redraws)',
    file: 'src/views/explorer.ts',
    find: 'const REFRESH_INTERVAL_MS = 100;',
    replace: 'const REFRESH_INTERVAL_MS = 0;',
    tests: ['e2e/extension-host.test.js'],
    expect: /at most 10 redraws a second/,
  },
  {
    name: 'read-only refusal removed from Apply Event',
    file: 'src/commands/applyEvent.ts',
    find: "if (refuseIfReadOnly(conn, 'applying an event')) return;",
    replace: '',
    tests: ['e2e/writes.test.js'],
    expect: /read-only: Create, Apply and Delete/,
  },
  {
    name: 'read-only refusal removed from Delete Instance',
    file: 'src/commands/instanceCommands.ts',
    find: "if (!target || refuseIfReadOnly(target.conn, 'deleting an instance')) return;",
    replace: 'if (!target) return;',
    tests: ['e2e/writes.test.js'],
    expect: /read-only: Create, Apply and Delete/,
  },
  {
    name: 'write actions offered in a read-only instance row\'s menu',
    file: 'package.json',
    // Delete's row-menu entry: offered on every instance row, read-only ones (instance.readonly) included.
    find: '"when": "view == rstmdb.connections && viewItem =~ /^instance(\\\\.final)?$/",\n          "group": "3_danger@1"',
    replace: '"when": "view == rstmdb.connections && viewItem =~ /^instance/",\n          "group": "3_danger@1"',
    tests: ['e2e/writes.test.js'],
    expect: /absent from the row menus/,
  },
  {
    name: 'WAL tail followed while the view is hidden',
    file: 'src/extension.ts',
    find: 'manager.setFollowing(visible && !walTailStalled);',
    replace: 'manager.setFollowing(!walTailStalled);',
    tests: ['e2e/explorer-details.test.js'],
    expect: /no WAL reads while the view is hidden/,
  },
  {
    name: 'Copy Instance ID copies the connection name',
    file: 'src/commands/instanceCommands.ts',
    find: 'await vscode.env.clipboard.writeText(target.id);',
    replace: 'await vscode.env.clipboard.writeText(target.conn.name);',
    tests: ['e2e/explorer-details.test.js'],
    // What the clipboard holds, not only the test's name: a run where nothing connects fails that test too.
    expect: /the clipboard holds "Details"/,
  },
  {
    name: 'a transition applied twice (from the feed and again from the WAL)',
    file: 'src/model/changeStream.ts',
    find: 'if (this.disposed || this.alreadyApplied(e.wal_offset)) return;',
    replace: 'if (this.disposed) return;',
    tests: ['model/changeStream.emulator.test.js'],
    expect: /applied once whichever comes first/,
  },
  {
    name: 'unverified-TLS warning missing from the connection tooltip',
    file: 'src/views/nodes/connectionNode.ts',
    find: "md.appendMarkdown('⚠ TLS certificate verification is off\\n\\n');",
    replace: '',
    tests: ['e2e/troubleshooting.test.js'],
    expect: /does not verify the server certificate/,
  },
  {
    name: 'a changed token not used until the next connect',
    file: 'src/commands/connectionWizard.ts',
    find: 'if (existing && newSecret && sameSettings(existing, config)) void manager.get(config.name)?.reconnect();',
    replace: '',
    tests: ['e2e/connections.test.js'],
    expect: /Edit Connection/,
  },
  {
    name: 'token sent unredacted to the trace log',
    file: 'src/rcp/connection.ts',
    find: "if (this.options.trace) this.traceSafely('send', redact(message));",
    replace: "if (this.options.trace) this.traceSafely('send', message);",
    tests: ['e2e/explorer-details.test.js'],
    // The redaction's own assertions (the AUTH line with "***", the token absent), not a run that never connected.
    expect: /"token":"\\\*\\\*\\\*"|the token is not in the log/,
  },
];

const args = process.argv.slice(2);
if (args.includes('--list')) {
  for (const b of BREAKS) console.log(`${b.name}  [${[...new Set([b.file, ...(b.also ?? []).map((a) => a.file ?? b.file)])].join(', ')}; ${b.tests.join(', ')}]`);
  process.exit(0);
}
if (args.includes('--check')) {
  // Only that every break still applies (its text occurs exactly once): a quick check after a rebase.
  let stale = 0;
  for (const b of BREAKS) {
    try {
      applyBreak(root, b);
    } catch (err) {
      stale++;
      console.log(`STALE ${b.name}: ${err instanceof Error ? err.message.split('\n')[0] : err}`);
    }
  }
  console.log(`${BREAKS.length - stale} of ${BREAKS.length} breaks apply`);
  process.exit(stale ? 1 : 0);
}
const filters = args.filter((a) => !a.startsWith('--'));
const chosen = BREAKS.filter((b) => filters.length === 0 || filters.some((f) => b.name.toLowerCase().includes(f.toLowerCase())));
if (chosen.length === 0) {
  console.error(`no break matches ${filters.join(' ')} (npm run test:mutations -- --list)`);
  process.exit(2);
}

/** Files to copy: what git tracks plus new files not ignored (uncommitted work is tested too). */
function sourceFiles() {
  const r = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ls-files failed: ${r.stderr}`);
  return r.stdout.split('\0').filter((f) => f && existsSync(join(root, f)));
}

function run(cmd, cmdArgs, cwd, timeoutMs) {
  const started = Date.now();
  const r = spawnSync(cmd, cmdArgs, { cwd, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, timedOut: r.error?.code === 'ETIMEDOUT', output: `${r.stdout ?? ''}${r.stderr ?? ''}`, ms: Date.now() - started };
}

/** The broken text of every file a break touches: Map(file → text). `also` edits may name another file. */
function applyBreak(dir, b) {
  const texts = new Map();
  for (const { file = b.file, find, replace } of [{ find: b.find, replace: b.replace }, ...(b.also ?? [])]) {
    let text = texts.get(file) ?? readFileSync(join(dir, file), 'utf8');
    const at = text.indexOf(find);
    if (at < 0 || text.indexOf(find, at + 1) >= 0) {
      throw new Error(`${file}: the text to break must occur exactly once; it occurs ${at < 0 ? 'nowhere' : 'more than once'}:\n  ${find}`);
    }
    text = text.slice(0, at) + replace + text.slice(at + find.length);
    texts.set(file, text);
  }
  return texts;
}

const copy = mkdtempSync(join(tmpdir(), 'rstmdb-mutations-'));
const cleanup = () => rmSync(copy, { recursive: true, force: true });
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

for (const f of sourceFiles()) {
  mkdirSync(dirname(join(copy, f)), { recursive: true });
  cpSync(join(root, f), join(copy, f));
}
symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
const tsc = [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', copy];
// Compiling and unit tests run at low priority: other people's real-VS Code tests may be running.
const niced = (cmd, cmdArgs) => (existsSync('/usr/bin/nice') ? ['/usr/bin/nice', ['-n', '10', cmd, ...cmdArgs]] : [cmd, cmdArgs]);
// Each break's test output, for seeing what caught it; a run of some breaks keeps its own folder (another run's logs stay).
const logDir = join(root, 'test-results', 'mutations', filters.length ? filters.join('+').replace(/[^\w+-]+/g, '_').slice(0, 80) : 'all');
rmSync(logDir, { recursive: true, force: true });
mkdirSync(logDir, { recursive: true });
const lock = process.env.RSTMDB_E2E_LOCK;
/** A run that outlives this was stopped: a test without a timeout (the tests' own limits are shorter). */
const HUNG_AFTER_S = 900;

function compileCopy() {
  return run(...niced(process.execPath, tsc), copy, 300_000);
}

/** Runs one break's tests in the copy; returns what happened and the names of the tests that failed. */
function runSelection(b, logName) {
  const files = b.tests.map((t) => join(copy, 'out', 'test', t));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`its tests do not exist: ${missing.map((f) => f.slice(copy.length + 1)).join(', ')}`);
  // The .vsix is rebuilt from this tree for every run (its freshness check goes by mtimes, which a quick restore can fool).
  rmSync(join(copy, 'dist', 'rstmdb-vscode.vsix'), { force: true });
  const nodeArgs = ['--test', '--test-concurrency=1', '--test-reporter=spec', ...(b.pattern ? [`--test-name-pattern=${b.pattern}`] : []), ...files];
  const e2e = b.tests.some((t) => t.startsWith('e2e/'));
  // The time limit counts from when the tests start, not while waiting for the lock.
  const limited = ['timeout', ['-s', 'KILL', String(HUNG_AFTER_S), process.execPath, ...nodeArgs]];
  const cmd = e2e ? (lock ? ['flock', [lock, limited[0], ...limited[1]]] : limited) : niced(limited[0], limited[1]);
  const r = run(cmd[0], cmd[1], copy, 4 * 3600_000);
  writeFileSync(join(logDir, `${logName}.log`), `${b.name}\n\n${r.output}`);
  const count = (what) => Number(new RegExp(`^ℹ ${what} (\\d+)`, 'm').exec(r.output)?.[1] ?? NaN);
  // Failed leaves (a line "✖ name (time)"), once each, without the summary's repeat.
  const summaryAt = r.output.indexOf('✖ failing tests:');
  const body = summaryAt >= 0 ? r.output.slice(0, summaryAt) : r.output;
  const failed = [...new Set(body.split('\n').filter((l) => /^\s*✖ /.test(l)).map((l) => l.trim().slice(2).replace(/ \([\d.]+m?s\)$/, '')))];
  const report = summaryAt >= 0 ? r.output.slice(summaryAt) : failed.join('\n');
  return { hung: r.timedOut || r.status === 137, status: r.status, tests: count('tests'), passed: count('pass'), failedCount: count('fail'), failed, report };
}

/** The selection each break runs, run once on the unbroken tree: it must pass, and run at least one test. */
const baselines = new Map();
function baseline(b) {
  const key = JSON.stringify([b.tests, b.pattern ?? '']);
  if (!baselines.has(key)) {
    const r = runSelection(b, `baseline-${baselines.size + 1}`);
    let problem;
    if (r.hung) problem = `hung without the break (log baseline-${baselines.size + 1})`;
    else if (r.status !== 0) problem = `fails without the break: ${r.failed.slice(0, 3).join('; ') || `exit ${r.status}`}`;
    else if (!(r.passed > 0)) problem = `runs no test (${b.tests.join(', ')}${b.pattern ? ` /${b.pattern}/` : ''})`;
    baselines.set(key, problem);
  }
  return baselines.get(key);
}

console.log(`Breaking the product ${chosen.length} way(s), one at a time, in ${copy}\n`);
const base = compileCopy();
if (base.status !== 0) {
  console.error(`The unbroken tree does not compile: no break can be judged.\n${base.output}`);
  process.exit(2);
}
const results = [];
for (const b of chosen) {
  const originals = new Map();
  const n = String(chosen.indexOf(b) + 1).padStart(2, '0');
  let verdict;
  let detail = '';
  const started = Date.now();
  try {
    // Loudly stale: the text to break must still occur exactly once.
    const broken = applyBreak(copy, b);
    const problem = baseline(b);
    if (problem) {
      verdict = 'NO BASELINE';
      detail = problem;
    } else {
      for (const [file, text] of broken) {
        originals.set(file, readFileSync(join(copy, file), 'utf8'));
        writeFileSync(join(copy, file), text);
      }
      const built = compileCopy();
      if (built.status !== 0) {
        // A break must be a working product that behaves wrongly; a tree that does not compile is a bug in the break.
        verdict = 'NOT APPLIED';
        detail = `the broken tree does not compile: ${built.output.split('\n').find((l) => /error TS/.test(l))?.trim() ?? built.output.trim().slice(0, 200)}`;
      } else {
        const r = runSelection(b, n);
        if (r.hung) {
          verdict = 'HUNG';
          detail = `stopped after ${HUNG_AFTER_S} s: a test without a timeout (log ${n})`;
        } else if (r.status === 0) {
          verdict = 'MISSED';
          detail = `all ${r.passed} test(s) passed`;
        } else if (r.failed.length === 0) {
          verdict = 'CRASHED';
          detail = `exit ${r.status} with no failing test (log ${n})`;
        } else if (b.expect && !b.expect.test(r.report)) {
          verdict = 'WRONG TEST';
          detail = `failed, but nothing matching ${b.expect}: ${r.failed.slice(0, 3).join('; ')} (log ${n})`;
        } else {
          verdict = 'caught';
          detail = `by ${r.failed.slice(0, 2).join('; ')}`.slice(0, 200);
        }
      }
    }
  } catch (err) {
    verdict = 'STALE';
    detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
  } finally {
    for (const [file, text] of originals) writeFileSync(join(copy, file), text);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  results.push({ name: b.name, verdict, detail, seconds });
  console.log(`${verdict.padEnd(11)} ${b.name} (${seconds} s) — ${detail}`);
}

const caught = results.filter((r) => r.verdict === 'caught').length;
console.log(`\nmutations: ${caught} of ${results.length} caught`);
for (const r of results.filter((x) => x.verdict !== 'caught')) console.log(`  ${r.verdict}: ${r.name}`);
process.exit(caught === results.length ? 0 : 1);
