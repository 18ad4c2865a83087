import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient, RcpConnectionError } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { makeTestCerts, type TestCerts } from './certs';

function isTlsError(pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof RcpConnectionError, String(e));
    assert.equal(e.kind, 'tls', e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

describe('TLS', { timeout: 60_000 }, () => {
  let certs: TestCerts;
  let emu: EmulatorProcess;
  let expired: EmulatorProcess;

  before(async () => {
    certs = makeTestCerts();
    emu = await startEmulator({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    expired = await startEmulator({ tls: { cert: certs.expiredCert, key: certs.expiredKey } });
  });
  after(async () => {
    await emu?.stop();
    await expired?.stop();
    certs?.cleanup();
  });

  test('a server certificate signed by the given CA is verified and works', async () => {
    const c = await RcpClient.connect({ host: emu.host, port: emu.port, tls: { ca: certs.ca } });
    assert.deepEqual(await c.ping(), { pong: true });
    await c.close();
  });

  test('verification is on by default: a certificate from an unknown CA is refused', async () => {
    await assert.rejects(RcpClient.connect({ host: emu.host, port: emu.port, tls: {} }), isTlsError(/not signed by a trusted CA|untrusted|self-signed/));
    await assert.rejects(RcpClient.connect({ host: emu.host, port: emu.port, tls: { ca: certs.otherCa } }), isTlsError(/TLS/));
  });

  test('an expired server certificate is refused and the message says so', async () => {
    await assert.rejects(RcpClient.connect({ host: expired.host, port: expired.port, tls: { ca: certs.ca } }), isTlsError(/expired/));
  });

  test('a certificate for another name is refused', async () => {
    await assert.rejects(
      RcpClient.connect({ host: emu.host, port: emu.port, tls: { ca: certs.ca, servername: 'db.example.org' } }),
      isTlsError(/host name|altname|does not match/i),
    );
  });

  test('turning verification off for a connection connects anyway', async () => {
    const c = await RcpClient.connect({ host: expired.host, port: expired.port, tls: { rejectUnauthorized: false } });
    assert.deepEqual(await c.ping(), { pong: true });
    await c.close();
  });
});

describe('mutual TLS', { timeout: 60_000 }, () => {
  let certs: TestCerts;
  let emu: EmulatorProcess;

  before(async () => {
    certs = makeTestCerts();
    emu = await startEmulator({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } });
  });
  after(async () => {
    await emu?.stop();
    certs?.cleanup();
  });

  test('a client certificate (X.509 v3, clientAuth) from the trusted CA is accepted', async () => {
    const c = await RcpClient.connect({
      host: emu.host,
      port: emu.port,
      tls: { ca: certs.ca, cert: certs.clientCert, key: Buffer.from(certs.clientKey) },
    });
    assert.deepEqual(await c.listMachines(), { items: [] });
    await c.close();
  });

  test('a client certificate without the clientAuth usage is refused, as rustls does', async () => {
    await assert.rejects(
      RcpClient.connect({ host: emu.host, port: emu.port, tls: { ca: certs.ca, cert: certs.noUsageClientCert, key: certs.noUsageClientKey } }),
      isTlsError(/certificate/i),
    );
  });

  test('without a client certificate the server refuses, and the message points at the certificate', async () => {
    await assert.rejects(RcpClient.connect({ host: emu.host, port: emu.port, tls: { ca: certs.ca } }), isTlsError(/certificate/i));
  });
});
