/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
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
      await vs.waitForRowLabel(/^connection Staging \(wrong token\), failed/);
      await vs.screenshot('wrong-token');
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
});
