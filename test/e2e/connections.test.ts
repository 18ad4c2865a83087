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
  }, { timeout: 120_000 });
  after(async () => {
    await vs?.close();
    await emu?.stop();
  }, { timeout: 120_000 });

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

  /** A connection a test needs, added through the wizard unless an earlier test did: each test also runs alone. */
  async function have(name: string, token: string): Promise<void> {
    if (vs.readSettings().includes(`"name": "${name}"`)) return;
    await vs.runCommand('rstmdb: Add Connection…');
    await addConnection(name, token);
    await vs.waitForRowLabel(new RegExp(`^connection ${name.replace(/[()]/g, '\\$&')}, (connected|failed)`), 20_000);
  }
  /** Both connections, in the order the story adds them (pickers then list both; the last added is active). */
  async function haveBoth(): Promise<void> {
    await have('Staging (wrong token)', WRONG);
    await have('Staging', TOKEN);
  }

  test('with nothing configured, the view welcomes the user with an Add Connection button', async () => {
    const button = vs.page.locator('.part.sidebar .monaco-button', { hasText: 'Add Connection' }).first();
    await button.waitFor({ state: 'visible', timeout: 20_000 });
    await vs.screenshot('welcome');
    await button.click();
    await vs.page.locator('.quick-input-widget .quick-input-title', { hasText: 'Add rstmdb Connection (1/7)' }).waitFor({ state: 'visible' });
    await vs.page.keyboard.press('Escape');
  });

  test('a wrong token: the user is told authentication failed', async () => {
    await vs.failureScreenshot('wrong-token', async () => {
      await vs.runCommand('rstmdb: Add Connection…');
      await addConnection('Staging (wrong token)', WRONG);
      // The README's Troubleshooting names this message: asserted exactly.
      await vs.waitForExactNotification("Could not connect to 'Staging (wrong token)': AUTH_FAILED: authentication failed: invalid token");
      assert.ok(!(await vs.notifications()).some((m) => m.includes(WRONG)), 'the token is never shown');
      // A refused token is not retried, and the row says why.
      await vs.waitForRowLabel(/^connection Staging \(wrong token\), failed: token refused \(AUTH_FAILED\)/);
      await vs.screenshot('wrong-token');
      // Opened, the failed connection says why and offers a retry; it does not keep retrying by itself.
      await vs.expand(/^Staging \(wrong token\)$/);
      assert.equal(((await (await vs.waitForRow(/^Could not connect: /)).locator('.label-name').textContent()) ?? '').trim(), 'Could not connect: AUTH_FAILED: authentication failed: invalid token');
      const attempts = () => (vs.extensionLog().match(/\[Staging \(wrong token\)\] connecting to/g) ?? []).length;
      const before = attempts();
      // An observation window a retry loop would show in (its first retries come within 1 s), then a
      // positive marker: Refresh makes the open row ask for its children again, and it still only says why.
      await vs.page.waitForTimeout(2000);
      await vs.runCommand('rstmdb: Refresh');
      await vs.waitForRow(/^Could not connect: AUTH_FAILED/);
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
      await haveBoth();
      await vs.page.keyboard.press('Escape');
      // Connection commands from the palette ask which connection.
      await vs.runCommand('rstmdb: Disconnect');
      await vs.page.locator('.quick-input-widget .quick-input-title', { hasText: 'Disconnect' }).waitFor({ state: 'visible' });
      await vs.pick(/^Staging$/);
      await vs.waitForRowLabel(/^connection Staging, disconnected/, 10_000);
      await vs.waitForRow('Disconnected — click to connect');
      // A positive marker rather than a pause: Refresh makes the open row ask for its children again.
      await vs.runCommand('rstmdb: Refresh');
      await vs.waitForRow('Disconnected — click to connect');
      assert.match(await vs.rowText(/^Staging$/), /^connection Staging, disconnected/);
      await vs.screenshot('disconnected');
      await vs.page.locator('.monaco-list-row', { hasText: 'Disconnected — click to connect' }).first().click();
      await vs.waitForRowLabel(/^connection Staging, connected/, 10_000);
      await vs.waitForRow('order');
    });
  });

  test('the status bar shows the active connection; a click switches it and palette commands follow', async () => {
    await vs.failureScreenshot('switch', async () => {
      await haveBoth();
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
      await haveBoth();
      const client = await RcpClient.connect({ host: emu.host, port: emu.port, token: TOKEN });
      try {
        await client.createInstance({ machine: 'order', version: 1, instance_id: 'e2e-order', initial_ctx: { customer: 'ada' } });
        await vs.runCommand('Notifications: Clear All Notifications');
        await vs.runCommand('rstmdb: Apply Event…');
        await vs.answerInstance('e2e-order', 'Apply Event');
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
        // Enter straight after typing, before the picker has rows for the id (only "Load more" matches
        // it then): the typed id is what is applied to.
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

  test('Test Connection says which server answered, its version and the latency', { timeout: 60_000 }, async () => {
    await vs.failureScreenshot('test-connection', async () => {
      await haveBoth();
      await vs.runCommand('Notifications: Clear All Notifications');
      await vs.runCommand('rstmdb: Test Connection');
      await vs.pick(/^Staging$/);
      const said = await vs.waitForExactNotification(/Connection 'Staging' works: \S+ \S+, protocol 1, binary_json\. Connect \d+ ms, ping \d+\.\d ms\./);
      const hello = await RcpClient.connect({ host: emu.host, port: emu.port, token: TOKEN });
      try {
        assert.ok(said.includes(`works: ${hello.server.server_name} ${hello.server.server_version},`), said);
      } finally {
        await hello.close();
      }
    });
  });

  test('Edit Connection: a changed token is used at once, and "-" removes the stored token', { timeout: 120_000 }, async () => {
    await vs.failureScreenshot('edit-token', async () => {
      await haveBoth();
      await vs.editConnectionToken('Staging', WRONG, true);
      await vs.waitForRowLabel(/^connection Staging, failed/, 15_000);
      await vs.editConnectionToken('Staging', TOKEN, true);
      await vs.waitForRowLabel(/^connection Staging, connected/, 15_000);
      await vs.expand(/^Staging$/);
      await vs.waitForRow('order');
      await vs.collapse(/^Staging$/);
      // Without a token the server answers UNAUTHORIZED to everything but HELLO and PING.
      await vs.editConnectionToken('Staging', '-', true);
      await vs.expand(/^Staging$/);
      const row = await vs.waitForRow(/^UNAUTHORIZED/, 15_000);
      assert.equal(((await row.locator('.label-name').textContent()) ?? '').trim(), 'UNAUTHORIZED: authentication required');
      await vs.collapse(/^Staging$/);
      const settings = vs.readSettings();
      assert.ok(!settings.includes(TOKEN) && !settings.includes(WRONG), 'no token in settings.json');
    });
  });

  test('Remove Connection from the row\'s context menu asks first, then the row and its settings entry are gone', { timeout: 60_000 }, async () => {
    await vs.failureScreenshot('remove', async () => {
      await haveBoth();
      await vs.contextMenuAction(/^Staging \(wrong token\)$/, 'Remove Connection');
      const dialog = vs.page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible' });
      assert.match((await dialog.textContent()) ?? '', /Remove the connection 'Staging \(wrong token\)'\? Its stored token is deleted too\. Data on the server is not touched\./);
      await dialog.locator('.monaco-button', { hasText: /^Remove$/ }).click();
      await vs.page.waitForFunction(() => ![...document.querySelectorAll('.part.sidebar .monaco-list-row')].some((r) => (r.getAttribute('aria-label') ?? '').startsWith('connection Staging (wrong token)')), undefined, { timeout: 10_000 });
      assert.ok(!vs.readSettings().includes('Staging (wrong token)'), 'gone from settings.json');
      assert.match(await vs.rowText(/^Staging$/), /^connection Staging, /);
    });
  });
});
