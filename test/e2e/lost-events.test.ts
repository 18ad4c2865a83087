/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { VsCode } from './harness';

describe('a subscription that loses events (the server drops them for slow readers)', () => {
  let emu: EmulatorProcess;
  let client: RcpClient;
  let vs: VsCode;

  before(async () => {
    // Every event for the extension's connection is dropped, as for a subscriber that fell behind.
    emu = await startEmulator({ seed: 'demo', fault: 'lose-events-for:rstmdb-vscode' });
    client = await RcpClient.connect({ host: emu.host, port: emu.port });
    vs = await VsCode.launch({
      name: 'lost-events',
      settings: { 'rstmdb.instancesPageSize': 20, 'rstmdb.connections': [{ name: 'Lossy', host: '127.0.0.1', port: emu.port }] },
    });
    await vs.openExplorer();
  }, { timeout: 120_000 });

  after(async () => {
    await vs?.close();
    await client?.close();
    await emu?.stop();
  }, { timeout: 120_000 });

  test('the tree still follows a move, from the WAL, within a couple of seconds', async () => {
    await vs.failureScreenshot('move', async () => {
      const { instances, total: paidBefore } = await client.listInstances({ machine: 'order', state: 'paid', limit: 1 });
      const id = instances[0].id;
      const { total: shippedBefore } = await client.listInstances({ machine: 'order', state: 'shipped', limit: 1 });
      await vs.expand('Lossy');
      await vs.expand('order');
      await vs.expand('v1');
      await vs.expand(/^paid$/);
      await vs.waitForRow(id);
      await vs.collapse(/^paid$/);
      await vs.expand(/^shipped$/);

      await client.applyEvent({ instance_id: id, event: 'ship', payload: { carrier: 'DHL' } });

      await vs.waitForRowLabel(new RegExp(`^instance ${id} in shipped`), 10_000);
      await vs.waitForRowLabel(new RegExp(`^state shipped, ${shippedBefore + 1}\\b`), 10_000);
      await vs.waitForRowLabel(new RegExp(`^state paid, ${paidBefore - 1}\\b`), 10_000);
      assert.equal((await vs.treeRows()).filter((r) => r.startsWith(`instance ${id} `)).length, 1);
      await vs.screenshot('moved-from-wal');
    });
  });
});
