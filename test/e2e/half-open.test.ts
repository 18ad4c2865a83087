/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient } from '../../src/rcp';
import { GAP_REPLAY_LIMIT } from '../../src/rcp/client';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { startProxy, type FaultProxy } from '../rcp/proxy';
import { VsCode } from './harness';

const FLIP = {
  states: ['up', 'down'],
  initial: 'up',
  transitions: [
    { from: 'up', event: 'flip', to: 'down' },
    { from: 'down', event: 'flip', to: 'up' },
  ],
};

/**
 * A link that goes silent without closing (laptop sleep, a NAT that forgot the
 * connection), through the fault proxy: the extension must notice by itself,
 * reconnect once the link is back, and show what changed meanwhile.
 */
describe('a half-open link', { timeout: 300_000 }, () => {
  let emu: EmulatorProcess;
  let proxy: FaultProxy;
  let client: RcpClient;
  let vs: VsCode;

  before(async () => {
    emu = await startEmulator({ seed: 'demo' });
    proxy = await startProxy(emu);
    client = await RcpClient.connect({ host: emu.host, port: emu.port });
    await client.putMachine({ machine: 'flipper', version: 1, definition: FLIP });
    await client.createInstance({ machine: 'flipper', version: 1, instance_id: 'noisy' });
    vs = await VsCode.launch({
      name: 'half-open',
      settings: {
        'rstmdb.instancesPageSize': 20,
        'rstmdb.keepAliveIntervalMs': 1000,
        'rstmdb.requestTimeoutMs': 1500,
        'rstmdb.connections': [{ name: 'Sleepy', host: '127.0.0.1', port: proxy.port }],
      },
    });
    await vs.openExplorer();
  });

  after(async () => {
    await vs?.close();
    await client?.close();
    await proxy?.close();
    await emu?.stop();
  });

  test('the tree notices, reconnects when the link is back, and shows what changed meanwhile (re-read, not replayed, after a long gap)', async () => {
    await vs.failureScreenshot('half-open', async () => {
      const { instances, total: paidBefore } = await client.listInstances({ machine: 'order', state: 'paid', limit: 1 });
      const id = instances[0].id;
      const { total: shippedBefore } = await client.listInstances({ machine: 'order', state: 'shipped', limit: 1 });
      await vs.expand('Sleepy');
      await vs.waitForRowLabel(/^connection Sleepy, connected/);
      await vs.expand('order');
      await vs.expand('v1');
      await vs.waitForRowLabel(new RegExp(`^state shipped, ${shippedBefore}\\b`));
      await vs.waitForRowLabel(new RegExp(`^state paid, ${paidBefore}\\b`));

      proxy.halfOpen();
      // Nothing closed, nothing errors: only the unanswered keep-alive PING can tell.
      await vs.waitForRowLabel(/^connection Sleepy, reconnecting/, 20_000);
      await vs.screenshot('noticed');
      await client.applyEvent({ instance_id: id, event: 'ship', payload: { carrier: 'DHL' } });
      // A long gap: more WAL records than are worth replaying one by one.
      for (let left = GAP_REPLAY_LIMIT + 500; left > 0; left -= 100) {
        await client.batch({ mode: 'best_effort', ops: Array.from({ length: Math.min(100, left) }, () => ({ op: 'APPLY_EVENT', params: { instance_id: 'noisy', event: 'flip' } })) });
      }
      proxy.restore();

      await vs.waitForRowLabel(/^connection Sleepy, connected/, 60_000);
      await vs.waitForRowLabel(new RegExp(`^state shipped, ${shippedBefore + 1}\\b`), 20_000);
      await vs.waitForRowLabel(new RegExp(`^state paid, ${paidBefore - 1}\\b`), 20_000);
      await vs.screenshot('healed');
      await vs.expand(/^paid$/);
      await vs.waitForRowLabel(/^instance \S+ in paid/);
      const paidRows = (await vs.treeRows()).filter((r) => r.startsWith('instance '));
      assert.ok(paidRows.length > 0 && !paidRows.some((r) => r.startsWith(`instance ${id} `)), 'the moved instance is no longer listed under paid');
      const log = vs.extensionLog();
      assert.match(log, /no answer to a keep-alive PING/, 'the log says why the connection was dropped');
      assert.match(log, /re-reading/, 'the long gap was re-read, not replayed');
    });
  });
});
