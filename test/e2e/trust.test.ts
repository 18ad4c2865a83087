/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { makeTestCerts, type TestCerts } from '../rcp/certs';
import { observeWire, subscribedBeforeAuth, type WireObserver } from '../rcp/wire-observer';
import { VsCode } from './harness';

const TOKEN = 'e2e-bound-token-91c2';

/** The modal question, once it shows: its message text. */
async function dialogText(vs: VsCode, timeout = 20_000): Promise<string> {
  const box = vs.page.locator('.monaco-dialog-box').first();
  await box.waitFor({ state: 'visible', timeout });
  return ((await box.locator('.dialog-message-text').textContent()) ?? '').trim();
}

async function dialogButton(vs: VsCode, label: string): Promise<void> {
  await vs.page.locator('.monaco-dialog-box .dialog-buttons .monaco-button', { hasText: label }).first().click();
  await vs.page.locator('.monaco-dialog-box').first().waitFor({ state: 'hidden', timeout: 10_000 });
}

/**
 * What the extension told the user, read from the notification center. A toast is only how the
 * workbench presents a notification: under load it sometimes shows none (the notification is
 * there, the bell has its badge, no toast), so the center is where the outcome is read.
 */
async function told(vs: VsCode, pattern: RegExp): Promise<string> {
  await vs.runCommand('Notifications: Show Notifications');
  await vs.page.locator('.notifications-center.visible').waitFor({ state: 'visible', timeout: 10_000 });
  return vs.waitForNotification(pattern);
}

const sent = (wire: WireObserver, what: string) => wire.connections.flat().filter((e) => e === what).length;

/** This machine's address on its network (not loopback): a server there is "another machine" to the extension. */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a?.family === 'IPv4' && !a.internal)?.address;

