import { existsSync, statSync } from 'node:fs';
import * as vscode from 'vscode';
import { resolveUserPath } from '../model/connectionConfig';
import type { ConnectionManager } from '../model/connectionManager';
import type { ServerConnection } from '../model/serverConnection';

/** An input box that returns undefined when the user cancels (Escape). */
export async function ask(options: vscode.InputBoxOptions): Promise<string | undefined> {
  return vscode.window.showInputBox({ ignoreFocusOut: true, ...options });
}

export function validateFile(path: string, optional: boolean): string | undefined {
  if (!path.trim()) return optional ? undefined : 'Enter a file path.';
  const p = resolveUserPath(path);
  if (!p) return 'Enter an absolute path, or one starting with ~/.';
  if (!existsSync(p)) return `No file at ${p}.`;
  if (!statSync(p).isFile()) return `${p} is not a file.`;
  return undefined;
}

/** The connection to act on: the given one, the only one, the active one, or the user's pick. */
export async function pickConnection(manager: ConnectionManager, title: string, preferReady = true): Promise<ServerConnection | undefined> {
  const all = manager.all();
  if (all.length === 0) {
    const add = 'Add Connection';
    if ((await vscode.window.showInformationMessage('No rstmdb connection is configured yet.', add)) === add) {
      await vscode.commands.executeCommand('rstmdb.addConnection');
    }
    return undefined;
  }
  if (all.length === 1) return all[0];
  // Palette commands work on the active connection (the status bar's), as its switcher says.
  if (preferReady && manager.active?.isReady) return manager.active;
  const ready = all.filter((c) => c.isReady);
  if (preferReady && ready.length === 1) return ready[0];
  return showConnectionPick(all, title);
}

async function showConnectionPick(conns: ServerConnection[], title: string): Promise<ServerConnection | undefined> {
  const picked = await vscode.window.showQuickPick(
    conns.map((c) => ({
      label: c.name,
      description: `${c.config.host}:${c.config.port}`,
      detail: c.status === 'ready' ? 'connected' : c.status,
      conn: c,
    })),
    { title, placeHolder: 'Choose a connection' },
  );
  return picked?.conn;
}

/** Connected, or on its way there (connecting, reconnecting): what Disconnect offers and Connect does not. */
export function isConnected(c: ServerConnection): boolean {
  return c.status === 'ready' || c.status === 'connecting' || c.status === 'reconnecting';
}

/**
 * A pick among the connections a command makes sense for (Connect: those not
 * connected; Disconnect: those connected). Always asked, even for one, so the
 * user sees what the command will act on; when none fits, says so.
 */
export async function pickConnectionWhere(manager: ConnectionManager, title: string, fits: (c: ServerConnection) => boolean, noneFits: string): Promise<ServerConnection | undefined> {
  if (!manager.all().length) return pickConnection(manager, title, false);
  const candidates = manager.all().filter(fits);
  if (!candidates.length) {
    void vscode.window.showInformationMessage(noneFits);
    return undefined;
  }
  return showConnectionPick(candidates, title);
}

/** Write commands stop here on read-only connections. */
export function refuseIfReadOnly(conn: ServerConnection, action: string): boolean {
  if (!conn.config.readOnly) return false;
  void vscode.window.showErrorMessage(`Connection '${conn.name}' is read-only: ${action} is not allowed. Edit the connection to allow writes.`);
  return true;
}
