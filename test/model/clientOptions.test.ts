import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { clientOptionsFor, isEncryptedKey } from '../../src/model/clientOptions';
import type { ConnectionConfig } from '../../src/model/connectionConfig';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { makeTestCerts, type TestCerts } from '../rcp/certs';

describe('an encrypted client key, opened with the passphrase from the secret store', { timeout: 60_000 }, () => {
  let certs: TestCerts;
  let emu: EmulatorProcess;
  let dir: string;
  let config: ConnectionConfig;

  before(async () => {
    certs = makeTestCerts();
    emu = await startEmulator({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } });
    dir = mkdtempSync(join(tmpdir(), 'rstmdb-enc-key-'));
    const encrypted = createPrivateKey(certs.clientKey).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct horse' });
    writeFileSync(join(dir, 'ca.pem'), certs.ca);
    writeFileSync(join(dir, 'client.pem'), certs.clientCert);
    writeFileSync(join(dir, 'client.key'), encrypted);
    config = { name: 'mtls', host: emu.host, port: emu.port, tls: { enabled: true, caFile: join(dir, 'ca.pem'), certFile: join(dir, 'client.pem'), keyFile: join(dir, 'client.key') } };
  });
  after(async () => {
    await emu?.stop();
    certs?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('with the passphrase, mutual TLS works', async () => {
    const client = await RcpClient.connect(await clientOptionsFor(config, { keyPassphrase: 'correct horse' }));
    try {
      assert.deepEqual(await client.ping(), { pong: true });
    } finally {
      await client.close();
    }
  });

  test('without it, or with a wrong one, the message says which and where to fix it', async () => {
    const keyFile = join(dir, 'client.key');
    await assert.rejects(clientOptionsFor(config, {}), { message: `The client key file ${keyFile} is encrypted: Edit Connection to enter its passphrase.` });
    await assert.rejects(clientOptionsFor(config, { keyPassphrase: 'wrong' }), { message: `The passphrase for the client key file ${keyFile} is wrong: Edit Connection to enter it again.` });
  });

  test('encrypted keys are told apart from plain ones (PKCS#8 and traditional PEM)', () => {
    assert.equal(isEncryptedKey(certs.clientKey), false);
    assert.equal(isEncryptedKey(createPrivateKey(certs.clientKey).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'x' })), true);
    assert.equal(isEncryptedKey(createPrivateKey(certs.clientKey).export({ type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'x' })), true);
  });
});
