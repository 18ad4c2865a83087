import * as vscode from 'vscode';
import { guardPreview, payloadIgnoredNote, unmergeableContextNote } from '../model/guardPreview';
import { RcpError } from '../rcp';
import type { ConnectionManager } from '../model/connectionManager';
import { describeError, type ServerConnection } from '../model/serverConnection';
import type { ExplorerProvider } from '../views/explorer';
import { ConnectionNode } from '../views/nodes/connectionNode';
import { InstanceNode } from '../views/nodes/instanceNode';
import { MachineNode } from '../views/nodes/machineNode';
import type { ExplorerNode } from '../views/nodes/node';
import { StateNode } from '../views/nodes/stateNode';
import { VersionNode } from '../views/nodes/versionNode';
import { instanceUri, type InstanceDocumentProvider } from '../views/instanceDocument';
import type { ChooseOptions, InstancePicker } from './instancePicker';
import { versionList } from '../model/words';
import { ask, pickConnection, refuseIfReadOnly, validateJsonObject } from './prompts';

function connectionOf(node: ExplorerNode | undefined): ServerConnection | undefined {
  let n: ExplorerNode | undefined = node;
  while (n && !(n instanceof ConnectionNode)) n = n.parent;
  return n?.connection;
}

/** Payloads that failed to apply, kept so the next attempt starts from what the user typed. */
const unsentPayloads = new Map<string, string>();

/** `{connection, instanceId}` from the inspector (its webview's requests are checked before they get here). */
function instanceRef(manager: ConnectionManager, arg: unknown): { conn: ServerConnection; id: string; event?: string } | undefined {
  if (typeof arg !== 'object' || arg === null || arg instanceof InstanceNode) return undefined;
  const { connection, instanceId, event } = arg as { connection?: unknown; instanceId?: unknown; event?: unknown };
  if (typeof connection !== 'string' || typeof instanceId !== 'string' || !instanceId) return undefined;
  const conn = manager.get(connection);
  if (!conn) return undefined;
  return { conn, id: instanceId, ...(typeof event === 'string' && event ? { event } : {}) };
}

/**
 * The instance a command acts on: the tree row or inspector it was run from,
 * else the user's pick (src/commands/instancePicker.ts), which offers what the
 * user is looking at first.
 */
export async function targetInstance(
  manager: ConnectionManager,
  picker: InstancePicker,
  arg: unknown,
  title: string,
  options: ChooseOptions = { fromContext: true },
): Promise<{ conn: ServerConnection; id: string } | undefined> {
  if (arg instanceof InstanceNode) {
    const conn = connectionOf(arg)!;
    picker.seen(conn, arg.id, arg.summary);
    return { conn, id: arg.id };
  }
  const ref = instanceRef(manager, arg);
  if (ref) {
    picker.seen(ref.conn, ref.id);
    return { conn: ref.conn, id: ref.id };
  }
  return picker.choose(title, options);
}

/** A retry goes straight back to the payload of the same event on the same instance. */
interface ApplyRetry {
  conn: ServerConnection;
  id: string;
  event: string;
  /** The user already chose to apply to this instance although it was deleted. */
  deletedConfirmed?: boolean;
}

/** How the user is told that the WAL recorded an instance's deletion (the server still answers for it). */
function deletedSentence(conn: ServerConnection, id: string): string {
  return `'${id}' was deleted on '${conn.name}' (the WAL records its deletion). The server still answers for a deleted instance (deletes are soft)`;
}

/** Events still apply to a deleted instance (and are broadcast): ask before doing it. */
async function confirmApplyToDeleted(conn: ServerConnection, id: string): Promise<boolean> {
  const go = 'Apply Anyway';
  const pick = await vscode.window.showWarningMessage(`${deletedSentence(conn, id)}, and applies events to it. Apply an event anyway?`, { modal: true }, go);
  return pick === go;
}

