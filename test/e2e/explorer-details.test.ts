/// <reference lib="dom" />
/**
 * The explorer's smaller promises in a real VS Code: Copy Instance ID (what lands on
 * the clipboard), Open Instance from a row's context menu and the palette, the instance tooltip and relative times, Refresh, and the protocol trace
 * (tokens redacted) that also shows the WAL is read only while the view is visible.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { VsCode } from './harness';

const STEP = { timeout: 120_000 };
const TOKEN = 'details-token-5be1c0ffee';

describe('explorer details in a real VS Code', { timeout: 600_000 }, () => {
  let emu: EmulatorProcess | undefined;
  let client: RcpClient | undefined;
  let vs: VsCode;
  let id = '';

  before(async () => {
    emu = await startEmulator({ seed: 'demo', token: TOKEN });
    client = await RcpClient.connect({ host: emu.host, port: emu.port, token: TOKEN });
    await client.putMachine({ machine: 'gadget', version: 1, definition: { states: ['new', 'done'], initial: 'new', transitions: [{ from: 'new', event: 'finish', to: 'done' }, { from: 'done', event: 'reopen', to: 'new' }] } });
    id = (await client.createInstance({ machine: 'gadget', version: 1, instance_id: 'gadget-1', initial_ctx: { colour: 'teal' } })).instance_id;
    vs = await VsCode.launch({
      name: 'explorer-details',
      // The protocol trace is on, as a user would turn it on to report a problem.
      args: ['--log', 'trace'],
      settings: { 'rstmdb.connections': [{ name: 'Details', host: '127.0.0.1', port: emu.port }] },
    });
    await vs.openExplorer();
    // The token goes to the secret store the way a user would put it there.
    await vs.editConnectionToken('Details', TOKEN);
  }, STEP);

  after(async () => {
    await vs?.close();
    await client?.close();
    await emu?.stop();
  }, STEP);

  async function showGadget(): Promise<void> {
    await vs.expand(/^Details$/);
    await vs.waitForRowLabel(/^connection Details, connected/);
    await vs.expand('gadget');
    await vs.expand('v1');
    await vs.expand(/^new$/);
    await vs.waitForRow(id);
  }

  async function editorShowsInstance(): Promise<void> {
    await vs.page.waitForFunction(
      (want) => [...document.querySelectorAll('.editor-instance .view-lines')].some((e) => (e.textContent ?? '').replace(/\s+/g, ' ').includes(want)),
      `"instance_id": "${id}"`,
      { timeout: 15_000 },
    );
    const text = await vs.page.locator('.editor-instance .view-lines').first().textContent();
    assert.match((text ?? '').replace(/\s+/g, ' '), /"state": "new"/);
    await vs.runCommand('View: Close All Editors');
  }

  test('Copy Instance ID from the row\'s context menu puts exactly the id on the clipboard', STEP, async () => {
    await vs.failureScreenshot('copy-id', async () => {
      await showGadget();
      await vs.page.evaluate(() => navigator.clipboard.writeText('nothing copied yet'));
      await vs.contextMenuAction(id, 'Copy Instance ID');
      await vs.waitForClipboard(id);
    });
  });

  test('Open Instance: from the row\'s context menu and the palette', STEP, async () => {
    await vs.failureScreenshot('open-instance', async () => {
      await showGadget();
      // (The row's inline action opens the inspector: the inspector's tests cover it.)
      await vs.contextMenuAction(id, 'Open Instance as JSON');
      await editorShowsInstance();

      await vs.runCommand('rstmdb: Open Instance as JSON');
      await vs.answerInstance(id, 'Open Instance as JSON');
      await editorShowsInstance();
    });
  });

  test('an instance row shows when it was updated, and its tooltip says state, machine, WAL offset and times', STEP, async () => {
    await vs.failureScreenshot('tooltip', async () => {
      await showGadget();
      const inst = await client!.getInstance({ instance_id: id });
      await vs.waitForRowLabel(new RegExp(`^instance ${id} in new, updated (just now|\\d+[smh] ago)$`));
      await (await vs.waitForRow(id)).locator('.label-name').hover();
      const hover = vs.page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'Last WAL offset' }).first();
      await hover.waitFor({ state: 'visible', timeout: 10_000 });
      const text = ((await hover.textContent()) ?? '').replace(/\s+/g, ' ');
      await vs.screenshot('instance-tooltip');
      assert.ok(text.includes(id), text);
      assert.match(text, /State new/);
      assert.match(text, /Machine gadget v1/);
      assert.match(text, new RegExp(`Last WAL offset ${inst.last_wal_offset}\\b`));
      assert.match(text, /Created \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \((just now|\d+[smh] ago)\)/);
      await vs.page.mouse.move(5, 5);
    });
  });

  test('Refresh in the view title re-reads the tree: counts are the server\'s', STEP, async () => {
    await vs.failureScreenshot('refresh', async () => {
      await showGadget();
      await vs.page.locator('.part.sidebar .title-actions .action-label[aria-label="Refresh"], .part.sidebar .actions-container .action-label[aria-label="Refresh"]').first().click();
      await showGadget();
      const { total } = await client!.listInstances({ machine: 'gadget', state: 'new', limit: 1 });
      await vs.waitForRowLabel(new RegExp(`^state new, ${total}\\b`));
    });
  });

  test('with tracing on the token is never logged, and the WAL is read only while the view is visible', STEP, async () => {
    await vs.failureScreenshot('trace', async () => {
      await showGadget();
      const walReads = () => (vs.extensionLog().match(/\[Details\] → \{[^\n]*"op":"WAL_READ"/g) ?? []).length;
      // Tracing is on: requests are in the log, AUTH among them, its token redacted.
      const log = vs.extensionLog();
      assert.match(log, /\[Details\] → \{[^\n]*"op":"AUTH"[^\n]*"token":"\*\*\*"/);
      assert.ok(!log.includes(TOKEN), 'the token is not in the log');
      const deadline = Date.now() + 10_000;
      const first = walReads();
      while (walReads() <= first && Date.now() < deadline) await vs.page.waitForTimeout(200);
      assert.ok(walReads() > first, 'the WAL is read while the view is visible');

      // Hidden: no WAL reads. A positive marker first: a live event still reaches the log.
      await vs.page.locator('.activitybar [aria-label*="Explorer"]').first().click();
      await vs.page.locator('.part.sidebar .title-label', { hasText: /explorer/i }).first().waitFor({ state: 'visible' });
      // The window is opened and closed by live events, which reach the log whatever the view shows:
      // WAL reads logged between them happened while the view was hidden.
      const eventLines = () => [...vs.extensionLog().matchAll(new RegExp(`\\[Details\\] ← \\{[^\\n]*"type":"event"[^\\n]*"${id}"`, 'g'))];
      const eventsLogged = async (n: number) => {
        const until = Date.now() + 10_000;
        while (eventLines().length < n && Date.now() < until) await vs.page.waitForTimeout(200);
        assert.ok(eventLines().length >= n, `live event ${n} was traced`);
      };
      const before = eventLines().length;
      await client!.applyEvent({ instance_id: id, event: 'finish' });
      await eventsLogged(before + 1);
      // Two WAL poll intervals would fit in this window.
      await vs.page.waitForTimeout(2500);
      await client!.applyEvent({ instance_id: id, event: 'reopen' });
      await eventsLogged(before + 2);
      const [opened, closed] = eventLines().slice(before, before + 2).map((m) => m.index!);
      const readsWhileHidden = (vs.extensionLog().slice(opened, closed).match(/\[Details\] → \{[^\n]*"op":"WAL_READ"/g) ?? []).length;
      assert.equal(readsWhileHidden, 0, 'no WAL reads while the view is hidden');
      const hiddenAt = walReads();
      await vs.openExplorer();
      const back = Date.now() + 10_000;
      while (walReads() <= hiddenAt && Date.now() < back) await vs.page.waitForTimeout(200);
      assert.ok(walReads() > hiddenAt, 'the WAL is read again once the view is visible');
    });
  });
});
