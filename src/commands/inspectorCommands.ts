import * as vscode from 'vscode';
import type { InspectorManager } from '../inspector/inspectorManager';
import type { ConnectionManager } from '../model/connectionManager';
import { describeError, type ServerConnection } from '../model/serverConnection';
import { ConnectionNode } from '../views/nodes/connectionNode';
import { InstanceNode } from '../views/nodes/instanceNode';
import { MachineNode } from '../views/nodes/machineNode';
import { VersionNode } from '../views/nodes/versionNode';
import type { InstanceSummary } from '../rcp/types';
import { pickConnection } from './prompts';

/** How many recently updated instances the palette's picker lists (any id can still be typed). */
const PICKER_LIMIT = 200;

interface InstanceItem extends vscode.QuickPickItem {
  id: string;
  summary?: InstanceSummary;
}

/** A quick pick of recent instances that also accepts an id typed in full. */
async function pickInstance(conn: ServerConnection): Promise<InstanceItem | undefined> {
  const qp = vscode.window.createQuickPick<InstanceItem>();
  qp.title = `Open Inspector (${conn.name})`;
  qp.placeholder = 'Instance id (type one, or pick a recently updated instance)';
  qp.matchOnDescription = true;
  qp.busy = true;
  qp.ignoreFocusOut = true;
  let listed: InstanceItem[] = [];
  const typed = (): InstanceItem[] => {
    const v = qp.value.trim();
    return v && !listed.some((i) => i.id === v) ? [{ label: v, description: 'open this id', alwaysShow: true, id: v }] : [];
  };
  const disposables: vscode.Disposable[] = [qp];
  try {
    return await new Promise<InstanceItem | undefined>((resolve) => {
      disposables.push(
        qp.onDidChangeValue(() => (qp.items = [...typed(), ...listed])),
        qp.onDidAccept(() => resolve(qp.selectedItems[0] ?? typed()[0])),
        qp.onDidHide(() => resolve(undefined)),
      );
      qp.show();
      void conn
        .ensureClient()
        .then((c) => c.listInstances({ limit: PICKER_LIMIT }))
        .then(
          (page) => {
            listed = [...page.instances]
              .sort((a, b) => b.updated_at - a.updated_at)
              .map((s) => ({ label: s.id, description: `${s.machine} v${s.version} · ${s.state}`, id: s.id, summary: s }));
            qp.items = [...typed(), ...listed];
          },
          (err) => (qp.placeholder = `Type an instance id (could not list instances: ${describeError(err)})`),
        )
        .finally(() => (qp.busy = false));
    });
  } finally {
    for (const d of disposables) d.dispose();
  }
}

export function registerInspectorCommands(manager: ConnectionManager, inspectors: InspectorManager): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('rstmdb.openInspector', async (arg?: unknown) => {
      if (arg instanceof InstanceNode) {
        const conn = manager.get(arg.connectionName);
        if (conn) inspectors.open(conn, arg.id, arg.summary);
        return;
      }
      if (typeof arg === 'object' && arg !== null) {
        const { connection, instanceId } = arg as { connection?: unknown; instanceId?: unknown };
        const conn = typeof connection === 'string' ? manager.get(connection) : undefined;
        if (conn && typeof instanceId === 'string' && instanceId) {
          inspectors.open(conn, instanceId);
          return;
        }
      }
      const conn = await pickConnection(manager, 'Open Inspector');
      if (!conn) return;
      const picked = await pickInstance(conn);
      if (picked) inspectors.open(conn, picked.id, picked.summary);
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
