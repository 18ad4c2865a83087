/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { installedExtension, VsCode } from './harness';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
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
    });

    after(async () => {
      await vs?.close();
      await emu?.stop();
    });

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