async function applyEvent(manager: ConnectionManager, picker: InstancePicker, arg: unknown, again?: ApplyRetry): Promise<void> {
  // The inspector names the event when a transition on its diagram was clicked.
  const ref = again ? undefined : instanceRef(manager, arg);
  if (ref?.event) again = { conn: ref.conn, id: ref.id, event: ref.event };
  const target = again ?? (await targetInstance(manager, picker, arg, 'Apply Event', { fromCursor: true, fromContext: true }));
  if (!target) return;
  const { conn, id } = target;
  if (refuseIfReadOnly(conn, 'applying an event')) return;
  let deletedConfirmed = again?.deletedConfirmed ?? false;
  if (!deletedConfirmed && conn.changes.isDeleted(id)) {
    if (!(await confirmApplyToDeleted(conn, id))) return;
    deletedConfirmed = true;
  }
  let client;
  let inst;
  let def;
  try {
    client = await conn.ensureClient();
    inst = await client.getInstance({ instance_id: id });
    def = (await conn.definition(inst.machine, inst.version)).definition;
  } catch (err) {
    void vscode.window.showErrorMessage(`Cannot apply an event to '${id}': ${describeError(err)}`);
    return;
  }
  const options = def.transitions.filter((t) => t.from.includes(inst.state));
  if (!options.length) {
    void vscode.window.showInformationMessage(`'${id}' is in state '${inst.state}', which has no outgoing transitions.`);
    return;
  }
  let event = again?.event;
  const contextNote = unmergeableContextNote(inst.ctx);
  if (!event) {
    // Guards see the context before the payload is merged, so each preview is what the server will decide.
    const items = options.map((t) => ({ label: t.event, description: `${inst.state} → ${t.to}`, detail: guardPreview(t.guard, inst.ctx), event: t.event }));
    const picked = await vscode.window.showQuickPick(items, {
      title: `Apply Event to ${id} (${inst.machine} v${inst.version}, state ${inst.state})`,
      placeHolder: contextNote ? `Event — ${contextNote}` : 'Event',
      matchOnDetail: true,
    });
    if (!picked) return;
    event = picked.event;
  }
  const key = `${conn.name}\u0000${id}\u0000${event}`;
  const payloadText = await ask({
    title: `Apply '${event}' to ${id}`,
    prompt: payloadIgnoredNote(inst.ctx) ?? 'Payload (a JSON object, shallow-merged into the context after guards are checked)',
    value: unsentPayloads.get(key) ?? '{}',
    validateInput: validateJsonObject,
  });
  if (payloadText === undefined) return;
  const payload = payloadText.trim() ? (JSON.parse(payloadText) as Record<string, unknown>) : {};
  try {
    const r = await client.applyEvent({ instance_id: id, event, payload, expected_state: inst.state });
    unsentPayloads.delete(key);
    const inspect = 'Open Inspector';
    const ignored = Object.keys(payload).length ? payloadIgnoredNote(inst.ctx) : undefined;
    // The WAL offset is in the log (every write is logged at Info), not in the sentence the user reads.
    const done = `${id}: ${r.from_state} → ${r.to_state} on '${event}'.`;
    void (ignored ? vscode.window.showWarningMessage(`${done} ${ignored}`, inspect) : vscode.window.showInformationMessage(done, inspect)).then(
      (pick) => pick === inspect && vscode.commands.executeCommand('rstmdb.openInspector', { connection: conn.name, instanceId: id }),
    );
  } catch (err) {
    unsentPayloads.set(key, payloadText);
    const edit = 'Edit Payload and Retry';
    const hint = err instanceof RcpError && err.code === 'GUARD_FAILED' ? ' Guards are checked against the context before the payload is merged.' : '';
    const pick = await vscode.window.showErrorMessage(`Event '${event}' was not applied to '${id}': ${describeError(err)}.${hint}`, edit);
    if (pick === edit) await applyEvent(manager, picker, undefined, { conn, id, event, deletedConfirmed });
  }
}

