/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { installedExtension, repoRoot, VsCode } from './harness';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** This machine as a VS Code target: the package the Marketplace would serve it. */
function hostTarget(): string {
  const arch = process.arch === 'arm' ? 'armhf' : process.arch;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  if (process.platform === 'linux' && !header?.glibcVersionRuntime) return `alpine-${arch}`;
  return `${process.platform}-${arch}`;
}

describe('the packaged extension', () => {
  test('the .vsix installs with its bundle, the native CRC32C module, icon and docs, and no sources or tests', () => {
    const dir = installedExtension();
    const files = filesUnder(dir);
    // vsce stores README, CHANGELOG and LICENSE under its own spellings (readme.md, LICENSE.txt).
    for (const f of [/^package\.json$/, /^readme\.md$/i, /^changelog\.md$/i, /^license(\.txt)?$/i, /^media\/icon\.png$/, /^media\/rstmdb\.svg$/, /^dist\/extension\.js$/]) {
      assert.ok(files.some((name) => f.test(name)), `${f} is in the installed extension`);
    }
    assert.ok(
      files.some((f) => /^dist\/node_modules\/@node-rs\/crc32-[^/]+\/.*\.node$/.test(f)),
      'the native CRC32C module for this platform is packaged',
    );
    const stray = files.filter((f) => /^(src|test|out|node_modules)\//.test(f) || /\.(ts|map)$/.test(f));
    assert.deepEqual(stray, [], 'no sources, tests, source maps or dev dependencies are shipped');
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main: string; activationEvents?: string[] };
    assert.ok(existsSync(join(dir, manifest.main.endsWith('.js') ? manifest.main : `${manifest.main}.js`)), 'main points at the bundle');
    assert.ok(!(manifest.activationEvents ?? []).includes('*'), 'activation is lazy');
  });

  test('a per-platform package for this machine carries only its own native CRC32C, which loads from the bundle\'s folder', { timeout: 120_000 }, () => {
    installedExtension(); // builds dist/ (npm run package) when the sources are newer
    const target = hostTarget();
    const out = mkdtempSync(join(tmpdir(), 'rstmdb-platforms-'));
    const unpacked = mkdtempSync(join(tmpdir(), 'rstmdb-platform-vsix-'));
    try {
      const r = spawnSync(process.execPath, [join(repoRoot, 'package-platforms.mjs'), '--targets', target, '--out', out], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const vsix = r.stdout.trim().split('\n').pop()!;
      assert.match(vsix, new RegExp(`-${target}\\.vsix$`));
      const u = spawnSync('unzip', ['-q', vsix, '-d', unpacked], { encoding: 'utf8' });
      assert.equal(u.status, 0, u.stderr);
      assert.match(readFileSync(join(unpacked, 'extension.vsixmanifest'), 'utf8'), new RegExp(`TargetPlatform="${target}"`));
      const dist = join(unpacked, 'extension', 'dist');
      assert.deepEqual(readdirSync(join(dist, 'node_modules', '@node-rs')).filter((n) => n.startsWith('crc32-')).length, 1, 'one platform binary');
      assert.ok(existsSync(join(dist, 'extension.js')) && existsSync(join(dist, 'webview')), 'the bundle and the webview are in it');
      // Resolved from the bundle's folder as the bundled @node-rs/crc32 resolves it, and computing CRC-32C.
      const check = spawnSync(process.execPath, ['-e', "const m = require(require('fs').readdirSync('node_modules/@node-rs').map((n) => './node_modules/@node-rs/' + n)[0]); process.stdout.write((m.crc32c(Buffer.from('123456789')) >>> 0).toString(16))"], { cwd: dist, encoding: 'utf8' });
      assert.equal(check.stdout, 'e3069283', check.stderr);
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(unpacked, { recursive: true, force: true });
    }
  });

  describe('where the native CRC32C module cannot load', () => {
    let emu: EmulatorProcess;
    let vs: VsCode;

    before(async () => {
      emu = await startEmulator({ seed: 'demo' });
      vs = await VsCode.launch({
        name: 'no-native-crc',
        withoutNativeCrc: true,
        settings: { 'rstmdb.connections': [{ name: 'Local demo', host: '127.0.0.1', port: emu.port }] },
      });
      await vs.openExplorer();
    }, { timeout: 120_000 });

    after(async () => {
      await vs?.close();
      await emu?.stop();
    }, { timeout: 120_000 });

    test('the extension falls back to its TypeScript CRC32C and still browses the server', async () => {
      await vs.failureScreenshot('browse', async () => {
        await vs.expand('Local demo');
        await vs.waitForRow('order');
        await vs.expand('order');
        await vs.expand('v1');
        const client = await RcpClient.connect({ host: emu.host, port: emu.port });
        const { total } = await client.listInstances({ machine: 'order', state: 'paid', limit: 1 }).finally(() => client.close());
        await vs.waitForRowLabel(new RegExp(`^state paid, ${total}\\b`), 10_000);
        assert.match(vs.extensionLog(), /CRC32C: fallback/);
        await vs.screenshot('browsing');
      });
    });
  });
});
