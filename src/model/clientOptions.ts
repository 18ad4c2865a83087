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

async function tlsOptions(config: ConnectionConfig): Promise<TlsOptions | undefined> {
  const t = config.tls;
  if (!t?.enabled) return undefined;
  return {
    ca: await readPem(t.caFile, 'CA'),
    cert: await readPem(t.certFile, 'certificate'),
    key: await readPem(t.keyFile, 'key'),
    servername: t.servername,
    // Verification stays on unless this connection turned it off.
    rejectUnauthorized: t.rejectUnauthorized ?? true,
  };
}

/** What RcpClient.connect needs for a configured connection; the token comes from SecretStorage. */
export async function clientOptionsFor(config: ConnectionConfig, token: string | undefined, extra: Partial<RcpClientOptions> = {}): Promise<RcpClientOptions> {
  return {
    host: config.host,
    port: config.port,
    token,
    wireMode: config.wireMode,
    tls: await tlsOptions(config),
    ...extra,
  };
}
