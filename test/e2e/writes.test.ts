/// <reference lib="dom" />
/**
 * Writes in a real VS Code: the guard preview of Apply Event (exact text, on the
 * instance's current context) and read-only connections (refused from the palette,
 * server unchanged, no write actions in the row menus).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { VsCode } from './harness';

const STEP = { timeout: 120_000 };

describe('writes: guard previews and read-only connections', { timeout: 600_000 }, () => {
  let emu: EmulatorProcess | undefined;
  let client: RcpClient | undefined;
  let vs: VsCode;

  before(async () => {
    emu = await startEmulator({ seed: 'demo' });
    client = await RcpClient.connect({ host: emu.host, port: emu.port });
    // One whose guard on 'pay' (ctx.amount > 0) passes on its context, one whose guard fails.
    await client.createInstance({ machine: 'order', version: 1, instance_id: 'guard-passes', initial_ctx: { amount: 5 } });
    await client.createInstance({ machine: 'order', version: 1, instance_id: 'guard-fails', initial_ctx: { customer: 'ada' } });
    // A machine of its own, so its one instance is the only row under its state.
    await client.putMachine({ machine: 'gadget', version: 1, definition: { states: ['new', 'done'], initial: 'new', transitions: [{ from: 'new', event: 'finish', to: 'done' }] } });
    await client.createInstance({ machine: 'gadget', version: 1, instance_id: 'ro-gadget', initial_ctx: { amount: 7 } });
    vs = await VsCode.launch({
      name: 'writes',
      settings: {
        'rstmdb.instancesPageSize': 5,
        'rstmdb.connections': [
          { name: 'Writable', host: '127.0.0.1', port: emu.port },
          { name: 'Read-only', host: '127.0.0.1', port: emu.port, readOnly: true },
        ],
      },
    });
    await vs.openExplorer();
  }, STEP);

  after(async () => {
    await vs?.close();
    await client?.close();
    await emu?.stop();
  }, STEP);

  /** Palette commands act on the active connection: make it this one (through the status bar's switcher). */
  async function activate(name: string): Promise<void> {
    await vs.runCommand('rstmdb: Switch Active Connection…');
    await vs.pick(name);
    // The item names the connection, then its notes in brackets (a read-only one says so).
    await vs.page.waitForFunction(
      (n) => [...document.querySelectorAll('.statusbar-item')].some((e) => {
        const t = (e.textContent ?? '').trim();
        return t === `rstmdb: ${n}` || t.startsWith(`rstmdb: ${n} (`);
      }),
      name,
      { timeout: 15_000 },
    );
  }

  /** The text of each event row of the open Apply Event pick (codicons render as empty spans). */
  async function eventRows(): Promise<Map<string, string>> {
    const rows = vs.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    await rows.first().waitFor({ state: 'visible' });
    // Label, description and detail are separate elements: their text pieces are joined with spaces.
    const texts = await rows.evaluateAll((els) =>
      els.map((e) => {
        const pieces: string[] = [];
        const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          // A separator's label ("similar commands", left over from the palette; "guard fails on the current
          // context") is not part of the item. Only the label itself: the row under a separator has a
          // separator-border class of its own, and its text is the item's.
          if (n.textContent?.trim() && !n.parentElement?.closest('.quick-input-list-separator, .quick-input-list-separator-as-item')) pieces.push(n.textContent.trim());
        }
        return [e.querySelector('.label-name')?.textContent ?? '', pieces.join(' ')] as [string, string];
      }),
    );
    return new Map(texts);
  }

  test('guard preview: each event says whether its guard passes on the instance\'s current context', STEP, async () => {
    await vs.failureScreenshot('guard-preview', async () => {
      await activate('Writable');
      await vs.runCommand('Notifications: Clear All Notifications');
      await vs.runCommand('rstmdb: Apply Event…');
      await vs.answerInstance('guard-passes', 'Apply Event');
      await vs.page.locator('.quick-input-widget .quick-input-title', { hasText: 'Apply Event to guard-passes (order v1, state created)' }).waitFor({ state: 'visible' });
      let rows = await eventRows();
      assert.equal(rows.get('pay'), 'pay created → paid guard ctx.amount > 0 — passes on the current context');
      assert.equal(rows.get('cancel'), 'cancel created → cancelled no guard');
      await vs.screenshot('guard-passes');
      await vs.page.keyboard.press('Escape');

      await vs.runCommand('rstmdb: Apply Event…');
      await vs.answerInstance('guard-fails', 'Apply Event');
      await vs.page.locator('.quick-input-widget .quick-input-title', { hasText: 'Apply Event to guard-fails (order v1, state created)' }).waitFor({ state: 'visible' });
      rows = await eventRows();
      assert.equal(rows.get('pay'), 'pay created → paid guard ctx.amount > 0 — fails on the current context (payload merged after)');
      assert.equal(rows.get('cancel'), 'cancel created → cancelled no guard');
      await vs.screenshot('guard-fails');
      // A payload that would make it pass does not: guards see the context before the merge.
      await vs.pick(/^pay$/);
      const dialog = vs.page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible' });
      assert.match((await dialog.textContent()) ?? '', /The guard `ctx.amount > 0` reads ctx.amount = null and will fail\./);
      await dialog.locator('.monaco-button', { hasText: 'Edit Payload Anyway' }).click();
      await vs.sendPayload('pay', '{"amount": 5}');
      // The guard and what it read are named; the advice is the extension's.
      await vs.waitForExactNotification(/'pay' was not applied to 'guard-fails': the guard `ctx.amount > 0` failed; it reads ctx.amount = null\. Guards are checked before the payload is merged, so changing the payload cannot make it pass: change the instance's context first\./);
      assert.equal((await client!.getInstance({ instance_id: 'guard-fails' })).state, 'created');
      await vs.runCommand('View: Close Editor');
      await vs.runCommand('Notifications: Clear All Notifications');

      // And the one the preview said passes does, with an empty payload.
      await vs.runCommand('rstmdb: Apply Event…');
      await vs.answerInstance('guard-passes', 'Apply Event');
      await vs.pick(/^pay$/);
      await vs.sendPayload('pay', '{}');
      await vs.waitForExactNotification(/guard-passes: created → paid on 'pay'\./);
      assert.equal((await client!.getInstance({ instance_id: 'guard-passes' })).state, 'paid');
    });
  });

  test('read-only: Create, Apply and Delete from the palette are refused with the reason, and the server is unchanged', STEP, async () => {
    await vs.failureScreenshot('read-only-palette', async () => {
      await activate('Read-only');
      const before = await client!.listInstances({ machine: 'gadget', state: 'new', limit: 1 });
      const refusal = (action: string) => `Connection 'Read-only' is read-only: ${action} is not allowed. Edit the connection to allow writes.`;

      await vs.runCommand('Notifications: Clear All Notifications');
      await vs.runCommand('rstmdb: Create Instance…');
      await vs.waitForExactNotification(refusal('creating an instance'));
      assert.equal(await vs.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'order' }).count(), 0, 'no machine was offered');

      await vs.runCommand('Notifications: Clear All Notifications');
      await vs.runCommand('rstmdb: Apply Event…');
      await vs.answerInstance('ro-gadget', 'Apply Event');
      await vs.waitForExactNotification(refusal('applying an event'));

      await vs.runCommand('Notifications: Clear All Notifications');
      await vs.runCommand('rstmdb: Delete Instance');
      await vs.answerInstance('ro-gadget', 'Delete Instance');
      await vs.waitForExactNotification(refusal('deleting an instance'));
      assert.equal(await vs.page.locator('.monaco-dialog-box').count(), 0, 'no delete confirmation');
      await vs.screenshot('read-only-refused');

      const inst = await client!.getInstance({ instance_id: 'ro-gadget' });
      assert.equal(inst.state, 'new');
      assert.deepEqual(inst.ctx, { amount: 7 });
      assert.equal((await client!.listInstances({ machine: 'gadget', state: 'new', limit: 1 })).total, before.total);
    });
  });

  /** The items of a row's context menu (right click), then the menu is closed. */
  async function contextMenu(label: string | RegExp): Promise<string[]> {
    await (await vs.waitForRow(label)).click({ button: 'right' });
    const menu = vs.page.locator('.context-view .monaco-menu');
    await menu.waitFor({ state: 'visible' });
    const items = (await menu.locator('.action-item .action-label').allTextContents()).map((t) => t.trim()).filter(Boolean);
    await vs.page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });
    return items;
  }

  /** The inline actions a row shows on hover. */
  async function inlineActions(label: string | RegExp): Promise<string[]> {
    const row = await vs.waitForRow(label);
    await row.hover();
    return (await row.locator('.actions .action-label').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''))).filter(Boolean);
  }

  test('read-only: the write actions are absent from the row menus (and present on a writable connection)', STEP, async () => {
    await vs.failureScreenshot('read-only-menus', async () => {
      await vs.runCommand('Notifications: Clear All Notifications');
      for (const conn of ['Writable', 'Read-only']) {
        await vs.expand(new RegExp(`^${conn}$`));
        await vs.waitForRowLabel(new RegExp(`^connection ${conn}, connected`));
        await vs.expand('gadget');
        await vs.expand('v1');
        await vs.expand(/^new$/);
        await vs.waitForRow('ro-gadget');
        const writable = conn === 'Writable';
        const instanceMenu = await contextMenu('ro-gadget');
        assert.ok(instanceMenu.includes('Open Instance as JSON') && instanceMenu.includes('Copy Instance ID'), `${conn} instance menu: ${instanceMenu.join(', ')}`);
        for (const write of ['Apply Event…', 'Delete Instance']) assert.equal(instanceMenu.includes(write), writable, `${write} in the ${conn} instance menu: ${instanceMenu.join(', ')}`);
        const inline = await inlineActions('ro-gadget');
        assert.ok(inline.includes('Open Inspector'), `${conn} inline: ${inline.join(', ')}`);
        assert.equal(inline.includes('Apply Event…'), writable, `${conn} inline actions: ${inline.join(', ')}`);
        if (writable) {
          // The inline action does what the palette does, for this row.
          await (await vs.waitForRow('ro-gadget')).locator('.actions .action-label[aria-label="Apply Event…"]').click();
          await vs.page.locator('.quick-input-widget .quick-input-title', { hasText: 'Apply Event to ro-gadget (gadget v1, state new)' }).waitFor({ state: 'visible' });
          await vs.page.keyboard.press('Escape');
        } else await vs.screenshot('read-only-instance-row');
        const stateMenu = await contextMenu(/^new$/);
        assert.equal(stateMenu.includes('Create Instance…'), writable, `${conn} state menu: ${stateMenu.join(', ')}`);
        const connMenu = await contextMenu(new RegExp(`^${conn}$`));
        assert.equal(connMenu.includes('Create Instance…'), writable, `${conn} connection menu: ${connMenu.join(', ')}`);
        await vs.collapse(new RegExp(`^${conn}$`));
      }
    });
  });
});
