/**
 * The README's Troubleshooting section, at the client level: every message it
 * names is asserted exactly, so Node's raw text (which a loose pattern would
 * also accept) cannot stand in for it. The extension shows these after
 * "Could not connect to '<name>': " (test/e2e/troubleshooting.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient, RcpConnectionError, RcpError } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { makeTestCerts, type TestCerts } from './certs';
import * as net from 'node:net';

const TIMEOUT = { timeout: 20_000 };

/** A loopback port nothing listens on (it was free a moment ago). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** What the user reads for a failed connect (the text after "Could not connect to '<name>': "). */
async function connectFailure(options: Parameters<typeof RcpClient.connect>[0]): Promise<string> {
  try {
    const c = await RcpClient.connect({ connectTimeoutMs: 5000, ...options });
    await c.close();
  } catch (err) {
    if (err instanceof RcpError) return `${err.code}: ${err.message}`;
    if (err instanceof RcpConnectionError) return err.message;
    throw err;
  }
  throw new Error('the connect succeeded');
}

describe('Troubleshooting messages, exactly as the README names them', TIMEOUT, () => {
  let certs: TestCerts;
  let plain: EmulatorProcess;
  let tls: EmulatorProcess;
  let expired: EmulatorProcess;
  let mutual: EmulatorProcess;

  before(async () => {
    certs = makeTestCerts();
    plain = await startEmulator({ token: 'the-right-token' });
    tls = await startEmulator({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    expired = await startEmulator({ tls: { cert: certs.expiredCert, key: certs.expiredKey } });
    mutual = await startEmulator({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } });
  }, TIMEOUT);
  after(async () => {
    await Promise.all([plain?.stop(), tls?.stop(), expired?.stop(), mutual?.stop()]);
    certs?.cleanup();
  }, TIMEOUT);

  test('"connection refused": nothing listens at host:port', TIMEOUT, async () => {
    const port = await freeLoopbackPort();
    assert.equal(await connectFailure({ host: '127.0.0.1', port }), `127.0.0.1:${port}: connection refused (is the server running?)`);
  });

  test('"AUTH_FAILED": the token is wrong', TIMEOUT, async () => {
    assert.equal(await connectFailure({ host: plain.host, port: plain.port, token: 'a-wrong-token' }), 'AUTH_FAILED: authentication failed: invalid token');
  });

  test('"UNAUTHORIZED": the server requires a token and none is set', TIMEOUT, async () => {
    const c = await RcpClient.connect({ host: plain.host, port: plain.port });
    try {
      await assert.rejects(c.listMachines(), (e: unknown) => {
        assert.ok(e instanceof RcpError, String(e));
        assert.equal(`${e.code}: ${e.message}`, 'UNAUTHORIZED: authentication required');
        return true;
      });
    } finally {
      await c.close();
    }
  });

  test('"TLS: the server certificate is not signed by a trusted CA"', TIMEOUT, async () => {
    assert.equal(
      await connectFailure({ host: tls.host, port: tls.port, tls: { ca: certs.otherCa } }),
      `127.0.0.1:${tls.port}: TLS: the server certificate is not signed by a trusted CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
    );
  });

  test('"TLS: the server certificate has expired"', TIMEOUT, async () => {
    assert.equal(
      await connectFailure({ host: expired.host, port: expired.port, tls: { ca: certs.ca } }),
      `127.0.0.1:${expired.port}: TLS: the server certificate has expired (CERT_HAS_EXPIRED)`,
    );
  });

  test('"TLS: the server certificate does not match the host name"', TIMEOUT, async () => {
    assert.equal(
      await connectFailure({ host: tls.host, port: tls.port, tls: { ca: certs.ca, servername: 'db.example.org' } }),
      `127.0.0.1:${tls.port}: TLS: the server certificate does not match the host name (ERR_TLS_CERT_ALTNAME_INVALID)`,
    );
  });

  test('"TLS: the server requires a client certificate": mutual TLS without one', TIMEOUT, async () => {
    assert.equal(
      await connectFailure({ host: mutual.host, port: mutual.port, tls: { ca: certs.ca } }),
      `127.0.0.1:${mutual.port}: TLS: the server requires a client certificate (mutual TLS)`,
    );
  });

  test('"the server closed the connection during setup": mutual TLS with a client certificate the server refuses', TIMEOUT, async () => {
    assert.equal(
      await connectFailure({ host: mutual.host, port: mutual.port, tls: { ca: certs.ca, cert: certs.noUsageClientCert, key: certs.noUsageClientKey } }),
      `127.0.0.1:${mutual.port}: TLS: the server closed the connection during setup (it may require a client certificate, or rejected the one given)`,
    );
  });
});
