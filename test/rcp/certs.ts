import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  ca: string;
  /** Server certificate for 127.0.0.1 / localhost, signed by `ca`. */
  serverCert: string;
  serverKey: string;
  /** Same names, but notAfter is in the past. */
  expiredCert: string;
  expiredKey: string;
  /** A CA that signed nothing here. */
  otherCa: string;
  /** X.509 v3 client certificate with extendedKeyUsage clientAuth (what rustls requires), signed by `ca`. */
  clientCert: string;
  clientKey: string;
  /** Signed by `ca`, v3 but with no extended key usage: OpenSSL would take it as a client certificate, rustls refuses it. */
  noUsageClientCert: string;
  noUsageClientKey: string;
  cleanup(): void;
}

/** Makes a throwaway PKI with openssl, so no certificate is committed or can expire in the repo. */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'rstmdb-certs-'));
  const p = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(p('server.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  writeFileSync(p('client.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n');

  const makeCa = (name: string) => {
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.pem`), '-subj', `/CN=${name} test CA`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  };
  const makeLeaf = (name: string, ext: string, days: string, cn: string) => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p(`${name}.pem`), '-days', days, '-extfile', p(ext));
  };
  makeCa('ca');
  makeCa('other');
  makeLeaf('server', 'server.ext', '2', 'localhost');
  makeLeaf('expired', 'server.ext', '-1', 'localhost');
  makeLeaf('client', 'client.ext', '2', 'rstmdb test client');
  writeFileSync(p('nousage.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n');
  makeLeaf('client-nousage', 'nousage.ext', '2', 'rstmdb test client without clientAuth');
  const read = (name: string) => readFileSync(p(name), 'utf8');
  return {
    ca: read('ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
    expiredCert: read('expired.pem'),
    expiredKey: read('expired.key'),
    otherCa: read('other.pem'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
    noUsageClientCert: read('client-nousage.pem'),
    noUsageClientKey: read('client-nousage.key'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
