import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { RcpClientOptions, TlsOptions } from '../rcp';
import { resolveUserPath, type ConnectionConfig } from './connectionConfig';

async function readPem(file: string | undefined, what: string): Promise<Buffer | undefined> {
  if (!file) return undefined;
  const path = resolveUserPath(file);
  if (!path) throw new Error(`The TLS ${what} file must be an absolute path or start with ~/ (got ${file}).`);
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`Cannot read the TLS ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A PEM private key protected by a passphrase (PKCS#8 "ENCRYPTED PRIVATE KEY", or a traditional key with Proc-Type ENCRYPTED). */
export function isEncryptedKey(pem: string | Buffer): boolean {
  const text = pem.toString();
  return /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text) || /Proc-Type:\s*4,ENCRYPTED/.test(text);
}

/**
 * The key is opened here, before any connection, so a missing or wrong
 * passphrase is said plainly instead of as an OpenSSL decoder error.
 */
function checkKey(key: Buffer, file: string, passphrase: string | undefined): void {
  if (!isEncryptedKey(key)) return;
  if (!passphrase) throw new Error(`The client key file ${file} is encrypted: Edit Connection to enter its passphrase.`);
  try {
    createPrivateKey({ key, passphrase });
  } catch {
    throw new Error(`The passphrase for the client key file ${file} is wrong: Edit Connection to enter it again.`);
  }
}

async function tlsOptions(config: ConnectionConfig, keyPassphrase: string | undefined): Promise<TlsOptions | undefined> {
  const t = config.tls;
  if (!t?.enabled) return undefined;
  const key = await readPem(t.keyFile, 'key');
  if (key) checkKey(key, t.keyFile!, keyPassphrase);
  return {
    ca: await readPem(t.caFile, 'CA'),
    cert: await readPem(t.certFile, 'certificate'),
    key,
    passphrase: key && isEncryptedKey(key) ? keyPassphrase : undefined,
    servername: t.servername,
    // Verification stays on unless this connection turned it off.
    rejectUnauthorized: t.rejectUnauthorized ?? true,
  };
}

/** Secrets a connection may need, from SecretStorage (never from settings). */
export interface ConnectionSecrets {
  token?: string;
  /** Passphrase of an encrypted client key (tls.keyFile). */
  keyPassphrase?: string;
}

/** What RcpClient.connect needs for a configured connection. */
export async function clientOptionsFor(config: ConnectionConfig, secrets: ConnectionSecrets, extra: Partial<RcpClientOptions> = {}): Promise<RcpClientOptions> {
  return {
    host: config.host,
    port: config.port,
    token: secrets.token,
    wireMode: config.wireMode,
    tls: await tlsOptions(config, secrets.keyPassphrase),
    ...extra,
  };
}
