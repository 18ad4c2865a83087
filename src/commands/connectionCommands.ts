import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { RcpClient } from '../rcp';
import { clientOptionsFor, isEncryptedKey } from '../model/clientOptions';
import { resolveUserPath, validateHost, validateName, validatePort, type ConnectionConfig } from '../model/connectionConfig';
import type { ConnectionManager } from '../model/connectionManager';
import { describeError, type ServerConnection } from '../model/serverConnection';
import type { ConnectionNode } from '../views/nodes/connectionNode';
import { endpointOf, tokenInClear } from '../model/tokenBinding';
import { ask, isConnected, pickConnection, pickConnectionWhere, validateFile } from './prompts';

type TlsChoice = 'none' | 'tls' | 'mtls' | 'tls-unverified' | 'mtls-unverified';

/** The Add / Edit flow: one input per step; Escape anywhere cancels without saving. */
async function connectionWizard(manager: ConnectionManager, existing?: ConnectionConfig): Promise<void> {
  const verb = existing ? 'Edit' : 'Add';
  const steps = 7;
  const title = (n: number) => `${verb} rstmdb Connection (${n}/${steps})`;
  const taken = manager.all().map((c) => c.name).filter((n) => n !== existing?.name);

  const name = await ask({ title: title(1), prompt: 'Connection name', value: existing?.name ?? (taken.length ? '' : 'local'), validateInput: (v) => validateName(v, taken) });
  if (name === undefined) return;
  const host = await ask({ title: title(2), prompt: 'Host', value: existing?.host ?? '127.0.0.1', validateInput: validateHost });
  if (host === undefined) return;
  const port = await ask({ title: title(3), prompt: 'Port', value: String(existing?.port ?? 7401), validateInput: validatePort });
  if (port === undefined) return;

  const unverifiedNow = existing?.tls?.rejectUnauthorized === false;
  const currentTls: TlsChoice = !existing?.tls?.enabled
    ? 'none'
    : existing.tls.certFile
      ? unverifiedNow ? 'mtls-unverified' : 'mtls'
      : unverifiedNow ? 'tls-unverified' : 'tls';
  const tlsPick = await vscode.window.showQuickPick(
    [
      { label: 'No TLS', description: 'plain TCP', value: 'none' as TlsChoice },
      { label: 'TLS', description: 'verify the server certificate', value: 'tls' as TlsChoice },
      { label: 'Mutual TLS', description: 'TLS plus a client certificate', value: 'mtls' as TlsChoice },
      { label: '$(warning) TLS without verifying the certificate', description: 'only for a test server with a self-signed certificate', value: 'tls-unverified' as TlsChoice },
      { label: '$(warning) Mutual TLS without verifying the certificate', description: 'only for a test server', value: 'mtls-unverified' as TlsChoice },
    ].map((i) => ({ ...i, picked: i.value === currentTls })),
    { title: title(4), placeHolder: 'Transport security', ignoreFocusOut: true },
  );
  if (!tlsPick) return;
  let tls: ConnectionConfig['tls'];
  let keyPassphrase: string | undefined;
  if (tlsPick.value !== 'none') {
    const caFile = await ask({ title: title(4), prompt: 'CA certificate file (PEM), or empty to use the system CAs', value: existing?.tls?.caFile ?? '', validateInput: (v) => validateFile(v, true) });
    if (caFile === undefined) return;
    // Verification is on unless the user picked one of the unverified options.
    const unverified = tlsPick.value === 'tls-unverified' || tlsPick.value === 'mtls-unverified';
    tls = { enabled: true, rejectUnauthorized: !unverified };
    if (caFile.trim()) tls.caFile = caFile.trim();
    if (tlsPick.value === 'mtls' || tlsPick.value === 'mtls-unverified') {
      const certFile = await ask({ title: title(4), prompt: 'Client certificate file (PEM)', value: existing?.tls?.certFile ?? '', validateInput: (v) => validateFile(v, false) });
      if (certFile === undefined) return;
      const keyFile = await ask({ title: title(4), prompt: 'Client key file (PEM)', value: existing?.tls?.keyFile ?? '', validateInput: (v) => validateFile(v, false) });
      if (keyFile === undefined) return;
      tls.certFile = certFile.trim();
      tls.keyFile = keyFile.trim();
      if (keyIsEncrypted(tls.keyFile)) {
        const kept = existing?.tls?.keyFile === tls.keyFile && (await manager.store.keyPassphrase(existing.name)) !== undefined;
        const typed = await ask({
          title: title(4),
          prompt: `Passphrase of the encrypted key ${tls.keyFile}${kept ? ' (leave empty to keep the stored one)' : ''} — kept in the secret store`,
          password: true,
          validateInput: (v) => (v || kept ? undefined : 'The key is encrypted: enter its passphrase.'),
        });
        if (typed === undefined) return;
        if (typed) keyPassphrase = typed;
      }
    }
    if (existing?.tls?.servername) tls.servername = existing.tls.servername;
  }

  // Said before the token is typed: over plain TCP to another machine, anyone on the path can read it.
  const inClear = tokenInClear({ name: name.trim(), host: host.trim(), port: Number(port), tls });
  const clearWarning = inClear ? ` — ⚠ without TLS, ${host.trim()} receives it in the clear` : '';
  const token = await ask({
    title: title(5),
    prompt: (existing ? 'Bearer token (leave empty to keep the stored one; type "-" to remove it)' : 'Bearer token (leave empty if the server does not require auth)') + clearWarning,
    password: true,
    placeHolder: existing ? 'unchanged' : 'no token',
  });
  if (token === undefined) return;

  const ro = await vscode.window.showQuickPick(
    [
      { label: 'Read and write', value: false, picked: !existing?.readOnly },
      { label: 'Read-only', description: 'refuse every write command', value: true, picked: !!existing?.readOnly },
    ],
    { title: title(6), placeHolder: 'Access', ignoreFocusOut: true },
  );
  if (!ro) return;

  const config: ConnectionConfig = { name: name.trim(), host: host.trim(), port: Number(port) };
  if (tls) config.tls = tls;
  if (existing?.wireMode) config.wireMode = existing.wireMode;
  if (ro.value) config.readOnly = true;
  // Pasted tokens often carry a trailing newline or space; the server would refuse them.
  const typed = token.trim();
  const tokenToStore = existing ? (typed === '' ? undefined : typed === '-' ? '' : typed) : typed || undefined;
  // Stored before the settings change, which reconnects with it.
  if (keyPassphrase !== undefined) await manager.store.saveKeyPassphrase(config.name, keyPassphrase);
  await manager.store.save(config, tokenToStore, existing);
  // A new token alone changes no setting: reconnect so it is used (a fixed wrong token recovers at once).
  // Changed settings reconnect by themselves.
  if (existing && tokenToStore !== undefined && JSON.stringify(existing) === JSON.stringify(config)) void manager.get(config.name)?.reconnect();
  if (inClear && (tokenToStore || (tokenToStore === undefined && existing && (await manager.store.tokens.tokenFor(config.name, endpointOf(config))) !== undefined))) {
    void vscode.window.showWarningMessage(`'${config.name}' sends its token without TLS to ${config.host}: anyone on the network path can read it. Edit the connection to turn TLS on.`);
  }
  if (config.tls?.enabled && config.tls.rejectUnauthorized === false) {
    void vscode.window.showWarningMessage(`'${config.name}' does not verify the server's certificate: anyone between you and the server could read and change the traffic.`);
  }

  const connect = 'Connect';
  const test = 'Test Connection';
  const choice = await vscode.window.showInformationMessage(`Saved connection '${config.name}' (${config.host}:${config.port}). Step 7/7: connect now?`, connect, test);
  if (choice === connect) await vscode.commands.executeCommand('rstmdb.connect', config.name);
  else if (choice === test) await vscode.commands.executeCommand('rstmdb.testConnection', config.name);
}

