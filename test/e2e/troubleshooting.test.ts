/// <reference lib="dom" />
/**
 * The README's Troubleshooting section in the UI: each message a user is told to
 * look for is asserted exactly, in the notification and in the tree. (AUTH_FAILED,
 * which needs a stored token, is asserted in connections.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { makeTestCerts, type TestCerts } from '../rcp/certs';
import { freePort, VsCode } from './harness';

const STEP = { timeout: 90_000 };

describe('Troubleshooting messages in a real VS Code', { timeout: 600_000 }, () => {
  let certs: TestCerts | undefined;
  let dir: string | undefined;
  let withToken: EmulatorProcess | undefined;
  let tls: EmulatorProcess | undefined;
  let expired: EmulatorProcess | undefined;
  let mutual: EmulatorProcess | undefined;
  let refusedPort = 0;
  let vs: VsCode | undefined;

  before(async () => {
    certs = makeTestCerts();
    dir = mkdtempSync(join(tmpdir(), 'rstmdb-troubleshooting-'));
    writeFileSync(join(dir, 'ca.pem'), certs.ca);
    writeFileSync(join(dir, 'other-ca.pem'), certs.otherCa);
    withToken = await startEmulator({ token: 'only-the-server-knows', seed: 'demo' });
    tls = await startEmulator({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    expired = await startEmulator({ tls: { cert: certs.expiredCert, key: certs.expiredKey } });
    mutual = await startEmulator({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } });
    refusedPort = await freePort();
    vs = await VsCode.launch({
      name: 'troubleshooting',
      settings: {
        'rstmdb.connections': [
          { name: 'Nothing there', host: '127.0.0.1', port: refusedPort },
          { name: 'No token', host: '127.0.0.1', port: withToken.port },
          { name: 'Untrusted CA', host: '127.0.0.1', port: tls.port, tls: { enabled: true, caFile: join(dir, 'other-ca.pem') } },
          { name: 'Expired', host: '127.0.0.1', port: expired.port, tls: { enabled: true, caFile: join(dir, 'ca.pem') } },
          { name: 'Wrong name', host: '127.0.0.1', port: tls.port, tls: { enabled: true, caFile: join(dir, 'ca.pem'), servername: 'db.example.org' } },
          { name: 'No client certificate', host: '127.0.0.1', port: mutual.port, tls: { enabled: true, caFile: join(dir, 'ca.pem') } },
          { name: 'Unverified', host: '127.0.0.1', port: expired.port, tls: { enabled: true, rejectUnauthorized: false } },
        ],
      },
    });
    await vs.openExplorer();
  }, STEP);

  after(async () => {
    await vs?.close();
    await Promise.all([withToken?.stop(), tls?.stop(), expired?.stop(), mutual?.stop()]);
    certs?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, STEP);

  /** Connect from the palette; the notification and the opened row say exactly why it failed. */
  async function connectFails(name: string, reason: string): Promise<void> {
    await vs!.runCommand('Notifications: Clear All Notifications');
    await vs!.runCommand('rstmdb: Connect');
    await vs!.pick(name);
    await vs!.waitForExactNotification(`Could not connect to '${name}': ${reason}`);
    await vs!.waitForRowLabel(new RegExp(`^connection ${name}, failed`));
    await vs!.expand(new RegExp(`^${name}$`));
    const row = await vs!.waitForRow(/^Could not connect: /);
    assert.equal(((await row.locator('.label-name').textContent()) ?? '').trim(), `Could not connect: ${reason}`);
    await vs!.collapse(new RegExp(`^${name}$`));
  }

  test('"connection refused": nothing listens at host:port', STEP, async () => {
    await vs!.failureScreenshot('refused', () => connectFails('Nothing there', `127.0.0.1:${refusedPort}: connection refused (is the server running?)`));
  });

  test('"UNAUTHORIZED": the server requires a token and none is set', STEP, async () => {
    await vs!.failureScreenshot('unauthorized', async () => {
      await vs!.expand(/^No token$/);
      const row = await vs!.waitForRow(/UNAUTHORIZED/);
      assert.equal(((await row.locator('.label-name').textContent()) ?? '').trim(), 'UNAUTHORIZED: authentication required');
      await vs!.screenshot('unauthorized');
      await vs!.collapse(/^No token$/);
    });
  });

  test('"TLS: the server certificate is not signed by a trusted CA"', STEP, async () => {
    await vs!.failureScreenshot('untrusted-ca', () =>
      connectFails('Untrusted CA', `127.0.0.1:${tls!.port}: TLS: the server certificate is not signed by a trusted CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`),
    );
  });

  test('"TLS: the server certificate has expired"', STEP, async () => {
    await vs!.failureScreenshot('expired', () => connectFails('Expired', `127.0.0.1:${expired!.port}: TLS: the server certificate has expired (CERT_HAS_EXPIRED)`));
  });

  test('"TLS: the server certificate does not match the host name"', STEP, async () => {
    await vs!.failureScreenshot('wrong-name', () =>
      connectFails('Wrong name', `127.0.0.1:${tls!.port}: TLS: the server certificate does not match the host name (ERR_TLS_CERT_ALTNAME_INVALID)`),
    );
  });

  test('"TLS: the server requires a client certificate": mutual TLS without one', STEP, async () => {
    await vs!.failureScreenshot('no-client-cert', () =>
      connectFails('No client certificate', `127.0.0.1:${mutual!.port}: TLS: the server requires a client certificate (mutual TLS): set certFile and keyFile`),
    );
  });

  test('a connection that does not verify the server certificate says so in its tooltip', STEP, async () => {
    await vs!.failureScreenshot('unverified-tooltip', async () => {
      await (await vs!.waitForRow(/^Unverified$/)).locator('.label-name').hover();
      const hover = vs!.page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'Unverified' }).first();
      await hover.waitFor({ state: 'visible', timeout: 10_000 });
      assert.match(((await hover.textContent()) ?? '').replace(/\s+/g, ' '), /⚠ TLS certificate verification is off/);
      await vs!.screenshot('unverified-tooltip');
      await vs!.page.mouse.move(5, 5);
      // And a verified one does not.
      await (await vs!.waitForRow(/^Expired$/)).locator('.label-name').hover();
      const other = vs!.page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'Expired' }).first();
      await other.waitFor({ state: 'visible', timeout: 10_000 });
      assert.doesNotMatch((await other.textContent()) ?? '', /verification is off/);
      await vs!.page.mouse.move(5, 5);
    });
  });
});
