import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startEmulator } from '../emulator/process';
import { VsCode } from './harness';

test('the in-extension-host integration suite passes inside a real VS Code', async () => {
  const emu = await startEmulator({ seed: 'demo' });
  const dir = mkdtempSync(join(tmpdir(), 'rstmdb-suite-'));
  const resultFile = join(dir, 'results.json');
  let vs: VsCode | undefined;
  try {
    vs = await VsCode.launch({
      name: 'extension-host',
      settings: { 'rstmdb.connections': [{ name: 'Suite server', host: '127.0.0.1', port: emu.port }] },
      env: { RSTMDB_EXTENSION_TESTS: join(__dirname, '..', 'electron', 'suite', 'index.js'), RSTMDB_EXTENSION_TESTS_RESULT: resultFile },
    });
    // Opening the view activates the extension, which then runs the suite.
    await vs.openExplorer();
    const deadline = Date.now() + 60_000;
    while (!existsSync(resultFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    assert.ok(existsSync(resultFile), 'the suite wrote its results');
    const results = JSON.parse(readFileSync(resultFile, 'utf8')) as { name: string; ok: boolean; error?: string }[];
    assert.ok(results.length >= 4);
    for (const r of results) assert.ok(r.ok, `${r.name}: ${r.error}`);
  } finally {
    await vs?.close();
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
