/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { VsCode } from './harness';

/** A new machine written as a file, with one mistake the server refuses: two transitions out of 'paid' on 'cancel'. */
const SHIPMENT = `{
  "states": ["created", "paid", "shipped", "cancelled"],
  "initial": "created",
  "transitions": [
    { "from": "created", "event": "pay", "to": "paid", "guard": "ctx.amount > 0 && ctx.currency == \\"EUR\\"" },
    { "from": ["created", "paid"], "event": "cancel", "to": "cancelled" },
    { "from": "paid", "event": "ship", "to": "shipped", "guard": "!ctx.on_hold" },
    { "from": "paid", "event": "cancel", "to": "created" }
  ]
}
`;

/** The same machine with the clash resolved (the second 'cancel' from 'paid' removed). */
const FIXED = SHIPMENT.replace(/,\n {4}\{ "from": "paid", "event": "cancel", "to": "created" \}/, '');

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeout = 30_000): Promise<T> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('machine definition files in a real VS Code', { timeout: 300_000 }, () => {
  let emu: EmulatorProcess;
  let client: RcpClient;
  let vs: VsCode;

  before(async () => {
    emu = await startEmulator({ seed: 'demo' });
    client = await RcpClient.connect({ host: emu.host, port: emu.port });
    vs = await VsCode.launch({
      name: 'definitions',
      settings: { 'rstmdb.connections': [{ name: 'Local demo', host: '127.0.0.1', port: emu.port }] },
      files: { 'shipment.machine.json': SHIPMENT },
    });
  });

  after(async () => {
    await vs?.close();
    await client?.close();
    await emu?.stop();
  });

  test('a duplicate (state, event) pair is an error in the editor and in Problems; guards are highlighted and explained on hover', { timeout: 120_000 }, async () => {
    await vs.failureScreenshot('duplicate', async () => {
      await vs.openFile('shipment.machine.json');
      const squiggle = vs.page.locator('.monaco-editor .squiggly-error');
      await squiggle.first().waitFor({ state: 'attached', timeout: 20_000 });
      await vs.runCommand('View: Toggle Problems');
      const problem = vs.page.locator('.markers-panel .monaco-list-row', { hasText: "state 'paid' already has a transition on event 'cancel'" }).first();
      await problem.waitFor({ state: 'visible', timeout: 15_000 });
      // Where it is: the second 'cancel' (line 8), not the first.
      assert.match((await problem.getAttribute('aria-label')) ?? (await problem.textContent()) ?? '', /\b8\b/);

      // The guard's parts are coloured apart from the JSON string around them (the editor merges equally coloured tokens into one span).
      const token = (text: RegExp) => vs.page.locator('.view-lines .view-line span span', { hasText: text }).first();
      const colour = (text: RegExp) => token(text).evaluate((el) => getComputedStyle(el).color);
      const plain = await colour(/^"created"$/);
      assert.notEqual(await colour(/^ctx$/), plain, 'ctx is not coloured as a string');
      assert.notEqual(await colour(/^\.amount$/), plain, 'the path is not coloured as a string');
      assert.notEqual(await colour(/^\s*&&\s*$/), plain, '&& is not coloured as a string');
      await vs.screenshot('dark-diagnostics');

      await token(/^\.amount$/).hover();
      const hover = vs.page.locator('.monaco-hover', { hasText: 'Paths read' }).first();
      await hover.waitFor({ state: 'visible', timeout: 15_000 });
      const text = (await hover.textContent()) ?? '';
      assert.match(text, /ctx\.amount/);
      assert.match(text, /ctx\.currency/);
      assert.match(text, /&&/);
      await vs.screenshot('dark-hover');

      await vs.setColorTheme('Light Modern', /^(Default )?Light Modern$/);
      await vs.page.waitForFunction(() => document.querySelector('.monaco-workbench')?.classList.contains('vs') ?? false, undefined, { timeout: 15_000 });
      await vs.page.mouse.move(0, 0);
      await token(/^\.amount$/).hover();
      await vs.page.locator('.monaco-hover', { hasText: 'Paths read' }).first().waitFor({ state: 'visible', timeout: 15_000 });
      await vs.screenshot('light-hover');
    });
  });

  test('Deploy through the CodeLens stores the file as a new version, which appears in the tree', { timeout: 150_000 }, async () => {
    await vs.failureScreenshot('deploy', async () => {
      await vs.setColorTheme('Dark Modern', /^(Default )?Dark Modern$/);
      await vs.openExplorer();
      await vs.expand('Local demo');
      await vs.waitForRow('order');
      assert.ok(FIXED !== SHIPMENT, 'the fixture has the clash to remove');
      writeFileSync(join(vs.workspace, 'shipment.machine.json'), FIXED);
      // The editor reloads the file from disk, and its error goes away.
      await vs.page.locator('.monaco-editor .squiggly-error').first().waitFor({ state: 'detached', timeout: 20_000 });

      const lens = (text: string | RegExp) => vs.page.locator('.codelens-decoration a', { hasText: text }).first();
      await lens('Deploy to Local demo as shipment v1').waitFor({ state: 'visible', timeout: 20_000 });
      await lens('Preview diagram').waitFor({ state: 'visible' });
      await vs.screenshot('dark-codelens');
      await lens('Deploy to Local demo as shipment v1').click();
      await vs.waitForNotification(/Deployed shipment\.machine\.json to 'Local demo' as shipment v1/);
      // In the tree without a refresh, and on the server.
      await vs.waitForRow(/^shipment$/, 10_000);
      const stored = (await client.listMachines()).items.find((i) => i.machine === 'shipment');
      assert.deepEqual(stored?.versions, [1]);
      const { definition } = await client.getMachine({ machine: 'shipment', version: 1 });
      assert.equal(definition.transitions.length, 3);
      // Deploying the same file again has nothing to do.
      await lens('Deployed to Local demo as shipment v1').waitFor({ state: 'visible', timeout: 10_000 });

      // A changed file goes to v2, which appears under the machine.
      await vs.expand(/^shipment$/);
      await vs.waitForRow(/^v1$/);
      writeFileSync(join(vs.workspace, 'shipment.machine.json'), FIXED.replace('"shipped", "cancelled"]', '"shipped", "delivered", "cancelled"]').replace('"to": "shipped", "guard": "!ctx.on_hold" }', '"to": "shipped", "guard": "!ctx.on_hold" },\n    { "from": "shipped", "event": "deliver", "to": "delivered" }'));
      await lens('Deploy to Local demo as shipment v2').waitFor({ state: 'visible', timeout: 20_000 });
      await lens('Deploy to Local demo as shipment v2').click();
      await vs.waitForNotification(/as shipment v2/);
      await vs.waitForRow(/^v2$/, 10_000);
      assert.deepEqual((await client.listMachines()).items.find((i) => i.machine === 'shipment')?.versions, [1, 2]);
      await lens('Diff with deployed').waitFor({ state: 'visible' });
      await vs.setColorTheme('Light Modern', /^(Default )?Light Modern$/);
      await lens('Deployed to Local demo as shipment v2').waitFor({ state: 'visible', timeout: 10_000 });
      await vs.screenshot('light-codelens');
    });
  });

  test('Preview diagram draws the file; the tree\'s versions open read-only, compare, and save as a file', { timeout: 150_000 }, async () => {
    await vs.failureScreenshot('versions', async () => {
      // The preview: the file drawn in the machine view, beside the editor.
      await vs.page.locator('.codelens-decoration a', { hasText: 'Preview diagram' }).first().click();
      const frame = await until('the preview', async () => {
        for (const f of vs.page.frames()) {
          if (await f.evaluate(() => document.body?.dataset.view === 'machine' && document.body.dataset.ready === 'true').catch(() => false)) return f;
        }
        return undefined;
      });
      await frame.waitForSelector('g.state[data-state="delivered"]');
      assert.equal(await frame.$$eval('g.state', (s) => s.length), 5);
      // The file is what v2 holds, so it is drawn as v2.
      assert.equal(await frame.$eval('#version', (el) => (el as HTMLSelectElement).value), '2');
      await vs.screenshot('light-preview');
      await vs.runCommand('View: Close All Editor Groups');

      // Open Machine Definition: the server's copy, read-only, with the file's layout.
      await vs.runCommand('rstmdb: Open Machine Definition');
      await vs.pick(/^shipment v1$/);
      await vs.page.locator('.tabs-container .tab.active', { hasText: 'shipment.v1.machine.json' }).waitFor({ state: 'visible', timeout: 15_000 });
      await vs.page.locator('.view-lines', { hasText: '"from": "created", "event": "pay"' }).first().waitFor({ state: 'visible', timeout: 15_000 });
      await vs.page.keyboard.type('x');
      await vs.page.locator('text=Cannot edit in read-only editor').first().waitFor({ state: 'visible', timeout: 10_000 });

      // Compare Versions: v1 against v2 in the diff editor.
      await vs.runCommand('rstmdb: Compare Versions');
      await vs.pick(/^shipment v2$/);
      await vs.pick(/^v1$/);
      await vs.page.locator('.tabs-container .tab.active', { hasText: 'shipment v1 ↔ v2' }).waitFor({ state: 'visible', timeout: 15_000 });
      // The added state and transition are the inserted lines.
      await vs.page.locator('.editor.modified .view-lines', { hasText: '"event": "deliver"' }).first().waitFor({ state: 'visible', timeout: 15_000 });
      await vs.screenshot('light-compare');

      // Save as File: order v1 becomes order.machine.json in the workspace, which is the deployed v1.
      await vs.runCommand('rstmdb: Save as File');
      await vs.pick(/^order v1$/);
      const input = vs.page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor({ state: 'visible' });
      // The save dialog shows the folder first and adds the proposed file name a moment later.
      await vs.page.waitForFunction(() => /order\.machine\.json$/.test((document.querySelector('.quick-input-widget .quick-input-box input') as HTMLInputElement | null)?.value ?? ''), undefined, { timeout: 10_000 }).catch(() => undefined);
      assert.match(await input.inputValue(), /order\.machine\.json$/);
      await vs.page.keyboard.press('Enter');
      await vs.page.locator('.tabs-container .tab.active', { hasText: 'order.machine.json' }).waitFor({ state: 'visible', timeout: 15_000 });
      assert.ok(existsSync(join(vs.workspace, 'order.machine.json')), 'written into the workspace');
      const saved = JSON.parse(readFileSync(join(vs.workspace, 'order.machine.json'), 'utf8')) as { states: string[] };
      assert.deepEqual(saved.states, ['created', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded']);
      await vs.page.locator('.codelens-decoration a', { hasText: 'Deployed to Local demo as order v1' }).first().waitFor({ state: 'visible', timeout: 20_000 });

      // Another client stores order v2: the lens follows, without the file changing or a refresh.
      const v1 = (await client.getMachine({ machine: 'order', version: 1 })).definition;
      await client.putMachine({
        machine: 'order',
        version: 2,
        definition: { ...v1, states: [...v1.states, 'archived'], transitions: [...v1.transitions, { from: 'delivered', event: 'archive', to: 'archived' }] },
      });
      await vs.page.locator('.codelens-decoration a', { hasText: 'Deploy to Local demo as order v3' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    });
  });
});
