/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { startProxy, type FaultProxy } from '../rcp/proxy';
import { VsCode } from './harness';

/**
 * Payload editors in a real VS Code: the whole palette flow against a schema
 * from the machine definition, a guard failure, and a send cut off mid-way
 * (through a fault proxy) that is applied exactly once.
 */
describe('payload editors and safe writes in a real VS Code', () => {
  let emu: EmulatorProcess;
  let proxy: FaultProxy;
  let client: RcpClient;
  let vs: VsCode;
  /** Set by a test to cut the link once the server has answered the APPLY_EVENT it matches. */
  let cutApplyOf: string | undefined;

  before(async () => {
    emu = await startEmulator({ seed: 'demo' });
    proxy = await startProxy(emu, {
      cutAfterAnswer: (bytes) => {
        if (!cutApplyOf || !bytes.includes('APPLY_EVENT') || !bytes.includes(cutApplyOf)) return false;
        cutApplyOf = undefined;
        return true;
      },
    });
    client = await RcpClient.connect({ host: emu.host, port: emu.port });
    vs = await VsCode.launch({
      name: 'payload',
      settings: { 'rstmdb.connections': [{ name: 'Local demo', host: '127.0.0.1', port: proxy.port }] },
    });
    await vs.openExplorer();
    await vs.expand('Local demo');
    await vs.waitForRow('order');
  });

  after(async () => {
    await vs?.close();
    await client?.close();
    await proxy?.close();
    await emu?.stop();
  });

  const editorText = () => vs.editorText();
  const activeTab = () => vs.page.locator('.tabs-container .tab.active').first();
  const setPayload = (text: string) => vs.replaceEditorText(text);
  const waitForPayloadEditor = (name: string) => vs.waitForPayloadEditor(name);

  /** Apply Event from the palette, up to the event pick (the next step's title also starts with "Apply Event"). */
  async function chooseInstance(id: string): Promise<void> {
    const title = vs.page.locator('.quick-input-title', { hasText: 'Apply Event' });
    // Right after start the workbench may take the palette's focus away once (seen as an inert, then hidden input): try again.
    for (let attempt = 1; ; attempt++) {
      try {
        await vs.page.keyboard.press('Escape');
        await vs.page.keyboard.press('F1');
        await vs.page.locator('.quick-input-widget input').fill('>rstmdb: Apply Event', { timeout: 5000 });
        await vs.pick(/^rstmdb: Apply Event/);
        await title.waitFor({ state: 'visible', timeout: 10_000 });
        break;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
    await vs.answer(id);
    await vs.page.locator('.quick-input-title', { hasText: `Apply Event to ${id}` }).waitFor({ state: 'visible' });
  }

  async function startApply(id: string, event: string): Promise<void> {
    await chooseInstance(id);
    await vs.pick(new RegExp(`^${event}$`));
  }

  async function problemsText(): Promise<string> {
    await vs.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    const panel = vs.page.locator('.markers-panel');
    await panel.waitFor({ state: 'visible' });
    return ((await panel.textContent()) ?? '').replace(/\u00a0/g, ' ');
  }

  test('palette: pick instance and event, see the schema diagnostic and completion, fix, send with Ctrl+Enter; the server moved', async () => {
    const { instances } = await client.listInstances({ machine: 'order', state: 'paid', limit: 50 });
    let id = '';
    for (const i of instances) {
      const inst = await client.getInstance({ instance_id: i.id });
      const ctx = inst.ctx as Record<string, unknown> | null;
      if (ctx?.address && !ctx.on_hold) {
        id = i.id;
        break;
      }
    }
    assert.ok(id, 'a paid order that can ship');
    await vs.failureScreenshot('palette-flow', async () => {
      await startApply(id, 'ship');
      await waitForPayloadEditor('ship');
      const lenses = (await vs.page.locator('.codelens-decoration').allTextContents()).join(' | ');
      assert.match(lenses, new RegExp(`Send ship to ${id}`));
      assert.match(lenses, /Schema from the definition: meta\.payload_schemas\.ship of order v1/);
      assert.doesNotMatch(lenses, /Send without payload/, 'the schema requires carrier, so an empty payload is not offered');
      assert.equal((await editorText()).trim(), '{}');

      // A value the schema refuses: VS Code's JSON support flags it as the user types.
      await setPayload('{"carrier": 42, "tracking": "JJD0001"}');
      await vs.page.locator('.editor-instance .squiggly-warning').first().waitFor({ state: 'visible', timeout: 15_000 });

      // Completion offers the keys the schema has and the payload lacks, as properties (not words from open documents).
      await setPayload('{"carrier": "DHL", }');
      await vs.page.keyboard.press('Control+End');
      await vs.page.keyboard.press('ArrowLeft');
      await vs.page.keyboard.press('Control+Space');
      const property = vs.page.locator('.suggest-widget .monaco-list-row', { has: vs.page.locator('.codicon-symbol-property') }).filter({ hasText: 'tracking' });
      await property.first().waitFor({ state: 'visible', timeout: 15_000 });
      await vs.screenshot('completion-dark');
      await vs.page.keyboard.press('Escape');

      // Ctrl+Enter checks first: not sent, the problem is underlined in the editor.
      await setPayload('{"carrier": 42, "tracking": "JJD0001"}');
      await vs.page.keyboard.press('Control+Enter');
      await vs.page.locator('.editor-instance .squiggly-error').first().waitFor({ state: 'visible', timeout: 10_000 });
      assert.equal((await client.getInstance({ instance_id: id })).state, 'paid', 'nothing was sent');
      await vs.screenshot('diagnostics-dark');
      const problems = await problemsText();
      assert.match(problems, /carrier must be equal to one of the allowed values/);
      // Where it is, in the user's words: the connection as named, not an encoded path.
      assert.match(problems, /ship\.json\s*\/Local demo\/order-\d+/);
      // The same, in a light theme (VS Code applies an edited settings.json at once).
      await vs.setColorTheme('Light Modern', /^(Default )?Light Modern$/);
      await vs.page.locator('.monaco-workbench.vs').waitFor({ state: 'visible', timeout: 15_000 });
      await vs.page.locator('.tabs-container .tab', { hasText: 'ship.json' }).click();
      await vs.page.locator('.editor-instance .squiggly-error').first().waitFor({ state: 'visible' });
      await vs.screenshot('diagnostics-light');
      await vs.setColorTheme('Dark Modern', /^(Default )?Dark Modern$/);
      await vs.page.locator('.monaco-workbench.vs-dark').waitFor({ state: 'visible', timeout: 15_000 });

      // Fixed, sent with the keybinding: the editor closes and the server has it.
      await vs.page.locator('.tabs-container .tab', { hasText: 'ship.json' }).click();
      await setPayload('{"carrier": "DHL", "tracking": "JJD0001"}');
      await vs.page.keyboard.press('Control+Enter');
      await vs.waitForNotification(new RegExp(`${id}: paid → shipped on 'ship'`));
      const after = await client.getInstance({ instance_id: id });
      assert.equal(after.state, 'shipped');
      assert.equal((after.ctx as Record<string, unknown>).carrier, 'DHL');
      await vs.page.locator('.tabs-container .tab', { hasText: 'ship.json' }).waitFor({ state: 'detached', timeout: 10_000 });
    });
  });

  test('a guard that fails is asked about first; GUARD_FAILED names the guard and what it read, offers Open Instance, and the editor keeps its text', async () => {
    const id = 'guarded-order';
    await client.createInstance({ machine: 'order', version: 1, instance_id: id, initial_ctx: { customer: 'ada', amount: 0, currency: 'EUR' } });
    await vs.failureScreenshot('guard-failed', async () => {
      await chooseInstance(id);
      // The event that can happen comes first; pay's guard fails and is listed after.
      const labels = await vs.page.locator('.quick-input-list .monaco-list-row').evaluateAll((rows) => rows.map((r) => r.querySelector('.label-name')?.textContent?.trim()));
      assert.deepEqual(labels, ['cancel', 'pay']);
      await vs.pick(/^pay$/);
      const dialog = vs.page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible' });
      assert.match((await dialog.textContent()) ?? '', /The guard `ctx.amount > 0` reads ctx.amount = 0 and will fail/);
      await vs.screenshot('guard-ask');
      await dialog.locator('.monaco-button', { hasText: 'Edit Payload Anyway' }).click();
      await waitForPayloadEditor('pay');
      await setPayload('{"paid_at": "card"}');
      await vs.page.keyboard.press('Control+Enter');
      const note = await vs.waitForNotification(/the guard `ctx.amount > 0` failed; it reads ctx.amount = 0/);
      assert.match(note, /Open Instance/);
      assert.doesNotMatch(note, /Retry/);
      assert.equal((await client.getInstance({ instance_id: id })).state, 'created');
      // Still open, with what was typed.
      await activeTab().filter({ hasText: 'pay.json' }).waitFor({ state: 'visible' });
      assert.match(await editorText(), /"paid_at": "card"/);
      await vs.screenshot('guard-failed');
      // Closing it cancels, without asking to save.
      await vs.runCommand('View: Close Editor');
      await vs.page.locator('.tabs-container .tab', { hasText: 'pay.json' }).waitFor({ state: 'detached', timeout: 10_000 });
      assert.equal(await vs.page.locator('.monaco-dialog-box').count(), 0, 'no save prompt');
    });
  });

  test('a send cut off after the server applied it is resent with the same key after reconnecting: applied exactly once (the WAL says so)', async () => {
    const id = 'flaky-order';
    await client.createInstance({ machine: 'order', version: 1, instance_id: id, initial_ctx: { customer: 'ken', amount: 20, currency: 'EUR' } });
    await vs.failureScreenshot('cut-mid-send', async () => {
      await startApply(id, 'pay');
      await waitForPayloadEditor('pay');
      await setPayload('{"paid_at": "transfer"}');
      cutApplyOf = id;
      await vs.page.keyboard.press('Control+Enter');
      const note = await vs.waitForNotification(new RegExp(`${id}: created → paid on 'pay'\\..*sent again with the same idempotency key, and the server applied it once`), 30_000);
      assert.ok(note);
      assert.equal(cutApplyOf, undefined, 'the link was cut mid-send');
      const applies: { key: unknown }[] = [];
      for (let from = 0; ; ) {
        const page = await client.walRead({ from_offset: from, limit: 1000 });
        for (const r of page.records) {
          const e = r.entry as { type: string; instance_id?: string; idempotency_key?: unknown };
          if (e.type === 'apply_event' && e.instance_id === id) applies.push({ key: e.idempotency_key });
        }
        if (page.next_offset === null || !page.records.length) break;
        from = page.next_offset;
      }
      assert.equal(applies.length, 1, 'one apply_event in the WAL');
      assert.match(String(applies[0].key), /^rstmdb-vscode-/);
      assert.equal((await client.getInstance({ instance_id: id })).state, 'paid');
    });
  });

  test('Create Instance: an existing id is refused at the id step with what was typed kept; then the initial context is checked against meta.context_schema', async () => {
    await vs.failureScreenshot('create-instance', async () => {
      await vs.runCommand('rstmdb: Create Instance');
      await vs.page.locator('.quick-input-title', { hasText: 'Create Instance: machine' }).waitFor({ state: 'visible' });
      await vs.pick(/^order$/);
      await vs.page.locator('.quick-input-title', { hasText: 'Create order v1 instance: id' }).waitFor({ state: 'visible' });
      const placeholder = (await vs.page.locator('.quick-input-box input').getAttribute('placeholder')) ?? '';
      assert.match(placeholder, /^[0-9a-f]{8}-[0-9a-f]{4}-/, 'a UUID is offered for a blank id');
      await vs.page.locator('.quick-input-box input').fill('order-0001');
      await vs.page.keyboard.press('Enter');
      const message = vs.page.locator('.quick-input-message', { hasText: "'order-0001' already exists" });
      await message.waitFor({ state: 'visible', timeout: 10_000 });
      assert.equal(await vs.page.locator('.quick-input-box input').inputValue(), 'order-0001', 'what was typed is kept');
      await vs.screenshot('create-existing-id');
      await vs.page.locator('.quick-input-box input').fill('order-new-1');
      await vs.page.keyboard.press('Enter');
      await waitForPayloadEditor('initial-context');
      const lenses = (await vs.page.locator('.codelens-decoration').allTextContents()).join(' | ');
      assert.match(lenses, /Create order-new-1 \(order v1\)/);
      assert.match(lenses, /Schema from the definition: meta\.context_schema of order v1/);
      await setPayload('{"customer": "ada", "amount": 0, "currency": "EUR"}');
      await vs.page.keyboard.press('Control+Enter');
      await vs.page.locator('.editor-instance .squiggly-error').first().waitFor({ state: 'visible', timeout: 10_000 });
      await assert.rejects(client.getInstance({ instance_id: 'order-new-1' }), /INSTANCE_NOT_FOUND|not found/i);
      await setPayload('{"customer": "ada", "amount": 12.5, "currency": "EUR"}');
      await vs.page.keyboard.press('Control+Enter');
      await vs.waitForNotification(/Created order-new-1 \(order v1\) in state 'created'/);
      const created = await client.getInstance({ instance_id: 'order-new-1' });
      assert.deepEqual(created.ctx, { customer: 'ada', amount: 12.5, currency: 'EUR' });
    });
  });
});
