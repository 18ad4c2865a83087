/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { VsCode } from './harness';

/** A seeded order in 'paid' (created, then paid): the first listed, so its row is on screen. */
let ID = '';

/** The inspector's own frame (inside VS Code's webview iframe) for one instance. */
async function inspectorFrame(vs: VsCode, instanceId: string, timeout = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const f of vs.page.frames()) {
      const ok = await f
        .evaluate((id) => document.body?.dataset.view === 'instance' && document.querySelector('.instance-id')?.textContent === id, instanceId)
        .catch(() => false);
      if (ok) return f;
    }
    await vs.page.waitForTimeout(200);
  }
  throw new Error(`no inspector for ${instanceId} appeared within ${timeout} ms`);
}

async function historyRows(frame: Frame): Promise<string[]> {
  return frame.$$eval('.history-row', (rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeout = 10_000): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** What has keyboard focus inside the frame: a state or transition of the diagram, and whether its focus ring is drawn. */
async function diagramFocus(frame: Frame): Promise<{ state?: string; event?: string; ring: string; tabStops: number }> {
  return frame.evaluate(() => {
    const a = document.activeElement as SVGGElement | null;
    const ring = a?.querySelector('.focus-ring');
    return {
      state: a?.getAttribute('data-state') ?? undefined,
      event: a?.classList.contains('edge') ? (a.getAttribute('data-event') ?? undefined) : undefined,
      ring: ring ? getComputedStyle(ring).stroke : 'none',
      tabStops: document.querySelectorAll('.diagram [tabindex="0"]').length,
    };
  });
}

/** Keyboard focus into the diagram as a user gets it: a click on its background, then Home (the current state). */
async function focusDiagram(vs: VsCode, frame: Frame): Promise<void> {
  const svg = frame.locator('.diagram-svg');
  const box = await svg.boundingBox();
  assert.ok(box, 'the diagram is on screen');
  await svg.click({ position: { x: 4, y: box.height - 4 } });
  await vs.page.keyboard.press('Home');
}

describe('the instance inspector in a real VS Code', { timeout: 300_000 }, () => {
  let emu: EmulatorProcess;
  let client: RcpClient;
  let vs: VsCode;

  before(async () => {
    emu = await startEmulator({ seed: 'demo' });
    client = await RcpClient.connect({ host: emu.host, port: emu.port });
    ID = (await client.listInstances({ machine: 'order', state: 'paid', limit: 1 })).instances[0].id;
    vs = await VsCode.launch({
      name: 'inspector',
      settings: { 'rstmdb.connections': [{ name: 'Local demo', host: '127.0.0.1', port: emu.port }] },
    });
    await vs.openExplorer();
  });

  after(async () => {
    await vs?.close();
    await client?.close();
    await emu?.stop();
  });

  test('opened from an instance row: the current state is highlighted and the seeded history is listed', { timeout: 90_000 }, async () => {
    await vs.failureScreenshot('inspector-open', async () => {
      await vs.expand('Local demo');
      await vs.expand('order');
      await vs.expand('v1');
      await vs.expand(/^paid$/);
      await (await vs.waitForRow(ID)).click();
      const frame = await inspectorFrame(vs, ID);
      await frame.waitForSelector('g.state[data-state="paid"][aria-current="true"]', { timeout: 15_000 });
      assert.equal(await frame.$eval('.state-badge', (b) => b.textContent?.trim()), 'paid');
      // ship's guard (address set, not on hold) passes on a seeded order's context.
      assert.equal(await frame.$eval('.edge.out[data-event="ship"]', (e) => e.getAttribute('data-verdict')), 'pass');
      assert.equal(await frame.$$eval('g.state.current', (s) => s.length), 1);
      assert.equal(await frame.$eval('body', (b) => b.dataset.cspViolations), '0');
      const tabTitle = await vs.page.locator('.tab.active .label-name, .tab.active .monaco-icon-label').first().textContent();
      assert.match(tabTitle ?? '', new RegExp(`${ID} · order v1`));

      await frame.click('vscode-tab-header:nth-of-type(2)');
      const rows = await until('two history rows', async () => {
        const r = await historyRows(frame);
        return r.length === 2 && r;
      });
      assert.match(rows[0], /^pay created → paid, WAL offset \d+/);
      assert.match(rows[1], /^created in created, WAL offset \d+/);
      // Selecting the creation shows the whole initial context as added.
      await frame.click('.history-row[data-kind="create"]');
      await frame.waitForSelector('.history-detail .change.added[aria-label="added ctx.customer"]', { timeout: 10_000 });
      await vs.screenshot('inspector-dark');
    });
  });

  test('an event applied by another client appears live in the header, diagram and history', { timeout: 60_000 }, async () => {
    await vs.failureScreenshot('inspector-live', async () => {
      const frame = await inspectorFrame(vs, ID);
      const started = Date.now();
      await client.applyEvent({ instance_id: ID, event: 'ship', payload: { carrier: 'DHL' } });
      await frame.waitForSelector('g.state[data-state="shipped"][aria-current="true"]', { timeout: 5000 });
      const took = Date.now() - started;
      assert.equal(await frame.$eval('.state-badge', (b) => b.textContent?.trim()), 'shipped');
      const rows = await until('three history rows', async () => {
        const r = await historyRows(frame);
        return r.length === 3 && r;
      }, 5000);
      assert.match(rows[0], /^ship paid → shipped/);
      assert.ok(took < 5000, `shown after ${took} ms`);
    });
  });

  test('the diagram by keyboard: arrows move between states and transitions with a focus ring, Enter on a way out starts Apply Event', { timeout: 60_000 }, async () => {
    await vs.failureScreenshot('inspector-keyboard', async () => {
      const frame = await inspectorFrame(vs, ID);
      await frame.waitForSelector('g.state[data-state="shipped"][aria-current="true"]', { timeout: 5000 });
      await focusDiagram(vs, frame);
      let f = await diagramFocus(frame);
      assert.equal(f.state, 'shipped', 'Home goes to the current state');
      assert.notEqual(f.ring, 'none', 'the focused state has a visible focus ring');
      assert.equal(f.tabStops, 1, 'the diagram is one Tab stop');
      // Along the flow (left to right, or top to bottom in a tall pane): shipped, its way out, delivered.
      const forward = (await frame.$eval('.diagram', (d) => (d as HTMLElement).dataset.rankdir)) === 'TB' ? 'ArrowDown' : 'ArrowRight';
      const back = forward === 'ArrowDown' ? 'ArrowUp' : 'ArrowLeft';
      await vs.page.keyboard.press(forward);
      f = await diagramFocus(frame);
      assert.equal(f.event, 'deliver', 'the next stop along the flow is the transition out');
      assert.notEqual(f.ring, 'none');
      await vs.page.keyboard.press(forward);
      assert.equal((await diagramFocus(frame)).state, 'delivered');
      await vs.page.keyboard.press(back);
      assert.equal((await diagramFocus(frame)).event, 'deliver');
      await vs.screenshot('inspector-keyboard-focus');
      // Enter on the way out of the current state: Apply Event opens its payload editor; closing it cancels.
      await vs.page.keyboard.press('Enter');
      await vs.waitForPayloadEditor('deliver');
      // Its own tab's close button: a palette command could close the inspector's group along with it.
      const tab = vs.page.locator('.tabs-container .tab', { hasText: 'deliver.json' });
      await tab.hover();
      await tab.locator('.tab-actions .action-label').first().click();
      await tab.waitFor({ state: 'detached', timeout: 10_000 });
      assert.equal(await vs.page.locator('.monaco-dialog-box').count(), 0, 'closing never asks to save');
      assert.equal((await client.getInstance({ instance_id: ID })).state, 'shipped', 'nothing applied without the payload step');
    });
  });

  test('clicking a passing transition applies it through Apply Event and the server has the new state', { timeout: 60_000 }, async () => {
    await vs.failureScreenshot('inspector-apply', async () => {
      const frame = await inspectorFrame(vs, ID);
      const edge = await frame.waitForSelector('.edge.out.pass[data-event="deliver"]', { timeout: 5000 });
      await edge.click();
      await vs.sendPayload('deliver', '{"signed_by": "ada"}');
      await until('the server to report delivered', async () => (await client.getInstance({ instance_id: ID })).state === 'delivered');
      await frame.waitForSelector('g.state[data-state="delivered"][aria-current="true"]', { timeout: 5000 });
      assert.equal((await client.getInstance({ instance_id: ID })).ctx.signed_by, 'ada');
    });
  });

  test('light, dark and high-contrast themes', { timeout: 90_000 }, async () => {
    await vs.failureScreenshot('themes', async () => {
      // The picker's names for Default Light Modern, Default High Contrast, Default High Contrast Light, Default Dark Modern.
      // The picker calls them Light Modern, Dark High Contrast, ... (settings: Default Light Modern, Default High Contrast, ...).
      const themes: [string, RegExp, string, string][] = [
        ['Light Modern', /^(Default )?Light Modern$/, 'vscode-light', 'light'],
        ['High Contrast', /^(Dark High Contrast|Default High Contrast)$/, 'vscode-high-contrast', 'hc-dark'],
        ['High Contrast', /^(Light High Contrast|Default High Contrast Light)$/, 'vscode-high-contrast-light', 'hc-light'],
        ['Dark Modern', /^(Default )?Dark Modern$/, 'vscode-dark', 'dark'],
      ];
      for (const [filter, row, cls, name] of themes) {
        await vs.setColorTheme(filter, row);
        const frame = await inspectorFrame(vs, ID);
        await frame.waitForFunction((c) => document.body.classList.contains(c), cls, { timeout: 15_000 });
        // The keyboard focus ring shows in every theme (it takes the theme's focus colour).
        await focusDiagram(vs, frame);
        const f = await diagramFocus(frame);
        assert.equal(f.state, 'delivered', `${name}: focus on the current state`);
        assert.notEqual(f.ring, 'none', `${name}: a focus ring is drawn`);
        await vs.screenshot(`theme-${name}`);
      }
    });
  });

  test('the machine view draws a version and compares it with another', { timeout: 60_000 }, async () => {
    await vs.failureScreenshot('machine-view', async () => {
      await vs.runCommand('rstmdb: Show Machine Diagram');
      await vs.pick(/^approval v2$/);
      const frame = await until('the machine view', async () => {
        for (const f of vs.page.frames()) {
          if (await f.evaluate(() => document.body?.dataset.view === 'machine' && document.body.dataset.ready === 'true').catch(() => false)) return f;
        }
        return undefined;
      }, 30_000);
      await frame.waitForSelector('g.state[data-state="in_review"]');
      assert.equal(await frame.$$eval('g.state', (s) => s.length), 5);
      await frame.selectOption('#compare', '1');
      // v2 added in_review and the transitions through it; it dropped submitted → approved.
      await frame.waitForSelector('g.state.added[data-state="in_review"]', { timeout: 10_000 });
      assert.ok(await frame.$('.edge.removed[data-event="approve"][data-from="submitted"]'));
      assert.ok(await frame.$('.edge.added[data-event="review"]'));
      assert.match(await frame.$eval('.compare-summary', (p) => p.textContent ?? ''), /1 state added, 0 removed;\s+3 transitions added, 1 removed/);
      assert.equal(await frame.$eval('body', (b) => b.dataset.cspViolations), '0');
      await vs.screenshot('machine-compare');
      await vs.runCommand('View: Close Editor');
    });
  });

  test('the WAL explorer shows the log\'s stats and records, filters by instance, and an entry opens its instance', { timeout: 60_000 }, async () => {
    await vs.failureScreenshot('wal-explorer', async () => {
      await vs.runCommand('rstmdb: Show WAL');
      const frame = await until('the WAL explorer', async () => {
        for (const f of vs.page.frames()) {
          if (await f.evaluate(() => document.body?.dataset.view === 'wal' && document.body.dataset.ready === 'true').catch(() => false)) return f;
        }
        return undefined;
      }, 30_000);
      const { entry_count } = await client.walStats();
      assert.equal(await frame.$eval('[data-stat="entries"]', (d) => d.textContent), entry_count.toLocaleString('en-US'));
      assert.equal(await frame.$eval('tbody tr', (r) => r.getAttribute('data-type')), 'put_machine');
      await frame.fill('#instance', ID);
      await frame.press('#instance', 'Enter');
      const types = await until('the instance\'s four records', async () => {
        const t = await frame.$$eval('tbody tr', (rows) => rows.map((r) => r.getAttribute('data-type')));
        return t.length === 4 && t;
      });
      assert.deepEqual(types, ['create_instance', 'apply_event', 'apply_event', 'apply_event']);
      await vs.screenshot('wal-explorer');
      await frame.click('tbody tr[data-type="create_instance"]');
      await until('the inspector in front', async () => ((await vs.page.locator('.tab.active').first().textContent()) ?? '').includes(ID));
    });
  });

  test('after Developer: Reload Window the inspector comes back with the same instance and tab', { timeout: 90_000 }, async () => {
    await vs.failureScreenshot('inspector-reload', async () => {
      let frame = await inspectorFrame(vs, ID);
      await frame.click('vscode-tab-header:nth-of-type(2)');
      assert.equal(await frame.$eval('vscode-tabs', (t) => t.getAttribute('selected-index')), '1');
      // The old page's workbench and webview frames linger until the reload navigates: wait for the new page's load first.
      const reloaded = vs.page.waitForEvent('load', { timeout: 60_000 });
      await vs.runCommand('Developer: Reload Window');
      await reloaded;
      await vs.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
      frame = await inspectorFrame(vs, ID, 60_000);
      await frame.waitForSelector('g.state[data-state="delivered"][aria-current="true"]', { timeout: 20_000 });
      assert.equal(await frame.$eval('vscode-tabs', (t) => t.getAttribute('selected-index')), '1');
      await vs.screenshot('inspector-restored');
    });
  });

  test('Apply Event\'s success message opens the inspector for that instance', { timeout: 90_000 }, async () => {
    await vs.failureScreenshot('inspector-from-apply', async () => {
      const id = 'e2e-open-inspector';
      await vs.runCommand('Notifications: Clear All Notifications');
      // The tree as the user left it after the reload: collapsed.
      for (const row of ['Local demo', 'order', 'v1', /^created$/]) await vs.expand(row);
      // Created once the state is listed: it arrives live, at the top of its state.
      await client.createInstance({ machine: 'order', version: 1, instance_id: id, initial_ctx: { amount: 12 } });
      const row = await vs.waitForRow(id);
      await row.hover();
      await row.locator('.action-label[aria-label^="Apply Event"]').click();
      await vs.answer('cancel', `Apply Event to ${id}`);
      await vs.sendPayload('cancel', '{}');
      await vs.waitForNotification(new RegExp(`${id}: created → cancelled on 'cancel'`));
      await vs.page.locator('.notifications-toasts .notification-toast .monaco-button', { hasText: /^Open Inspector$/ }).first().click();
      const frame = await inspectorFrame(vs, id);
      await frame.waitForSelector('g.state[data-state="cancelled"][aria-current="true"]', { timeout: 15_000 });
      assert.equal(await frame.$eval('.state-badge', (b) => b.textContent?.trim()), 'cancelled');
      await until('its tab in front', async () => ((await vs.page.locator('.tab.active').first().textContent()) ?? '').includes(`${id} · order v1`));
    });
  });

  test('an instance deleted by another client: its inspector says so, offers to close, and Close closes it', { timeout: 60_000 }, async () => {
    await vs.failureScreenshot('inspector-deleted', async () => {
      const id = 'e2e-open-inspector';
      const frame = await inspectorFrame(vs, id);
      await client.deleteInstance({ instance_id: id });
      const banner = await frame.waitForSelector('.banner.deleted', { timeout: 10_000 });
      assert.match((await banner.textContent()) ?? '', /This instance was deleted/);
      // Nothing is offered that would write to it.
      assert.equal(await frame.$eval('vscode-toolbar-button[icon="play"]', (b) => b.hasAttribute('disabled')), true);
      assert.equal(await frame.$eval('vscode-toolbar-button[icon="trash"]', (b) => b.hasAttribute('disabled')), true);
      await vs.screenshot('inspector-deleted');
      await frame.click('.banner.deleted vscode-toolbar-button[icon="close"]');
      await until('its tab closed', async () => (await vs.page.locator('.tab', { hasText: `${id} · order v1` }).count()) === 0);
    });
  });
  test('Disconnect in the tree: the open inspector says it is out of date and does not connect again; Connect in its banner does', { timeout: 60_000 }, async () => {
    await vs.failureScreenshot('inspector-disconnected', async () => {
      const id = 'e2e-offline';
      await client.createInstance({ machine: 'order', version: 1, instance_id: id, initial_ctx: { amount: 3 } });
      await vs.runCommand('rstmdb: Open Inspector');
      await vs.answer(id, 'Open Inspector');
      const frame = await inspectorFrame(vs, id);
      await frame.waitForSelector('g.state[data-state="created"][aria-current="true"]', { timeout: 15_000 });

      const connection = await vs.waitForRow(/^Local demo$/);
      await connection.hover();
      await connection.locator('.action-label[aria-label^="Disconnect"]').click();
      await vs.waitForRowLabel(/^connection Local demo, disconnected/, 10_000);
      // Said from what was shown: reading again would have connected behind the user's back (and said "connecting").
      const banner = await frame.waitForSelector('.banner.offline', { timeout: 10_000 });
      assert.equal((await banner.textContent())?.replace(/\s+/g, ' ').trim(), 'The connection is disconnected; what is shown may be out of date. Connect');
      // Another client moves it meanwhile: the inspector does not see it, and the connection stays as the user left it.
      await client.applyEvent({ instance_id: id, event: 'pay', payload: {} });
      await vs.waitForRowLabel(/^connection Local demo, disconnected/, 5000);
      assert.equal(await frame.$eval('.state-badge', (b) => b.textContent?.trim()), 'created');
      await vs.screenshot('inspector-disconnected');

      // Connect from the banner: connected again, and the move is shown.
      await frame.click('.banner.offline vscode-toolbar-button[icon="plug"]');
      await frame.waitForSelector('g.state[data-state="paid"][aria-current="true"]', { timeout: 15_000 });
      await vs.waitForRowLabel(/^connection Local demo, connected/, 15_000);
      assert.equal(await frame.$('.banner.offline'), null);
    });
  });
});
