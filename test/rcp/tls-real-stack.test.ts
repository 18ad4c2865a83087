/**
 * Every TLS failure the README's Troubleshooting names, against Node's own TLS
 * server with real certificates (not the emulator), so the messages are what
 * OpenSSL really reports — including TLS 1.3's "certificate required" alert
 * (116), which arrives on the first read after a handshake that looked fine.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { describeError } from '../../src/model/describeError';
import { RcpClient, RcpConnectionError, type TlsOptions } from '../../src/rcp';
import { makeTestCerts, type TestCerts } from './certs';

/** A TLS server that completes handshakes and never speaks RCP: every failure here happens before. */
async function tlsServer(options: tls.TlsOptions): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(options, (s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function failure(port: number, tlsOpts: TlsOptions): Promise<RcpConnectionError> {
  try {
    const c = await RcpClient.connect({ host: '127.0.0.1', port, tls: tlsOpts, connectTimeoutMs: 5000 });
    await c.close();
  } catch (err) {
    assert.ok(err instanceof RcpConnectionError, String(err));
    assert.equal(err.kind, 'tls');
    assert.doesNotMatch(err.message, /openssl|\.c:\d+|deps\//i, 'no OpenSSL internals in the message');
    return err;
  }
  assert.fail('the connection was expected to fail');
}

describe('TLS failures against a real TLS stack', { timeout: 60_000 }, () => {
  let certs: TestCerts;
  before(() => {
    certs = makeTestCerts();
  });
  after(() => certs?.cleanup());

  test('a server certificate from a CA the client does not trust (leaf only, and with its CA sent along)', async () => {
    const leafOnly = await tlsServer({ cert: certs.serverCert, key: certs.serverKey });
    const withChain = await tlsServer({ cert: certs.serverCert + certs.ca, key: certs.serverKey });
    try {
      const a = await failure(leafOnly.port, { ca: certs.otherCa });
      assert.equal(a.message, `127.0.0.1:${leafOnly.port}: TLS: the server certificate is not signed by a trusted CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`);
      const b = await failure(withChain.port, { ca: certs.otherCa });
      assert.equal(b.message, `127.0.0.1:${withChain.port}: TLS: the server certificate is not signed by a trusted CA (SELF_SIGNED_CERT_IN_CHAIN)`);
    } finally {
      await leafOnly.close();
      await withChain.close();
    }
  });

  test('an expired server certificate', async () => {
    const s = await tlsServer({ cert: certs.expiredCert, key: certs.expiredKey });
    try {
      const e = await failure(s.port, { ca: certs.ca });
      assert.equal(e.message, `127.0.0.1:${s.port}: TLS: the server certificate has expired (CERT_HAS_EXPIRED)`);
    } finally {
      await s.close();
    }
  });

  test('a server certificate for another name', async () => {
    const s = await tlsServer({ cert: certs.serverCert, key: certs.serverKey });
    try {
      const e = await failure(s.port, { ca: certs.ca, servername: 'db.example.org' });
      assert.equal(e.message, `127.0.0.1:${s.port}: TLS: the server certificate does not match the host name (ERR_TLS_CERT_ALTNAME_INVALID)`);
    } finally {
      await s.close();
    }
  });

  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    test(`mutual TLS (${version}) without a client certificate: a plain sentence, and the settings to fix in the extension`, async () => {
      const s = await tlsServer({ cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requestCert: true, rejectUnauthorized: true, minVersion: version, maxVersion: version });
      try {
        const e = await failure(s.port, { ca: certs.ca });
        assert.equal(e.message, `127.0.0.1:${s.port}: TLS: the server requires a client certificate (mutual TLS)`);
        assert.equal(e.reason, 'client_certificate_required');
        assert.equal(describeError(e), `127.0.0.1:${s.port}: TLS: the server requires a client certificate (mutual TLS): set certFile and keyFile`);
      } finally {
        await s.close();
      }
    });
  }

  // Node's TLS server drops a refused client certificate without an alert; OpenSSL's s_server sends the
  // alert a verifying server (rustls too) sends, so these two run against it.
  test('mutual TLS with a client certificate the server refuses (no clientAuth usage, as rustls refuses it)', async () => {
    const s = await opensslServer(certs, certs.ca);
    try {
      // The server's own certificate: signed by the trusted CA, but for serverAuth only.
      const e = await failure(s.port, { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey });
      assert.equal(
        describeError(e),
        `127.0.0.1:${s.port}: TLS: the server refused the client certificate (it must be X.509 v3 with the clientAuth usage, signed by a CA the server trusts); check certFile and keyFile`,
      );
    } finally {
      s.close();
    }
  });

  test('mutual TLS with a client certificate from a CA the server does not trust', async () => {
    const s = await opensslServer(certs, certs.otherCa);
    try {
      const e = await failure(s.port, { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey });
      assert.equal(e.message, `127.0.0.1:${s.port}: TLS: the server refused the client certificate (it must be X.509 v3 with the clientAuth usage, signed by a CA the server trusts)`);
      assert.equal(e.reason, 'client_certificate_refused');
    } finally {
      s.close();
    }
  });
});

/** `openssl s_server` wanting a client certificate signed by `clientCa`, for one connection. */
async function opensslServer(certs: TestCerts, clientCa: string): Promise<{ port: number; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'rstmdb-s_server-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  const child = spawn(
    'openssl',
    ['s_server', '-naccept', '1', '-Verify', '1', '-verify_return_error', '-CAfile', file('client-ca.pem', clientCa), '-cert', file('cert.pem', certs.serverCert), '-key', file('key.pem', certs.serverKey), '-accept', `127.0.0.1:${port}`],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const close = () => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('ACCEPT')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`openssl s_server exited (${code}): ${out}`)));
    });
  } catch (err) {
    close();
    throw err;
  }
  return { port, close };
}