describe('a token goes only to the server it was saved for', { timeout: 240_000 }, () => {
  let emu: EmulatorProcess;
  let wire: WireObserver;
  let vs: VsCode;

  before(async () => {
    emu = await startEmulator({ token: TOKEN, seed: 'demo' });
    // The "other server": the same emulator behind a relay that records what reaches it.
    wire = await observeWire({ host: emu.host, port: emu.port });
    // The repository already has a .vscode/settings.json (without connections): VS Code watches a file
    // that exists, and the redefinition below arrives as an edit of it, as a `git pull` would bring it.
    vs = await VsCode.launch({ name: 'trust-token', settings: {}, workspaceSettings: {} });
    await vs.openExplorer();
  });
  after(async () => {
    await vs?.close();
    await wire?.close();
    await emu?.stop();
  });

  test('a workspace that points a connection elsewhere gets a question before the token, and nothing until answered', async () => {
    await vs.failureScreenshot('token-moved', async () => {
      await vs.runCommand('rstmdb: Add Connection…');
      const step = (n: number) => `Add rstmdb Connection (${n}/7)`;
      await vs.answer('prod', step(1));
      await vs.answer('127.0.0.1', step(2));
      await vs.answer(String(emu.port), step(3));
      await vs.answer('No TLS', step(4));
      await vs.answer(TOKEN, step(5));
      await vs.answer('Read and write', step(6));
      const connect = vs.page.locator('.notifications-toasts .notification-toast .monaco-button', { hasText: /^Connect$/ }).first();
      await connect.click();
      await vs.waitForRowLabel(/^connection prod, connected/);

      // A repository opened later redefines 'prod' in its .vscode/settings.json: same name, another endpoint.
      vs.writeWorkspaceSettings({ 'rstmdb.connections': [{ name: 'prod', host: 'localhost', port: wire.port }] });
      const text = await dialogText(vs);
      assert.equal(text, `'prod' now points to localhost:${wire.port}; the token was saved for 127.0.0.1:${emu.port}`);
      assert.equal(wire.connections.length, 0, 'nothing reached the new server while the question is open');
      await vs.screenshot('token-question');
      await dialogButton(vs, 'Connect without');
      await vs.waitForRowLabel(/^connection prod, connected · localhost/);
      assert.ok(wire.connections.length > 0, 'connected');
      assert.equal(sent(wire, '>AUTH'), 0, 'Connect without sends no token');
    });
  });

  test('"Use it here" sends it and remembers the answer for that server: the next time, no question', async () => {
    await vs.failureScreenshot('token-use-here', async () => {
      await vs.runCommand('Notifications: Clear All Notifications');
      await vs.runCommand('rstmdb: Test Connection');
      assert.match(await dialogText(vs), /^'prod' now points to localhost:\d+; the token was saved for 127\.0\.0\.1:\d+$/);
      await dialogButton(vs, 'Use it here');
      await told(vs, /Connection 'prod' works/);
      assert.equal(sent(wire, '<AUTH ok'), 1);

      await vs.runCommand('Notifications: Clear All Notifications');
      await vs.runCommand('rstmdb: Test Connection');
      await told(vs, /Connection 'prod' works/);
      assert.equal(await vs.page.locator('.monaco-dialog-box').count(), 0, 'no second question');
      assert.equal(sent(wire, '<AUTH ok'), 2);
    });
  });

  test('a token sent without TLS to another machine: warned while it is typed, on the row, and once in the log however often it connects', { skip: lanAddress ? false : 'this machine has no network address other than loopback' }, async () => {
    const lan = await observeWire({ host: emu.host, port: emu.port }, lanAddress);
    try {
      await vs.failureScreenshot('token-in-clear', async () => {
        await vs.runCommand('Notifications: Clear All Notifications');
        await vs.runCommand('rstmdb: Add Connection…');
        const step = (n: number) => `Add rstmdb Connection (${n}/7)`;
        await vs.answer('lan', step(1));
        await vs.answer(lanAddress!, step(2));
        await vs.answer(String(lan.port), step(3));
        await vs.answer('No TLS', step(4));
        // The setup flow says it before the token is typed…
        const prompt = vs.page.locator('.quick-input-widget .quick-input-message', { hasText: `without TLS, ${lanAddress} receives it in the clear` });
        await prompt.waitFor({ state: 'visible', timeout: 15_000 });
        await vs.answer(TOKEN, step(5));
        await vs.answer('Read and write', step(6));
        // …and once it is saved.
        await told(vs, new RegExp(`'lan' sends its token without TLS to ${lanAddress!.replace(/\./g, '\\.')}`));
        await vs.runCommand('rstmdb: Connect');
        await vs.pick(/^lan$/);
        await vs.waitForRowLabel(/^connection lan, connected/);
        // The row: an open lock instead of the database icon.
        await vs.page.locator('.part.sidebar .monaco-list-row[aria-label^="connection lan,"] .codicon-unlock').waitFor({ state: 'visible', timeout: 10_000 });
        await vs.screenshot('token-in-clear-row');

        // Connected again twice (Disconnect + Connect), and the link cut under it once (the client reconnects by itself).
        for (let round = 0; round < 2; round++) {
          await vs.runCommand('rstmdb: Disconnect');
          await vs.pick(/^lan$/);
          await vs.waitForRowLabel(/^connection lan, disconnected/);
          await vs.runCommand('rstmdb: Connect');
          await vs.pick(/^lan$/);
          await vs.waitForRowLabel(/^connection lan, connected/);
        }
        lan.dropAll();
        const reconnected = Date.now() + 20_000;
        while (!/\[lan\] reconnected/.test(vs.extensionLog()) && Date.now() < reconnected) await vs.page.waitForTimeout(200);
        const log = vs.extensionLog();
        assert.match(log, /\[lan\] reconnected/);
        assert.equal(log.match(/\[lan\] connected:/g)?.length, 3, 'three connects');
        assert.equal(log.match(/\[lan\] the token is sent without TLS/g)?.length, 1, `the warning is logged once:\n${log}`);

        // Every connection of the extension's said AUTH and heard ok before it subscribed (the server would not ask).
        assert.ok(lan.connections.flat().includes('>WATCH_ALL'), 'the live feed subscribed');
        assert.deepEqual(subscribedBeforeAuth(lan.connections), [], JSON.stringify(lan.connections));
      });
    } finally {
      await lan.close();
    }
  });
});

describe('an untrusted workspace cannot define connections', { timeout: 240_000 }, () => {
  let emu: EmulatorProcess;
  let wire: WireObserver;
  let vs: VsCode;

  before(async () => {
    emu = await startEmulator({ seed: 'demo' });
    wire = await observeWire({ host: emu.host, port: emu.port });
    vs = await VsCode.launch({
      name: 'trust-untrusted',
      workspaceTrust: 'untrusted',
      settings: { 'rstmdb.connections': [{ name: 'mine', host: '127.0.0.1', port: emu.port }] },
      // A cloned repository's settings: one connection of its own, and one that takes over the user's name.
      workspaceSettings: {
        'rstmdb.connections': [
          { name: 'mine', host: '127.0.0.1', port: wire.port },
          { name: 'theirs', host: '127.0.0.1', port: wire.port },
        ],
      },
    });
    await vs.openExplorer();
  });
  after(async () => {
    await vs?.close();
    await wire?.close();
    await emu?.stop();
  });

  test('Restricted Mode: only the user’s own connections are listed and used, and the view says why', async () => {
    await vs.failureScreenshot('untrusted', async () => {
      await vs.waitForRow(/^Restricted Mode: workspace connections not used$/);
      await vs.waitForRowLabel(new RegExp(`^connection mine, disconnected · 127\\.0\\.0\\.1:${emu.port}$`));
      await vs.expand(/^mine$/);
      await vs.waitForRow('order');
      const rows = await vs.treeRows();
      assert.ok(!rows.some((r) => /theirs/.test(r)), `the workspace's own connection is not listed: ${rows.join(' | ')}`);
      assert.equal(wire.connections.length, 0, 'nothing was sent to the server the workspace named');
      await vs.screenshot('untrusted');
    });
  });
});

