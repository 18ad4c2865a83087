import * as vscode from 'vscode';
import { RcpClient } from '../rcp';
import { clientOptionsFor } from '../model/clientOptions';
import type { ConnectionManager } from '../model/connectionManager';
import { describeError, type ServerConnection } from '../model/serverConnection';
import type { ConnectionNode } from '../views/nodes/connectionNode';
import { addConnection, editConnection } from './connectionWizard';
import { isConnected, pickConnection, pickConnectionWhere } from './prompts';

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
    vscode.commands.registerCommand('rstmdb.addConnection', () => addConnection(manager)),
    vscode.commands.registerCommand('rstmdb.editConnection', async (arg?: unknown) => {
      const conn = await choose(arg, 'Edit Connection');
      if (conn) await editConnection(manager, conn.config);
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