/** Whether the key file (already validated as readable) needs a passphrase. */
function keyIsEncrypted(file: string): boolean {
  const path = resolveUserPath(file);
  try {
    return !!path && isEncryptedKey(readFileSync(path));
  } catch {
    return false;
  }
}

function connectionFrom(manager: ConnectionManager, arg: unknown): ServerConnection | undefined {
  if (typeof arg === 'string') return manager.get(arg);
  const node = arg as ConnectionNode | undefined;
  return node?.connection;
}

async function testConnection(manager: ConnectionManager, conn: ServerConnection): Promise<void> {
  const c = conn.config;
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Testing '${c.name}'…` }, async () => {
    const started = Date.now();
    let client: RcpClient | undefined;
    try {
      client = await RcpClient.connect(
        await clientOptionsFor(c, { token: await manager.resolveToken(c), keyPassphrase: await manager.store.keyPassphrase(c.name) }, { clientName: 'rstmdb-vscode-test', connectTimeoutMs: manager.requestTimeoutMs(), requestTimeoutMs: manager.requestTimeoutMs() }),
      );
      const connectMs = Date.now() - started;
      const pingStart = process.hrtime.bigint();
      await client.ping();
      const pingMs = Number(process.hrtime.bigint() - pingStart) / 1e6;
      const s = client.server;
      void vscode.window.showInformationMessage(
        `Connection '${c.name}' works: ${s.server_name} ${s.server_version}, protocol ${s.protocol_version}, ${s.wire_mode}. Connect ${connectMs} ms, ping ${pingMs.toFixed(1)} ms.`,
      );
    } catch (err) {
      void vscode.window.showErrorMessage(`Connection '${c.name}' failed: ${describeError(err)}`);
    } finally {
      await client?.close().catch(() => undefined);
    }
  });
}

export function registerConnectionCommands(manager: ConnectionManager, log: { channel: vscode.LogOutputChannel }): vscode.Disposable[] {
  const choose = async (arg: unknown, title: string) => connectionFrom(manager, arg) ?? (await pickConnection(manager, title, false));
  return [
    vscode.commands.registerCommand('rstmdb.addConnection', () => connectionWizard(manager)),
    vscode.commands.registerCommand('rstmdb.editConnection', async (arg?: unknown) => {
      const conn = await choose(arg, 'Edit Connection');
      if (conn) await connectionWizard(manager, conn.config);
    }),
    vscode.commands.registerCommand('rstmdb.removeConnection', async (arg?: unknown) => {
      const conn = await choose(arg, 'Remove Connection');
      if (!conn) return;
      const remove = 'Remove';
      const ok = await vscode.window.showWarningMessage(`Remove the connection '${conn.name}'? Its stored token is deleted too. Data on the server is not touched.`, { modal: true }, remove);
      if (ok !== remove) return;
      await conn.disconnect();
      await manager.store.remove(conn.name);
    }),
    vscode.commands.registerCommand('rstmdb.testConnection', async (arg?: unknown) => {
      const conn = await choose(arg, 'Test Connection');
      if (conn) await testConnection(manager, conn);
    }),
    vscode.commands.registerCommand('rstmdb.connect', async (arg?: unknown) => {
      const conn = connectionFrom(manager, arg) ?? (await pickConnectionWhere(manager, 'Connect', (c) => !isConnected(c), 'Every rstmdb connection is already connected.'));
      if (!conn) return;
      // Connecting does not make it the active connection: switching is the user's act (the status bar, or Switch Active Connection).
      try {
        await conn.ensureClient();
      } catch (err) {
        const show = 'Show Log';
        const edit = 'Edit Connection';
        const pick = await vscode.window.showErrorMessage(`Could not connect to '${conn.name}': ${describeError(err)}`, edit, show);
        if (pick === show) log.channel.show(true);
        if (pick === edit) await vscode.commands.executeCommand('rstmdb.editConnection', conn.name);
      }
    }),
    vscode.commands.registerCommand('rstmdb.disconnect', async (arg?: unknown) => {
      const conn = connectionFrom(manager, arg) ?? (await pickConnectionWhere(manager, 'Disconnect', isConnected, 'No rstmdb connection is connected.'));
      await conn?.disconnect();
    }),
    vscode.commands.registerCommand('rstmdb.switchConnection', async () => {
      const all = manager.all();
      if (!all.length) return vscode.commands.executeCommand('rstmdb.addConnection');
      const picked = await vscode.window.showQuickPick(
        all.map((c) => ({
          label: `${c === manager.active ? '$(check) ' : ''}${c.name}`,
          description: `${c.config.host}:${c.config.port}`,
          detail: c.status === 'ready' ? 'connected' : c.lastError ? `${c.status}: ${c.lastError}` : c.status,
          conn: c,
        })),
        { title: 'Switch rstmdb Connection', placeHolder: 'The active connection is used by commands run from the palette' },
      );
      if (!picked) return;
      manager.setActive(picked.conn.name);
      if (!picked.conn.isReady) await vscode.commands.executeCommand('rstmdb.connect', picked.conn.name);
    }),
    vscode.commands.registerCommand('rstmdb.showLog', () => log.channel.show()),
  ];
}
