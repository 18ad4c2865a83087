/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { VsCode } from './harness';

const BULK = { states: ['queued', 'done'], initial: 'queued', transitions: [{ from: 'queued', event: 'finish', to: 'done' }] };
/** More instances than one pick holds (5,000), so some can only be reached by typing their id. */
const BULK_COUNT = 8000;

async function seedBulk(client: RcpClient): Promise<void> {
  await client.putMachine({ machine: 'bulk', version: 1, definition: BULK });
  const batches: Promise<unknown>[] = [];
  for (let start = 0; start < BULK_COUNT; start += 100) {
    const ops = Array.from({ length: 100 }, (_, i) => ({ op: 'CREATE_INSTANCE', params: { machine: 'bulk', version: 1, instance_id: `bulk-${String(start + i).padStart(5, '0')}` } }));
    batches.push(client.batch({ mode: 'atomic', ops }));
  }
  await Promise.all(batches);
}

interface Row {
  label: string;
  description: string;
  index: number;
  setSize: number;
}

describe('choosing an instance in a real VS Code', () => {
  let main: EmulatorProcess;
  let other: EmulatorProcess;
  let client: RcpClient;
  let vs: VsCode;

  before(async () => {
    main = await startEmulator({ seed: 'demo' });
    other = await startEmulator({ seed: 'demo' });
    client = await RcpClient.connect({ host: main.host, port: main.port, requestTimeoutMs: 120_000 });
    await seedBulk(client);
    vs = await VsCode.launch({
      name: 'picker',
      settings: {
        'rstmdb.connections': [
          { name: 'Main', host: '127.0.0.1', port: main.port },
          { name: 'Other', host: '127.0.0.1', port: other.port },
        ],
      },
    });
    await vs.openExplorer();
    await vs.expand(/^Main$/);
    await vs.waitForRowLabel(/^connection Main, connected/);
  });

  after(async () => {
    await vs?.close();
    await client?.close();
    await main?.stop();
    await other?.stop();
  });

  const widget = () => vs.page.locator('.quick-input-widget');

  /** The quick pick's rendered rows (the list is virtual: the ones in view), in list order. */
  async function rows(): Promise<Row[]> {
    const all = await vs.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').evaluateAll((els) =>
      els.map((r) => ({
        label: (r.querySelector('.label-name')?.textContent ?? '').trim(),
        description: (r.querySelector('.label-description')?.textContent ?? '').trim(),
        index: Number(r.getAttribute('data-index') ?? -1),
        setSize: Number(r.getAttribute('aria-setsize') ?? 0),
        separator: /separator/.test(r.className) && !r.querySelector('.quick-input-list-checkbox, .quick-input-list-rows'),
      })),
    );
    return all.filter((r) => r.label && !r.separator).sort((a, b) => a.index - b.index);
  }

  async function waitForRows(check: (rows: Row[]) => boolean, what: string, timeout = 15_000): Promise<Row[]> {
    const deadline = Date.now() + timeout;
    let last: Row[] = [];
    while (Date.now() < deadline) {
      last = await rows();
      if (check(last)) return last;
      await vs.page.waitForTimeout(100);
    }
    throw new Error(`the pick never showed ${what}; rows: ${JSON.stringify(last.slice(0, 8))}`);
  }

  /** Runs a palette command (the row labelled exactly so) and waits for its pick. */
  async function openPick(command: string, title: string): Promise<void> {
    await vs.runCommand(command);
    await widget().locator('.quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 15_000 });
  }

  async function typeInPick(text: string): Promise<void> {
    await widget().locator('.quick-input-box input').fill(text);
  }

  async function closePick(): Promise<void> {
    await vs.page.keyboard.press('Escape');
    await widget().waitFor({ state: 'hidden', timeout: 5000 });
  }

  /** A bulk instance listed after the first 5,000: the pick never holds it, so it is reached by typing its id. */
  async function beyondTheCap() {
    const all = (await client.listInstances({ limit: 100_000 })).instances;
    return all.slice(5000).reverse().find((i) => i.machine === 'bulk')!;
  }

  const setSize = (rs: Row[]) => Math.max(0, ...rs.map((r) => r.setSize));

  test('the pick lists instances with machine, version and state, and loads the next page as the user scrolls', { timeout: 90_000 }, async () => {
    await vs.failureScreenshot('scroll', async () => {
      await openPick('rstmdb: Open Instance as JSON', 'Open Instance as JSON');
      const first = await waitForRows((rs) => rs.some((r) => /^(order|approval|task|bulk) v\d · \w+/.test(r.description)), 'listed instances');
      const size = setSize(first);
      // One page of 200 (and a separator and a "Load more" row).
      assert.ok(size >= 200 && size < 400, `one page listed (${size} rows)`);
      await vs.screenshot('first-page');
      // Keyboard: up from the first row wraps to the last one, and the next page loads.
      await vs.page.keyboard.press('ArrowUp');
      const second = await waitForRows((rs) => setSize(rs) >= size + 200, 'a second page after scrolling to the end');
      // The user's place is kept: on the first of the new rows, not thrown back to the top.
      const active = await vs.page.locator('.quick-input-widget .quick-input-list .monaco-list-row.focused').getAttribute('data-index');
      assert.ok(Number(active) > 150, `still near where the list ended (row ${active})`);
      // Mouse: the last row loads more when clicked, and the pick stays open.
      const more = widget().locator('.monaco-list-row', { hasText: 'Load more instances' }).first();
      await widget().locator('.quick-input-list').hover();
      for (let i = 0; i < 200 && !(await more.isVisible()); i++) await vs.page.mouse.wheel(0, 3000);
      await more.click();
      await waitForRows((rs) => setSize(rs) >= setSize(second) + 200, 'a third page after clicking Load more');
      assert.ok(await widget().isVisible(), 'the pick stays open');
      await vs.screenshot('after-scroll');
      await closePick();
    });
  });

  test('typing loads pages until something matches; an id that matches nothing loaded is looked up with GET_INSTANCE', { timeout: 90_000 }, async () => {
    await vs.failureScreenshot('typing', async () => {
      // Listed past the first page the pick shows (the server lists in hash order), within what it may hold.
      const listing = (await client.listInstances({ limit: 5000 })).instances;
      const far = listing.slice(200).find((i) => i.machine === 'task')!;
      await openPick('rstmdb: Open Instance as JSON', 'Open Instance as JSON');
      await waitForRows((rs) => rs.length > 5, 'the first page');
      // A prefix that names a handful of ids: pages load in the background until they show.
      await typeInPick(far.id.slice(0, -1));
      const found = await waitForRows((rs) => rs.some((r) => r.label === far.id && r.description === `task v1 · ${far.state}`), `${far.id} listed`, 30_000);
      assert.ok(found.length >= 2, 'its neighbours by id too');
      await vs.screenshot('typed-prefix');

      // Beyond what the pick holds: offered as typed, and resolved by id.
      const beyond = await beyondTheCap();
      await typeInPick(beyond.id);
      await waitForRows((rs) => rs[0]?.label === beyond.id && /found by id · bulk v1 · queued|^bulk v1 · queued$/.test(rs[0].description), `${beyond.id} resolved`, 30_000);
      await vs.screenshot('typed-resolved');

      await typeInPick('no-such-instance-42');
      const missing = await waitForRows((rs) => rs[0]?.label === 'no-such-instance-42' && /INSTANCE_NOT_FOUND/.test(rs[0].description), 'the unknown id reported');
      assert.equal(missing[0].label, 'no-such-instance-42', 'what was typed stays');
      await vs.screenshot('typed-unknown');

      // Enter takes the id as typed: the document of the instance found by id opens.
      await typeInPick(beyond.id);
      await waitForRows((rs) => rs[0]?.label === beyond.id, beyond.id);
      await vs.page.keyboard.press('Enter');
      await vs.page.locator('.tab', { hasText: `${beyond.id}.json` }).first().waitFor({ state: 'visible', timeout: 15_000 });
    });
  });

  test('recently used instances come first, with their current state', { timeout: 60_000 }, async () => {
    await vs.failureScreenshot('recent', async () => {
      const beyond = await beyondTheCap();
      await vs.runCommand('View: Close All Editors');
      // Moved by another client since it was used: the pick shows where it is now.
      await client.applyEvent({ instance_id: beyond.id, event: 'finish' });
      await openPick('rstmdb: Open Inspector', 'Open Inspector');
      // First, where it is now; the listing follows it (its first page arrives after the recent rows).
      await waitForRows((r) => r[0]?.label === beyond.id && /bulk v1 · done/.test(r[0].description) && r.length > 2, `${beyond.id} first, done, then the listing`);
      await vs.screenshot('recent-first');
      await closePick();
    });
  });

  test('commands on an instance default to the one selected in the tree, or shown in the active editor', { timeout: 90_000 }, async () => {
    await vs.failureScreenshot('selection', async () => {
      await vs.runCommand('View: Close All Editors');
      await vs.expand(/^order$/);
      await vs.expand(/^v1$/);
      await vs.expand(/^cancelled$/);
      const { instances } = await client.listInstances({ machine: 'order', state: 'cancelled', limit: 1 });
      const selected = instances[0].id;
      const row = await vs.waitForRow(selected);
      await row.click();
      await vs.page.locator('.part.sidebar .monaco-list-row[aria-selected="true"]', { hasText: selected }).first().waitFor({ state: 'visible' });
      // The click opened its inspector, which took the focus: keys typed in a webview do not reach the palette.
      await vs.page.locator('.part.sidebar .title-label').first().click();

      await openPick('rstmdb: Delete Instance', 'Delete Instance');
      const rs = await waitForRows((r) => r[0]?.label === selected, `${selected} first`);
      assert.match(rs[0].description, /selected in the tree|open in the inspector/);
      assert.match(rs[0].description, /order v1 · cancelled/);
      await vs.screenshot('selection-default');
      await vs.page.keyboard.press('Enter');
      const dialog = vs.page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible' });
      assert.match((await dialog.textContent()) ?? '', new RegExp(`Delete instance '${selected}'`));
      await dialog.locator('.monaco-button', { hasText: /^Cancel$/ }).click();
      await dialog.waitFor({ state: 'hidden' });
      assert.equal((await client.getInstance({ instance_id: selected })).state, 'cancelled', 'nothing deleted');

      // An instance document opened afterwards is what the user looks at now: it comes first, the tree's selection next.
      await vs.runCommand('View: Close All Editors');
      await openPick('rstmdb: Open Instance as JSON', 'Open Instance as JSON');
      await typeInPick('order-0003');
      await waitForRows((r) => r[0]?.label === 'order-0003', 'order-0003');
      await vs.page.keyboard.press('Enter');
      await vs.page.locator('.tab', { hasText: 'order-0003.json' }).first().waitFor({ state: 'visible', timeout: 15_000 });
      await vs.page.locator('.editor-instance .view-lines').first().click();
      await openPick('rstmdb: Copy Instance ID', 'Copy Instance ID');
      const copy = await waitForRows((r) => r[0]?.label === 'order-0003' && r[1]?.label === selected, `order-0003 then ${selected}`);
      assert.match(copy[0].description, /shown in the active editor/);
      await vs.page.keyboard.press('Enter');
      await vs.page.waitForFunction(() => [...document.querySelectorAll('.statusbar-item')].some((e) => /Copied order-0003/.test(e.textContent ?? '')), undefined, { timeout: 10_000 });
    });
  });

  test('with the cursor on an instance id in any editor, Find Instance offers it first; an unknown id falls back to the normal pick', { timeout: 90_000 }, async () => {
    await vs.failureScreenshot('cursor', async () => {
      await vs.runCommand('View: Close All Editors');
      await vs.collapse(/^order$/);
      await vs.runCommand('File: New Untitled Text File');
      const editor = vs.page.locator('.editor-instance .view-lines').first();
      await editor.waitFor({ state: 'visible' });
      await editor.click();
      await vs.page.keyboard.type('const unknown = "nope-0000";\nconst id = "task-0042";');
      await vs.page.keyboard.press('ArrowLeft');
      await vs.page.keyboard.press('ArrowLeft');
      await vs.page.keyboard.press('ArrowLeft');
      await openPick('rstmdb: Find Instance…', 'Find Instance');
      const rs = await waitForRows((r) => r[0]?.label === 'task-0042', 'task-0042 first');
      assert.match(rs[0].description, /under the cursor · task v1 · \w+/);
      await vs.screenshot('cursor-default');
      await vs.page.keyboard.press('Enter');
      await vs.page.waitForFunction(
        () => [...document.querySelectorAll('.part.sidebar .monaco-list-row[aria-selected="true"]')].some((r) => (r.getAttribute('aria-label') ?? '').startsWith('instance task-0042 ')),
        undefined,
        { timeout: 15_000 },
      );

      // The cursor on an id the server does not know: the normal pick, nothing offered from the editor.
      await editor.click();
      await vs.page.keyboard.press('Control+Home');
      await vs.page.keyboard.press('End');
      await vs.page.keyboard.press('ArrowLeft');
      await vs.page.keyboard.press('ArrowLeft');
      await vs.page.keyboard.press('ArrowLeft');
      await openPick('rstmdb: Find Instance…', 'Find Instance');
      const normal = await waitForRows((r) => r.length > 3, 'the normal pick');
      assert.ok(!normal.some((r) => r.label === 'nope-0000'), 'the unknown id is not offered');
      assert.ok(!normal.some((r) => /under the cursor/.test(r.description)));
      await closePick();
      await vs.runCommand('View: Revert and Close Editor');
    });
  });

  test('Connect lists only connections not connected, Disconnect only connected ones; connecting does not switch the active one', { timeout: 60_000 }, async () => {
    await vs.failureScreenshot('connect-lists', async () => {
      // Both connection rows in view: the tree's Collapse All.
      await vs.page.locator('.part.sidebar .actions-container [aria-label*="Collapse All"]').first().click();
      await vs.waitForRow(/^Other$/);
      await openPick('rstmdb: Connect', 'Connect');
      let rs = await waitForRows((r) => r.length > 0, 'connections');
      assert.deepEqual(rs.map((r) => r.label), ['Other']);
      await closePick();
      await openPick('rstmdb: Disconnect', 'Disconnect');
      rs = await waitForRows((r) => r.length > 0, 'connections');
      assert.deepEqual(rs.map((r) => r.label), ['Main']);
      await closePick();

      await openPick('rstmdb: Connect', 'Connect');
      await vs.pick(/^Other$/);
      await vs.waitForRowLabel(/^connection Other, connected/);
      assert.match(await vs.statusBarText(), /rstmdb: Main$/, 'still the active connection');
      await vs.runCommand('rstmdb: Connect');
      // Nothing left to connect: said so, no empty pick.
      await vs.waitForNotification(/Every rstmdb connection is already connected/);
    });
  });

  test('when the active connection fails or is removed, another connected one becomes active and the status bar says which', { timeout: 90_000 }, async () => {
    await vs.failureScreenshot('fallback', async () => {
      await vs.page.keyboard.press('Escape');
      assert.match(await vs.statusBarText(), /rstmdb: Main$/);
      await main.kill();
      await vs.waitForRowLabel(/^connection Main, reconnecting/, 15_000);
      await vs.page.waitForFunction(() => [...document.querySelectorAll('.statusbar-item')].some((e) => /rstmdb: Other$/.test((e.textContent ?? '').trim())), undefined, { timeout: 30_000 });
      await vs.waitForNotification(/'Main' is unreachable; 'Other' is now the active connection/);
      await vs.screenshot('fallback-unreachable');
      // Back again: the user's switch, not an automatic one, makes it active again.
      await main.restart();
      await vs.waitForRowLabel(/^connection Main, connected/, 30_000);
      assert.match(await vs.statusBarText(), /rstmdb: Other$/);

      await vs.runCommand('rstmdb: Remove Connection');
      await vs.pick(/^Other$/);
      const dialog = vs.page.locator('.monaco-dialog-box');
      await dialog.locator('.monaco-button', { hasText: /^Remove$/ }).click();
      await vs.page.waitForFunction(() => [...document.querySelectorAll('.statusbar-item')].some((e) => /rstmdb: Main$/.test((e.textContent ?? '').trim())), undefined, { timeout: 15_000 });
      await vs.waitForNotification(/'Other' was removed; 'Main' is now the active connection/);
    });
  });
});