/**
 * What `tls.caFile` falls back to, measured rather than assumed: a CA present
 * only in the system store (SSL_CERT_FILE) is not trusted by default, and is
 * once VS Code is told to add system certificates to raw TLS connections.
 */
describe('without tls.caFile: Node’s bundled CA list, unless VS Code adds the system’s', { timeout: 240_000 }, () => {
  let certs: TestCerts;
  let emu: EmulatorProcess;
  let dir: string;

  before(async () => {
    certs = makeTestCerts();
    dir = mkdtempSync(join(tmpdir(), 'rstmdb-system-ca-'));
    writeFileSync(join(dir, 'system-ca.pem'), certs.ca);
    emu = await startEmulator({ tls: { cert: certs.serverCert, key: certs.serverKey } });
  });
  after(async () => {
    await emu?.stop();
    certs?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Test Connection in a VS Code whose "system store" (SSL_CERT_FILE) holds the CA that signed the server's certificate. */
  async function testConnection(name: string, settings: Record<string, unknown>): Promise<string> {
    const vs = await VsCode.launch({
      name,
      settings: {
        'rstmdb.connections': [{ name: 'private CA', host: 'localhost', port: emu.port, tls: { enabled: true } }],
        'http.systemCertificates': true,
        'http.systemCertificatesNode': true,
        ...settings,
      },
      env: { SSL_CERT_FILE: join(dir, 'system-ca.pem') },
    });
    try {
      return await vs.failureScreenshot('test-connection', async () => {
        await vs.openExplorer();
        await vs.runCommand('rstmdb: Test Connection');
        return vs.waitForNotification(/Connection 'private CA' (works|failed)/, 30_000);
      });
    } finally {
      await vs.close();
    }
  }

  test('by default the system store is not consulted', async () => {
    assert.match(await testConnection('trust-bundled-ca', {}), new RegExp(`Connection 'private CA' failed: localhost:${emu.port}: TLS: the server certificate is not signed by a trusted CA`));
  });

  test('with http.experimental.systemCertificatesV2 on, it is', async () => {
    assert.match(await testConnection('trust-system-ca', { 'http.experimental.systemCertificatesV2': true }), /Connection 'private CA' works/);
  });
});

describe('mutual TLS without a client certificate, as the user sees it', { timeout: 240_000 }, () => {
  let certs: TestCerts;
  let emu: EmulatorProcess;
  let vs: VsCode;
  let dir: string;

  before(async () => {
    certs = makeTestCerts();
    dir = mkdtempSync(join(tmpdir(), 'rstmdb-mtls-ui-'));
    writeFileSync(join(dir, 'ca.pem'), certs.ca);
    emu = await startEmulator({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } });
    vs = await VsCode.launch({
      name: 'trust-mtls',
      settings: { 'rstmdb.connections': [{ name: 'mtls', host: '127.0.0.1', port: emu.port, tls: { enabled: true, caFile: join(dir, 'ca.pem') } }] },
    });
    await vs.openExplorer();
  });
  after(async () => {
    await vs?.close();
    await emu?.stop();
    certs?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the row says a client certificate is required and which settings to set, not OpenSSL’s text', async () => {
    await vs.failureScreenshot('mtls-missing-cert', async () => {
      await vs.expand(/^mtls$/);
      const message = `127.0.0.1:${emu.port}: TLS: the server requires a client certificate (mutual TLS): set certFile and keyFile`;
      const escaped = message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      await vs.waitForRow(new RegExp(`^(Could not connect: )?${escaped}$`));
      assert.doesNotMatch((await vs.treeRows()).join('\n'), /openssl|alert number|\.c:\d+/i);
      await vs.screenshot('mtls-missing-cert');
    });
  });
});
