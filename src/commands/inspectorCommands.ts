import * as vscode from 'vscode';
import type { InspectorManager } from '../inspector/inspectorManager';
import type { ConnectionManager } from '../model/connectionManager';
import { describeError, type ServerConnection } from '../model/serverConnection';
import { ConnectionNode } from '../views/nodes/connectionNode';
import { InstanceNode } from '../views/nodes/instanceNode';
import { MachineNode } from '../views/nodes/machineNode';
import { VersionNode } from '../views/nodes/versionNode';
import type { InstancePicker } from './instancePicker';
import { ROW_CLICK, RowClicks } from '../views/rowClick';
import { pickConnection } from './prompts';

export function registerInspectorCommands(manager: ConnectionManager, inspectors: InspectorManager, picker: InstancePicker): vscode.Disposable[] {
  const clicks = new RowClicks();
  return [
    vscode.commands.registerCommand('rstmdb.openInspector', async (arg?: unknown, how?: unknown) => {
      if (arg instanceof InstanceNode) {
        const conn = manager.get(arg.connectionName);
        // A single click on the row keeps focus in the tree; a double-click, Enter, a menu or the palette move it.
        const preserveFocus = how === ROW_CLICK && !clicks.click(`${arg.connectionName}\u0000${arg.id}`);
        if (conn) {
          picker.seen(conn, arg.id, arg.summary);
          inspectors.open(conn, arg.id, arg.summary, preserveFocus);
        }
        return;
      }
      if (typeof arg === 'object' && arg !== null) {
        const { connection, instanceId } = arg as { connection?: unknown; instanceId?: unknown };
        const conn = typeof connection === 'string' ? manager.get(connection) : undefined;
        if (conn && typeof instanceId === 'string' && instanceId) {
          picker.seen(conn, instanceId);
          inspectors.open(conn, instanceId);
          return;
        }
      }
      const picked = await picker.choose('Open Inspector', { fromCursor: true, fromContext: true });
      if (picked) inspectors.open(picked.conn, picked.id);
    }),
    vscode.commands.registerCommand('rstmdb.openWal', async (arg?: unknown) => {
      const conn = arg instanceof ConnectionNode ? arg.connection : await pickConnection(manager, 'Show WAL');
      if (conn) inspectors.openWal(conn);
    }),
    vscode.commands.registerCommand('rstmdb.openMachineView', async (arg?: unknown) => {
      if (arg instanceof VersionNode) {
        inspectors.openMachine(arg.parent.parent.connection, arg.parent.name, arg.version);
        return;
      }
      if (arg instanceof MachineNode) {
        const versions = [...arg.versionNodes.keys()];
        if (versions.length) {
          inspectors.openMachine(arg.parent.connection, arg.name, Math.max(...versions));
          return;
        }
      }
      const conn = (arg instanceof MachineNode ? arg.parent.connection : undefined) ?? (await pickConnection(manager, 'Show Machine Diagram'));
      if (!conn) return;
      try {
        const machines = (await (await conn.ensureClient()).listMachines()).items;
        const named = arg instanceof MachineNode ? machines.find((m) => m.machine === arg.name) : undefined;
        const pick = named
          ? { machine: named.machine, version: Math.max(...named.versions) }
          : await vscode.window.showQuickPick(
              machines.flatMap((m) => [...m.versions].sort((a, b) => b - a).map((v) => ({ label: `${m.machine} v${v}`, machine: m.machine, version: v }))),
              { title: 'Show Machine Diagram', placeHolder: machines.length ? 'Machine and version' : `There are no machines on '${conn.name}' yet.` },
            );
        if (pick) inspectors.openMachine(conn, pick.machine, pick.version);
      } catch (err) {
        void vscode.window.showErrorMessage(`Could not list machines on '${conn.name}': ${describeError(err)}`);
      }
    }),
  ];
}
