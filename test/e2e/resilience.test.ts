/// <reference lib="dom" />
/**
 * Resilient: the server is killed and restarted, and events are applied before
 * the extension gets back to it. After the reconnect the rows and counts are
 * exactly the server's, stay so (nothing counted twice), and live moves still show.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { startProxy, type FaultProxy } from '../rcp/proxy';
import { VsCode } from './harness';

const STEP = { timeout: 150_000 };

describe('a server that goes away and comes back changed', { timeout: 400_000 }, () => {
  let emu: EmulatorProcess | undefined;
  let proxy: FaultProxy | undefined;
  let vs: VsCode | undefined;

  before(async () => {
    emu = await startEmulator({ seed: 'demo' });
    // The extension reaches the server through a proxy, so it can be kept away after the restart.
    proxy = await startProxy(emu);
    vs = await VsCode.launch({
      name: 'resilience',
      settings: { 'rstmdb.instancesPageSize': 5, 'rstmdb.connections': [{ name: 'Flaky', host: '127.0.0.1', port: proxy.port }] },
    });
    await vs.openExplorer();
  }, STEP);

  after(async () => {
    await vs?.close();
    await proxy?.close();
    await emu?.stop();
  }, STEP);

  async function total(client: RcpClient, state: string): Promise<number> {
    return (await client.listInstances({ machine: 'order', state, limit: 1 })).total;
  }

  /** The state rows show exactly the server's counts, and none of `gone` is listed under created. */
  async function assertExact(client: RcpClient, gone: string[]): Promise<void> {
    for (const state of ['created', 'cancelled']) {
      const want = await total(client, state);
      await vs!.waitForRowLabel(new RegExp(`^state ${state}, ${want}\\b`), 20_000);
    }
    const rows = await vs!.treeRows();
    const at = rows.findIndex((r) => r.startsWith('state created'));
    const end = rows.findIndex((r, i) => i > at && r.startsWith('state '));
    const underCreated = rows.slice(at + 1, end < 0 ? undefined : end);
    assert.deepEqual(underCreated.filter((r) => gone.some((id) => r.startsWith(`instance ${id} `))), [], 'moved instances are no longer listed under created');
  }

  test('kill, restart, N events before the reconnect: exact rows and counts, again 3 s later, then a live move still shows', STEP, async () => {
    await vs!.failureScreenshot('restart', async () => {
      let client = await RcpClient.connect({ host: emu!.host, port: emu!.port });
      try {
        await vs!.expand('Flaky');
        await vs!.expand('order');
        await vs!.expand('v1');
        await vs!.expand(/^created$/);
        await vs!.expand(/^cancelled$/);
        const { instances } = await client.listInstances({ machine: 'order', state: 'created', limit: 4 });
        const ids = instances.map((i) => i.id);
        await vs!.waitForRow(ids[0]);
        await assertExact(client, []);

        // The server dies; the extension is kept away while it comes back and events happen.
        proxy!.pause();
        await client.close();
        await emu!.kill();
        await vs!.waitForRowLabel(/^connection Flaky, reconnecting/, 20_000);
        await emu!.restart();
        client = await RcpClient.connect({ host: emu!.host, port: emu!.port });
        const moved = ids.slice(0, 3);
        for (const id of moved) await client.applyEvent({ instance_id: id, event: 'cancel', payload: { reason: 'while away' } });
        proxy!.resume();

        await vs!.waitForRowLabel(/^connection Flaky, connected/, 30_000);
        await assertExact(client, moved);
        await vs!.screenshot('after-restart');

        // Nothing arrives late and counts twice: the same, 3 s later (an observation window, not a wait for something).
        await vs!.page.waitForTimeout(3000);
        await assertExact(client, moved);

        // Live moves still show after all this.
        const cancelledBefore = await total(client, 'cancelled');
        await client.applyEvent({ instance_id: ids[3], event: 'cancel', payload: { reason: 'live' } });
        await vs!.waitForRowLabel(new RegExp(`^instance ${ids[3]} in cancelled`), 5000);
        await vs!.waitForRowLabel(new RegExp(`^state cancelled, ${cancelledBefore + 1}\\b`), 5000);
        await assertExact(client, [...moved, ids[3]]);
      } finally {
        await client.close();
      }
    });
  });
});