export function registerInstanceCommands(
  manager: ConnectionManager,
  explorer: ExplorerProvider,
  view: vscode.TreeView<ExplorerNode>,
  instanceDocuments: InstanceDocumentProvider,
  picker: InstancePicker,
): vscode.Disposable[] {
  const openDocument = async (conn: ServerConnection, id: string) => {
    const uri = instanceUri(conn.name, id);
    // Already open: show it as the server has it now.
    if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())) instanceDocuments.refresh(uri);
    // Plain JSON (from the .json path): what the document says about a deleted instance are fields, never comments.
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
    if (conn.changes.isDeleted(id)) void vscode.window.showWarningMessage(`${deletedSentence(conn, id)}: this is what it still returns.`);
  };

  const reveal = async (conn: ServerConnection, id: string) => {
    // Deleted instances are not offered in the tree, however the server still answers for them.
    if (conn.changes.isDeleted(id)) {
      const open = 'Open Instance';
      const pick = await vscode.window.showWarningMessage(`${deletedSentence(conn, id)}; it is no longer listed, so it is not shown in the tree.`, open);
      if (pick === open) await openDocument(conn, id);
      return;
    }
    const client = await conn.ensureClient();
    const inst = await client.getInstance({ instance_id: id });
    const node = await explorer.locate(conn, id, inst);
    if (!node) throw new Error(`'${id}' exists (${inst.machine} v${inst.version}, state ${inst.state}) but could not be placed in the tree.`);
    explorer.refresh(node.parent);
    await view.reveal(node, { select: true, focus: true, expand: true });
  };

  return [
    vscode.commands.registerCommand('rstmdb.refresh', (node?: ExplorerNode) => {
      if (!node) {
        for (const c of manager.all()) {
          c.forgetDefinitions();
          explorer.root(c.name)?.reset();
        }
        explorer.refresh();
        return;
      }
      if (node instanceof ConnectionNode) {
        node.connection.forgetDefinitions();
        node.reset();
      } else if (node instanceof VersionNode) node.reset();
      else if (node instanceof StateNode) node.reset();
      else if (node instanceof MachineNode) for (const v of node.versionNodes.values()) v.reset();
      explorer.refresh(node);
    }),
    vscode.commands.registerCommand('rstmdb.loadMore', async (node: StateNode) => {
      try {
        await node.more();
      } catch (err) {
        void vscode.window.showErrorMessage(`Could not load more instances: ${describeError(err)}`);
      }
    }),
    vscode.commands.registerCommand('rstmdb.copyInstanceId', async (arg?: unknown) => {
      const target = await targetInstance(manager, picker, arg, 'Copy Instance ID');
      if (!target) return;
      await vscode.env.clipboard.writeText(target.id);
      vscode.window.setStatusBarMessage(`Copied ${target.id}`, 2000);
    }),
    vscode.commands.registerCommand('rstmdb.openInstance', async (arg?: unknown) => {
      const target = await targetInstance(manager, picker, arg, 'Open Instance as JSON', { fromCursor: true, fromContext: true });
      if (target) await openDocument(target.conn, target.id);
    }),
    vscode.commands.registerCommand('rstmdb.findInstance', async () => {
      const target = await targetInstance(manager, picker, undefined, 'Find Instance', { fromCursor: true, fromContext: true });
      if (!target) return;
      try {
        await reveal(target.conn, target.id);
      } catch (err) {
        void vscode.window.showErrorMessage(`Could not find '${target.id}' on '${target.conn.name}': ${describeError(err)}`);
      }
    }),
    vscode.commands.registerCommand('rstmdb.applyEvent', (arg?: unknown) => applyEvent(manager, picker, arg)),
    vscode.commands.registerCommand('rstmdb.createInstance', async (arg?: ExplorerNode) => {
      const conn = connectionOf(arg) ?? (await pickConnection(manager, 'Create Instance'));
      if (!conn || refuseIfReadOnly(conn, 'creating an instance')) return;
      try {
        const client = await conn.ensureClient();
        let machine = arg instanceof MachineNode ? arg.name : arg instanceof VersionNode ? arg.parent.name : arg instanceof StateNode ? arg.parent.parent.name : undefined;
        let version = arg instanceof VersionNode ? arg.version : arg instanceof StateNode ? arg.parent.version : undefined;
        const machines = (await client.listMachines()).items;
        if (!machine) {
          if (!machines.length) {
            void vscode.window.showInformationMessage(`There are no machines on '${conn.name}' yet.`);
            return;
          }
          const m = await vscode.window.showQuickPick(machines.map((x) => ({ label: x.machine, description: versionList(x.versions) })), { title: 'Create Instance: machine' });
          if (!m) return;
          machine = m.label;
        }
        const versions = machines.find((x) => x.machine === machine)?.versions ?? [];
        if (version === undefined) {
          if (versions.length === 1) version = versions[0];
          else {
            const v = await vscode.window.showQuickPick([...versions].sort((a, b) => b - a).map((n) => ({ label: `v${n}`, n })), { title: `Create Instance: version of ${machine}` });
            if (!v) return;
            version = v.n;
          }
        }
        const id = await ask({ title: `Create ${machine} v${version} instance (1/2)`, prompt: 'Instance id (leave empty to let the server choose)' });
        if (id === undefined) return;
        const ctxText = await ask({ title: `Create ${machine} v${version} instance (2/2)`, prompt: 'Initial context (JSON object, optional)', value: '{}', validateInput: validateJsonObject });
        if (ctxText === undefined) return;
        const created = await client.createInstance({
          machine,
          version,
          ...(id.trim() ? { instance_id: id.trim() } : {}),
          initial_ctx: ctxText.trim() ? JSON.parse(ctxText) : {},
        });
        // Applied now; the stream skips the WAL's record of it (applied once).
        conn.changes.told({ kind: 'created', offset: created.wal_offset, instanceId: created.instance_id, machine, version, state: created.state });
        void vscode.window.showInformationMessage(`Created ${created.instance_id} (${machine} v${version}) in state '${created.state}'.`);
      } catch (err) {
        void vscode.window.showErrorMessage(`Could not create the instance: ${describeError(err)}`);
      }
    }),
    vscode.commands.registerCommand('rstmdb.deleteInstance', async (node?: unknown) => {
      const target = await targetInstance(manager, picker, node, 'Delete Instance');
      if (!target || refuseIfReadOnly(target.conn, 'deleting an instance')) return;
      // The server answers ok to a second delete; the tree and its counts must not lose it twice.
      if (target.conn.changes.isDeleted(target.id)) {
        void vscode.window.showInformationMessage(`'${target.id}' was already deleted on '${target.conn.name}'.`);
        return;
      }
      let inst;
      try {
        inst = await (await target.conn.ensureClient()).getInstance({ instance_id: target.id });
      } catch (err) {
        void vscode.window.showErrorMessage(`Could not delete '${target.id}': ${describeError(err)}`);
        return;
      }
      const del = 'Delete';
      const ok = await vscode.window.showWarningMessage(
        `Delete instance '${target.id}' (${inst.machine} v${inst.version}, in ${inst.state}) on '${target.conn.name}'? This cannot be undone.`,
        { modal: true },
        del,
      );
      if (ok !== del) return;
      try {
        const client = await target.conn.ensureClient();
        const deleted = await client.deleteInstance({ instance_id: target.id });
        // The server sends no event for a delete: the stream is told here (and skips the WAL's record of it).
        target.conn.changes.told({ kind: 'deleted', offset: deleted.wal_offset, instanceId: target.id, machine: inst.machine, version: inst.version, state: inst.state });
        picker.forget(target.conn, target.id);
        void vscode.window.showInformationMessage(`Deleted ${target.id}.`);
      } catch (err) {
        void vscode.window.showErrorMessage(`Could not delete '${target.id}': ${describeError(err)}`);
      }
    }),
  ];
}
