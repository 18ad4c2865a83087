/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { VsCode } from './harness';

const TOKEN = 'e2e-secret-token-7f3a9c';
const WRONG = 'not-the-right-token-42';

describe('adding connections in a real VS Code', () => {
  let emu: EmulatorProcess;
  let vs: VsCode;

  before(async () => {
    emu = await startEmulator({ token: TOKEN, seed: 'demo' });
    vs = await VsCode.launch({ name: 'connections', settings: {} });
    await vs.openExplorer();
  });
  after(async () => {
    await vs?.close();
    await emu?.stop();
  });

  async function addConnection(name: string, token: string): Promise<void> {
    const step = (n: number) => `Add rstmdb Connection (${n}/7)`;
    await vs.answer(name, step(1));
    await vs.answer('127.0.0.1', step(2));
    await vs.answer(String(emu.port), step(3));
    await vs.answer('No TLS', step(4));
    await vs.answer(token, step(5));
    await vs.answer('Read and write', step(6));
    const connect = vs.page.locator('.notifications-toasts .notification-toast .monaco-button', { hasText: /^Connect$/ }).first();
    await connect.waitFor({ state: 'visible', timeout: 10_000 });
    await connect.click();
  }

  test('with nothing configured, the view welcomes the user with an Add Connection button', async () => {
    const button = vs.page.locator('.part.sidebar .monaco-button', { hasText: 'Add Connection' }).first();
    await button.waitFor({ state: 'visible', timeout: 20_000 });
    await vs.screenshot('welcome');
    await button.click();
  });

  test('a wrong token: the user is told authentication failed', async () => {
    await vs.failureScreenshot('wrong-token', async () => {
      await addConnection('Staging (wrong token)', WRONG);
      const message = await vs.waitForNotification(/Could not connect to 'Staging \(wrong token\)'.*AUTH_FAILED/);
      assert.ok(!message.includes(WRONG), 'the token is never shown');
      // A refused token is not retried, and the row says why.
      await vs.waitForRowLabel(/^connection Staging \(wrong token\), failed: token refused \(AUTH_FAILED\)/);
      await vs.screenshot('wrong-token');
      // Opened, the failed connection says why and offers a retry; it does not keep retrying by itself.
      await vs.expand(/^Staging \(wrong token\)$/);
      await vs.waitForRow(/^Could not connect: AUTH_FAILED/);
      const attempts = () => (vs.extensionLog().match(/\[Staging \(wrong token\)\] connecting to/g) ?? []).length;
      const before = attempts();
      await vs.page.waitForTimeout(2000);
      assert.equal(attempts(), before, 'no connect attempts while nobody asked');
      await vs.collapse(/^Staging \(wrong token\)$/);
    });
  });

  test('the right token: connected, the token kept as a secret and absent from settings.json', async () => {
    await vs.failureScreenshot('right-token', async () => {
      await vs.page.keyboard.press('Escape');
      await vs.runCommand('rstmdb: Add Connection…');
      await addConnection('Staging', TOKEN);
      await vs.waitForRowLabel(/^connection Staging, connected/, 20_000);
      await vs.expand(/^Staging$/);
      await vs.waitForRow('order');
      const settings = vs.readSettings();
      assert.match(settings, /"name": "Staging"/);
      assert.match(settings, new RegExp(`"port": ${emu.port}`));
      assert.ok(!settings.includes(TOKEN) && !settings.includes(WRONG), 'no token in settings.json');
      await vs.screenshot('connected');
    });
  });

  test('Disconnect on an open connection row stays disconnected until the user connects again', async () => {
    await vs.failureScreenshot('disconnect', async () => {
      await vs.page.keyboard.press('Escape');
      // Connection commands from the palette ask which connection.
      await vs.runCommand('rstmdb: Disconnect');
      await vs.page.locator('.quick-input-widget .quick-input-title', { hasText: 'Disconnect' }).waitFor({ state: 'visible' });
      await vs.pick(/^Staging$/);
      await vs.waitForRowLabel(/^connection Staging, disconnected/, 10_000);
      await vs.waitForRow('Disconnected — click to connect');
      await vs.page.waitForTimeout(1500);
      assert.match(await vs.rowText(/^Staging$/), /^connection Staging, disconnected/);
      await vs.screenshot('disconnected');
      await vs.page.locator('.monaco-list-row', { hasText: 'Disconnected — click to connect' }).first().click();
      await vs.waitForRowLabel(/^connection Staging, connected/, 10_000);
      await vs.waitForRow('order');
    });
  });

  test('the status bar shows the active connection; a click switches it and palette commands follow', async () => {
    await vs.failureScreenshot('switch', async () => {
      await vs.page.keyboard.press('Escape');
      assert.match(await vs.statusBarText(), /rstmdb: Staging$/);
      await vs.page.locator('.statusbar-item', { hasText: 'rstmdb' }).first().click();
      await vs.page.locator('.quick-input-widget .quick-input-title', { hasText: 'Switch rstmdb Connection' }).waitFor({ state: 'visible' });
      await vs.screenshot('switch-picker');
      await vs.pick('Staging (wrong token)');
      await vs.page.waitForFunction(() => [...document.querySelectorAll('.statusbar-item')].some((e) => /rstmdb: Staging \(wrong token\) \(failed: token refused \(AUTH_FAILED\)\)/.test(e.textContent ?? '')), undefined, { timeout: 10_000 });
      // Switch back for what follows.
      await vs.page.locator('.statusbar-item', { hasText: 'rstmdb' }).first().click();
      await vs.pick(/^Staging$/);
      await vs.page.waitForFunction(() => [...document.querySelectorAll('.statusbar-item')].some((e) => /rstmdb: Staging$/.test((e.textContent ?? '').trim())), undefined, { timeout: 10_000 });
    });
  });

  test('rstmdb: Apply Event from the palette previews guards, and a refused payload stays in its editor', async () => {
    await vs.failureScreenshot('apply-event', async () => {
      const client = await RcpClient.connect({ host: emu.host, port: emu.port, token: TOKEN });
      try {
        await client.createInstance({ machine: 'order', version: 1, instance_id: 'e2e-order', initial_ctx: { customer: 'ada' } });
        await vs.runCommand('Notifications: Clear All Notifications');
        await vs.runCommand('rstmdb: Apply Event…');
        await vs.answer('e2e-order');
        const pay = vs.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'pay' }).first();
        await pay.waitFor({ state: 'visible' });
        assert.match((await pay.textContent()) ?? '', /ctx\.amount > 0.*fails on the current context/);
        await vs.screenshot('apply-event-guard-preview');
        await vs.answer('pay', 'Apply Event to e2e-order');
        // The guard fails on the current context: asked first.
        await vs.page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Edit Payload Anyway' }).click();
        await vs.sendPayload('pay', '{"amount": 5}');
        await vs.waitForNotification(/'pay' was not applied to 'e2e-order': the guard `ctx.amount > 0` failed; it reads ctx.amount = null/);
        await vs.screenshot('apply-event-guard-failed');
        assert.match(await vs.editorText(), /\{"amount": 5\}/, 'what the user typed is still there');
        await vs.runCommand('View: Close Editor');
        assert.equal((await client.getInstance({ instance_id: 'e2e-order' })).state, 'created');

        await vs.runCommand('rstmdb: Apply Event…');
        await vs.answer('e2e-order');
        await vs.answer('cancel', 'Apply Event to e2e-order');
        await vs.sendPayload('cancel', '{"reason": "e2e"}');
        await vs.waitForNotification(/e2e-order: created → cancelled on 'cancel'/);
        const after = await client.getInstance({ instance_id: 'e2e-order' });
        assert.equal(after.state, 'cancelled');
        assert.deepEqual(after.ctx, { customer: 'ada', reason: 'e2e' });
      } finally {
        await client.close();
      }
    });
  });
});
