/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { VsCode } from './harness';

const BULK = { states: ['queued', 'running', 'done'], initial: 'queued', transitions: [{ from: 'queued', event: 'run', to: 'running' }, { from: 'running', event: 'finish', to: 'done' }] };

/** 100,000 instances in one state, created through BATCH as a real loader would. */
async function seedBulk(emu: EmulatorProcess, count: number): Promise<void> {
  const c = await RcpClient.connect({ host: emu.host, port: emu.port, requestTimeoutMs: 120_000 });
  try {
    await c.putMachine({ machine: 'bulk', version: 1, definition: BULK });
    const batches: Promise<unknown>[] = [];
    for (let start = 0; start < count; start += 100) {
      const ops = Array.from({ length: 100 }, (_, i) => ({ op: 'CREATE_INSTANCE', params: { machine: 'bulk', version: 1, instance_id: `job-${String(start + i).padStart(6, '0')}` } }));
      batches.push(c.batch({ mode: 'atomic', ops }));
    }
    await Promise.all(batches);
  } finally {
    await c.close();
  }
}

describe('the explorer in a real VS Code', () => {
  let demo: EmulatorProcess;
  let bulk: EmulatorProcess;
  let client: RcpClient;
  let vs: VsCode;

  before(async () => {
    demo = await startEmulator({ seed: 'demo' });
    bulk = await startEmulator();
    await seedBulk(bulk, 100_000);
    client = await RcpClient.connect({ host: demo.host, port: demo.port });
    vs = await VsCode.launch({
      name: 'explorer',
      settings: {
        // Small pages keep every row of these scenarios inside the (virtualised) viewport.
        'rstmdb.instancesPageSize': 20,
        'rstmdb.connections': [
          { name: 'Local demo', host: '127.0.0.1', port: demo.port },
          { name: 'Big', host: '127.0.0.1', port: bulk.port, readOnly: true },
        ],
      },
    });
    await vs.openExplorer();
  }, { timeout: 300_000 });

  after(async () => {
    await vs?.close();
    await client?.close();
    await demo?.stop();
    await bulk?.stop();
  }, { timeout: 300_000 });

  /** Each test opens what it needs (running one alone passes): Local demo → order → v1. */
  async function openOrderV1(): Promise<void> {
    await vs.expand('Local demo');
    await vs.expand('order');
    await vs.expand('v1');
    await vs.waitForRow('delivered');
  }

  test('the seeded machines, versions and states appear with the server\'s counts', async () => {
    await vs.expand('Local demo');
    await vs.waitForRow('order');
    assert.match(await vs.rowText('approval'), /2 versions/);
    await vs.expand('order');
    await vs.expand('v1');
    await vs.waitForRow('delivered');
    for (const state of ['created', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded']) {
      const { total } = await client.listInstances({ machine: 'order', state, limit: 1 });
      const text = await vs.rowText(new RegExp(`^${state}$`));
      assert.match(text, new RegExp(`^state ${state}, ${total}\\b`), `row '${text}' should show ${total}`);
    }
    assert.match(await vs.rowText('created'), /initial/);
    assert.match(await vs.rowText('cancelled'), /final/);
    await vs.collapse('approval');
    assert.match(await vs.statusBarText(), /rstmdb: Local demo/);
    await vs.screenshot('seeded-tree');
  });

  test('an event applied by another client moves the instance to its new state in the tree', async () => {
    await vs.failureScreenshot('event-move', async () => {
      await openOrderV1();
      const { instances, total: paidBefore } = await client.listInstances({ machine: 'order', state: 'paid', limit: 1 });
      const id = instances[0].id;
      const { total: shippedBefore } = await client.listInstances({ machine: 'order', state: 'shipped', limit: 1 });
      await vs.expand(/^paid$/);
      await vs.waitForRow(id);
      await vs.collapse(/^paid$/);
      await vs.expand(/^shipped$/);

      await client.applyEvent({ instance_id: id, event: 'ship', payload: { carrier: 'DHL' } });

      // Within a few seconds at most (the refresh itself is coalesced to ~100 ms).
      await vs.waitForRowLabel(new RegExp(`^state shipped, ${shippedBefore + 1}\\b`), 5000);
      await vs.waitForRowLabel(new RegExp(`^state paid, ${paidBefore - 1}\\b`), 5000);
      // The state's children are fetched again after its label changes: wait for the row itself.
      await vs.waitForRowLabel(new RegExp(`^instance ${id} in shipped`), 5000);
      let rows = await vs.treeRows();
      const shippedAt = rows.findIndex((r) => r.startsWith('state shipped'));
      assert.ok(rows[shippedAt + 1]?.startsWith(`instance ${id} in shipped`), `expected ${id} first under shipped, rows: ${rows.slice(shippedAt, shippedAt + 3).join(' | ')}`);
      await vs.screenshot('event-moved-instance');
      await vs.collapse(/^shipped$/);
      await vs.expand(/^paid$/);
      rows = await vs.treeRows();
      assert.ok(!rows.some((r) => r.startsWith(`instance ${id} `)), 'no longer listed under paid');
      await vs.collapse(/^paid$/);
    });
  });

  test('Delete Instance from the palette asks first, then the row is gone and its state\'s count drops', async () => {
    await vs.failureScreenshot('delete', async () => {
      await openOrderV1();
      const { instances, total } = await client.listInstances({ machine: 'order', state: 'cancelled', limit: 1 });
      const id = instances[0].id;
      await vs.expand(/^cancelled$/);
      await vs.waitForRow(id);
      await vs.runCommand('rstmdb: Delete Instance');
      await vs.answer(id, 'Delete Instance');
      const dialog = vs.page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible' });
      assert.match((await dialog.textContent()) ?? '', new RegExp(`Delete instance '${id}' \\(order v1, in cancelled\\)`));
      await vs.screenshot('delete-confirm');
      await dialog.locator('.monaco-button', { hasText: /^Delete$/ }).click();
      await vs.waitForNotification(new RegExp(`Deleted ${id}`));
      // The server sends no event for a delete; the tree still follows what this window did.
      await vs.waitForRowLabel(new RegExp(`^state cancelled, ${total - 1}\\b`), 5000);
      assert.ok(!(await vs.treeRows()).some((r) => r.startsWith(`instance ${id} `)), 'the row is gone');
      // The server's delete is soft: the instance leaves the lists (a GET would still answer).
      const left = await client.listInstances({ machine: 'order', state: 'cancelled', limit: 100_000 });
      assert.ok(!left.instances.some((i) => i.id === id), 'no longer listed by the server');
      await vs.collapse(/^cancelled$/);
    });
  });

  test('instances created and deleted by another client, and a new machine version, show up without a refresh', async () => {
    await vs.failureScreenshot('wal-follow', async () => {
      await openOrderV1();
      const { total } = await client.listInstances({ machine: 'order', state: 'created', limit: 1 });
      await vs.expand(/^created$/);
      await vs.waitForRowLabel(new RegExp(`^state created, ${total}\\b`), 5000);

      // The server sends no event for these: the extension reads them from the WAL.
      await client.createInstance({ machine: 'order', version: 1, instance_id: 'e2e-created-elsewhere', initial_ctx: { amount: 12 } });
      await vs.waitForRowLabel(/^instance e2e-created-elsewhere in created/, 5000);
      await vs.waitForRowLabel(new RegExp(`^state created, ${total + 1}\\b`), 5000);
      const rows = await vs.treeRows();
      const at = rows.findIndex((r) => r.startsWith('state created'));
      assert.ok(rows[at + 1]?.startsWith('instance e2e-created-elsewhere'), 'the new instance is listed first');
      await vs.screenshot('created-elsewhere');

      await client.deleteInstance({ instance_id: 'e2e-created-elsewhere' });
      await vs.waitForRowLabel(new RegExp(`^state created, ${total}\\b`), 5000);
      assert.ok(!(await vs.treeRows()).some((r) => r.startsWith('instance e2e-created-elsewhere')), 'the deleted instance is gone');
      await vs.collapse(/^created$/);

      const task = await client.getMachine({ machine: 'task', version: 1 });
      await client.putMachine({ machine: 'task', version: 2, definition: task.definition });
      await vs.waitForRowLabel(/^machine task, 2 versions/, 5000);
    });
  });

  test('Find Instance… jumps to an instance by id, loading its state; an unknown id gets a clear message', async () => {
    await vs.failureScreenshot('find', async () => {
      // Well past the first page of its state.
      const { instances } = await client.listInstances({ machine: 'order', state: 'delivered', limit: 1, offset: 60 });
      const id = instances[0].id;
      await vs.runCommand('rstmdb: Find Instance…');
      await vs.answer(id, 'Find Instance');
      await vs.page.waitForFunction(
        (want) => [...document.querySelectorAll('.monaco-list-row[aria-selected="true"]')].some((r) => (r.getAttribute('aria-label') ?? '').startsWith(want)),
        `instance ${id} in delivered`,
        { timeout: 10_000 },
      );
      await vs.screenshot('found');
      await vs.collapse(/^delivered$/);

      await vs.runCommand('rstmdb: Find Instance…');
      await vs.answer('no-such-order', 'Find Instance');
      await vs.waitForNotification(/Could not find 'no-such-order' on 'Local demo': INSTANCE_NOT_FOUND/);
    });
  });

  test('Create Instance from the palette: the new instance is listed first in its initial state and counted once', async () => {
    await vs.failureScreenshot('create', async () => {
      await openOrderV1();
      await vs.expand(/^created$/);
      await vs.runCommand('rstmdb: Create Instance…');
      await vs.pick(/^order$/);
      await vs.answer('e2e-made-here', 'Create order v1 instance: id');
      await vs.sendPayload('initial-context', '{"customer": "ada", "amount": 3}');
      await vs.waitForNotification(/Created e2e-made-here \(order v1\) in state 'created'/);
      const { total } = await client.listInstances({ machine: 'order', state: 'created', limit: 1 });
      await vs.waitForRowLabel(/^instance e2e-made-here in created/, 5000);
      await vs.waitForRowLabel(new RegExp(`^state created, ${total}\\b`), 5000);
      // The WAL reports the same create a moment later: once a create made after it shows, it is still counted once.
      await client.createInstance({ machine: 'order', version: 1, instance_id: 'e2e-made-later', initial_ctx: {} });
      await vs.waitForRowLabel(/^instance e2e-made-later in created/, 5000);
      await client.deleteInstance({ instance_id: 'e2e-made-later' });
      await vs.waitForRowLabel(new RegExp(`^state created, ${total}\\b`), 5000);
      assert.match(await vs.rowText(/^created$/), new RegExp(`^state created, ${total}\\b`));
      const rows = await vs.treeRows();
      assert.equal(rows.filter((r) => r.startsWith('instance e2e-made-here ')).length, 1, 'listed once');
      assert.deepEqual((await client.getInstance({ instance_id: 'e2e-made-here' })).ctx, { customer: 'ada', amount: 3 });
      await vs.screenshot('created-here');
      await vs.collapse(/^created$/);
    });
  });

  test('a server that goes away shows "reconnecting" and recovers by itself when it is back', async () => {
    await demo.kill();
    await vs.waitForRowLabel(/^connection Local demo, reconnecting/, 15_000);
    assert.match(await vs.statusBarText(), /reconnecting/);
    await vs.screenshot('reconnecting');
    await demo.restart();
    await vs.waitForRowLabel(/^connection Local demo, connected/, 20_000);
    await vs.waitForRow('order');
    assert.doesNotMatch(await vs.statusBarText(), /reconnecting|failed/);
    // Live updates resume after the reconnect.
    const { instances } = await client.listInstances({ machine: 'task', state: 'todo', limit: 1 }).catch(async () => {
      await client.close();
      client = await RcpClient.connect({ host: demo.host, port: demo.port });
      return client.listInstances({ machine: 'task', state: 'todo', limit: 1 });
    });
    assert.ok(instances.length > 0);
  });

  test('100,000 instances in one state: the first page appears and "Load more…" loads the next', async () => {
    await vs.failureScreenshot('load-more', async () => {
    await vs.collapse('Local demo');
    await vs.expand('Big');
    await vs.expand('bulk');
    await vs.expand('v1');
    assert.match(await vs.rowText(/^queued$/), /^state queued, 100000\b/);
    // The server lists in its own (hash) order, not creation order: ask it which ids its pages hold.
    const c = await RcpClient.connect({ host: bulk.host, port: bulk.port });
    const order = await c.listInstances({ machine: 'bulk', state: 'queued', limit: 40 }).finally(() => c.close());
    const ids = order.instances.map((i) => i.id);
    await vs.expand(/^queued$/);
    await vs.waitForRow(ids[0]);
    const more = await vs.waitForRow('Load more…');
    assert.match((await more.textContent()) ?? '', /20 of 100000 shown/);
    await vs.screenshot('first-page');
    await more.click();
    await vs.waitForRow(ids[20]);
    // Scroll to the end of the list, as a user would, to see the next "Load more…".
    await vs.page.keyboard.press('End');
    await vs.waitForRow(ids[39]);
    const next = await vs.waitForRow('Load more…');
    assert.match((await next.textContent()) ?? '', /40 of 100000 shown/);
    await vs.screenshot('second-page');
    });
  });
});
