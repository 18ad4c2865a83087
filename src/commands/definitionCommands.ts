import * as vscode from 'vscode';
import { currentPlan, definitionOfText, deployConnection } from '../editors/deployPlanning';
import type { DefinitionCodeLensProvider } from '../editors/definitionCodeLens';
import { isDefinitionDocument, machineNameOf } from '../editors/definitionFiles';
import { DEFINITION_PREVIEW_TYPE, DefinitionPreviewPanel } from '../inspector/definitionPreview';
import { webviewOptions } from '../inspector/panelHost';
import type { ConnectionManager } from '../model/connectionManager';
import { checkDefinitionText } from '../model/definitionCheck';
import { formatDefinition, nextFreeVersion } from '../model/definitionFormat';
import type { Log } from '../model/log';
import { describeError, type ServerConnection } from '../model/serverConnection';
import { RcpError } from '../rcp';
import { validateDefinition } from '../rcp/definition';
import type { MachineDefinition } from '../rcp/types';
import { definitionUri } from '../views/definitionDocument';
import type { ExplorerProvider } from '../views/explorer';
import { MachineNode } from '../views/nodes/machineNode';
import { VersionNode } from '../views/nodes/versionNode';
import { pickConnection, refuseIfReadOnly } from './prompts';

export interface DefinitionCommandDeps {
  manager: ConnectionManager;
  explorer: ExplorerProvider;
  lenses: DefinitionCodeLensProvider;
  extensionUri: vscode.Uri;
  log: Log;
}

/** The definition file a command is about: the lens's argument, or the active editor's. */
async function definitionDocument(arg: unknown): Promise<vscode.TextDocument | undefined> {
  if (arg instanceof vscode.Uri) return vscode.workspace.openTextDocument(arg);
  const doc = vscode.window.activeTextEditor?.document;
  if (doc && isDefinitionDocument(doc)) return doc;
  void vscode.window.showInformationMessage('Open a *.machine.json file first.');
  return undefined;
}

const fileName = (doc: vscode.TextDocument) => doc.uri.path.slice(doc.uri.path.lastIndexOf('/') + 1);

/** The definition in a document, or undefined after telling the user why it cannot be sent as it is. */
function sendableDefinition(doc: vscode.TextDocument): MachineDefinition | undefined {
  const def = definitionOfText(doc.getText());
  if (!def) {
    void vscode.window.showErrorMessage(`${fileName(doc)} is not a JSON object: fix it before deploying.`);
    return undefined;
  }
  // The same checks the editor shows, plus the shapes the schema underlines: the server answers all of them INTERNAL_ERROR.
  const errors = [...new Set([...validateDefinition(def), ...checkDefinitionText(doc.getText()).filter((d) => d.severity === 'error').map((d) => d.message)])];
  if (errors.length) {
    void vscode.window
      .showErrorMessage(`${fileName(doc)} was not deployed: the server would refuse it. ${errors[0]}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}.`, 'Show Problems')
      .then((pick) => pick && vscode.commands.executeCommand('workbench.actions.view.problems'));
    return undefined;
  }
  return def;
}

/** The connection to deploy to: the active (or only) one, else the user's pick. */
async function targetConnection(manager: ConnectionManager, title: string): Promise<ServerConnection | undefined> {
  return deployConnection(manager) ?? (await pickConnection(manager, title));
}

async function deploy(deps: DefinitionCommandDeps, arg: unknown): Promise<void> {
  const doc = await definitionDocument(arg);
  if (!doc) return;
  const def = sendableDefinition(doc);
  if (!def) return;
  const machine = machineNameOf(doc.uri);
  if (!machine) {
    void vscode.window.showErrorMessage(`Name the file <machine>.machine.json: the machine's name is taken from it.`);
    return;
  }
  const conn = await targetConnection(deps.manager, 'Deploy Machine Definition');
  if (!conn || refuseIfReadOnly(conn, 'deploying a machine definition')) return;
  try {
    const { plan, versions } = await currentPlan(conn, machine, def);
    if (plan.kind === 'deployed') {
      void vscode.window.showInformationMessage(`${machine} v${plan.version} on '${conn.name}' is already this definition: already deployed, nothing to do.`);
      return;
    }
    let version = plan.version;
    let known = versions;
    // A version taken meanwhile (another client deployed) is offered the next free one; never a blind retry.
    for (;;) {
      try {
        const r = await (await conn.ensureClient()).putMachine({ machine, version, definition: def });
        if (!r.created) {
          void vscode.window.showInformationMessage(`${machine} v${version} on '${conn.name}' already holds this definition: already deployed.`);
        } else {
          deps.log.info(`[${conn.name}] deployed ${fileName(doc)} as ${machine} v${version} (checksum ${r.stored_checksum})`);
          void vscode.window.showInformationMessage(`Deployed ${fileName(doc)} to '${conn.name}' as ${machine} v${version}.`);
        }
        break;
      } catch (err) {
        if (!(err instanceof RcpError) || err.code !== 'MACHINE_VERSION_EXISTS') throw err;
        known = (await (await conn.ensureClient()).listMachines()).items.find((i) => i.machine === machine)?.versions ?? [...known, version];
        const next = nextFreeVersion(known, version);
        const choice = `Deploy as v${next}`;
        const pick = await vscode.window.showWarningMessage(`${machine} v${version} already exists on '${conn.name}' with a different definition.`, { modal: true }, choice);
        if (pick !== choice) return;
        version = next;
      }
    }
    // Show the new version in the tree now (the WAL tail would also bring it, while the tree is followed).
    const root = deps.explorer.root(conn.name);
    if (root?.machinePut(machine, version)) deps.explorer.refresh(root);
    void conn.catchUp().catch(() => undefined);
    deps.lenses.refresh();
  } catch (err) {
    // Every definition the server refuses answers INTERNAL_ERROR "retryable": it is not retried.
    void vscode.window.showErrorMessage(`Could not deploy ${fileName(doc)} to '${conn.name}' as ${machine}: ${describeError(err)}`);
  }
}

async function diffWithDeployed(manager: ConnectionManager, arg: unknown): Promise<void> {
  const doc = await definitionDocument(arg);
  if (!doc) return;
  const machine = machineNameOf(doc.uri);
  const conn = await targetConnection(manager, 'Diff with Deployed');
  if (!conn) return;
  try {
    const versions = (await (await conn.ensureClient()).listMachines()).items.find((i) => i.machine === machine)?.versions ?? [];
    if (!versions.length) {
      void vscode.window.showInformationMessage(`'${machine}' is not deployed on '${conn.name}' yet: nothing to compare with.`);
      return;
    }
    const latest = Math.max(...versions);
    await vscode.commands.executeCommand('vscode.diff', definitionUri(conn.name, machine, latest), doc.uri, `${machine} v${latest} on ${conn.name} ↔ ${fileName(doc)}`);
  } catch (err) {
    void vscode.window.showErrorMessage(`Could not read '${machine}' from '${conn.name}': ${describeError(err)}`);
  }
}

/** The version a tree command is about, or a machine and version picked from the active connection. */
async function pickVersion(manager: ConnectionManager, arg: unknown, title: string): Promise<{ conn: ServerConnection; machine: string; version: number; versions: number[] } | undefined> {
  if (arg instanceof VersionNode) return { conn: arg.parent.parent.connection, machine: arg.parent.name, version: arg.version, versions: arg.parent.versions };
  const conn = arg instanceof MachineNode ? arg.parent.connection : await pickConnection(manager, title);
  if (!conn) return undefined;
  try {
    const items = (await (await conn.ensureClient()).listMachines()).items.filter((m) => !(arg instanceof MachineNode) || m.machine === arg.name);
    const picks = items.flatMap((m) => [...m.versions].sort((a, b) => b - a).map((v) => ({ label: `${m.machine} v${v}`, machine: m.machine, version: v, versions: m.versions })));
    const pick = await vscode.window.showQuickPick(picks, { title, placeHolder: picks.length ? 'Machine and version' : `There are no machines on '${conn.name}' yet.` });
    return pick && { conn, ...pick };
  } catch (err) {
    void vscode.window.showErrorMessage(`Could not list machines on '${conn.name}': ${describeError(err)}`);
    return undefined;
  }
}

async function openDefinition(manager: ConnectionManager, arg: unknown): Promise<void> {
  const v = await pickVersion(manager, arg, 'Open Machine Definition');
  if (!v) return;
  const doc = await vscode.workspace.openTextDocument(definitionUri(v.conn.name, v.machine, v.version));
  await vscode.languages.setTextDocumentLanguage(doc, 'json');
  await vscode.window.showTextDocument(doc, { preview: false });
}

async function compareVersions(manager: ConnectionManager, arg: unknown): Promise<void> {
  const v = await pickVersion(manager, arg, 'Compare Versions');
  if (!v) return;
  const others = [...v.versions].filter((n) => n !== v.version).sort((a, b) => b - a);
  if (!others.length) {
    void vscode.window.showInformationMessage(`${v.machine} has only v${v.version} on '${v.conn.name}': nothing to compare with.`);
    return;
  }
  const other = await vscode.window.showQuickPick(
    others.map((n) => ({ label: `v${n}`, version: n })),
    { title: `Compare ${v.machine} v${v.version} with…`, placeHolder: 'The other version' },
  );
  if (!other) return;
  const [older, newer] = other.version < v.version ? [other.version, v.version] : [v.version, other.version];
  await vscode.commands.executeCommand(
    'vscode.diff',
    definitionUri(v.conn.name, v.machine, older),
    definitionUri(v.conn.name, v.machine, newer),
    `${v.machine} v${older} ↔ v${newer} (${v.conn.name})`,
  );
}

async function saveAsFile(manager: ConnectionManager, arg: unknown): Promise<void> {
  const v = await pickVersion(manager, arg, 'Save Machine Definition as File');
  if (!v) return;
  let text: string;
  try {
    text = formatDefinition((await v.conn.definition(v.machine, v.version)).definition);
  } catch (err) {
    void vscode.window.showErrorMessage(`Could not read ${v.machine} v${v.version} from '${v.conn.name}': ${describeError(err)}`);
    return;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const suggested = `${v.machine}.machine.json`;
  const target = await vscode.window.showSaveDialog({
    title: `Save ${v.machine} v${v.version} as`,
    saveLabel: 'Save Definition',
    filters: { 'Machine definition': ['json'] },
    ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, suggested) } : {}),
  });
  if (!target) return;
  // The name must end in .machine.json for the schema, checks and lenses to apply (and it names the machine).
  const uri = /\.machine\.json$/i.test(target.path) ? target : target.with({ path: target.path.replace(/(\.json)?$/i, '.machine.json') });
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  await vscode.window.showTextDocument(uri, { preview: false });
}

export function registerDefinitionCommands(deps: DefinitionCommandDeps): vscode.Disposable[] {
  const previews = new Map<string, DefinitionPreviewPanel>();
  const preview = async (arg: unknown) => {
    const doc = await definitionDocument(arg);
    if (!doc) return;
    const key = doc.uri.toString();
    const open = previews.get(key);
    if (open) return open.reveal();
    const machine = machineNameOf(doc.uri);
    const panel = vscode.window.createWebviewPanel(DEFINITION_PREVIEW_TYPE, `Preview: ${fileName(doc)}`, vscode.ViewColumn.Beside, { ...webviewOptions(deps.extensionUri), enableFindWidget: true });
    const p = new DefinitionPreviewPanel(panel, doc, machine, () => ({ conn: deployConnection(deps.manager), version: undefined }), deps.extensionUri, deps.log);
    previews.set(key, p);
    p.onDidDispose(() => previews.get(key) === p && previews.delete(key));
  };
  return [
    vscode.commands.registerCommand('rstmdb.deployDefinition', (arg?: unknown) => deploy(deps, arg)),
    vscode.commands.registerCommand('rstmdb.diffDefinition', (arg?: unknown) => diffWithDeployed(deps.manager, arg)),
    vscode.commands.registerCommand('rstmdb.previewDefinition', preview),
    vscode.commands.registerCommand('rstmdb.openDefinition', (arg?: unknown) => openDefinition(deps.manager, arg)),
    vscode.commands.registerCommand('rstmdb.compareVersions', (arg?: unknown) => compareVersions(deps.manager, arg)),
    vscode.commands.registerCommand('rstmdb.saveDefinitionAs', (arg?: unknown) => saveAsFile(deps.manager, arg)),
    { dispose: () => [...previews.values()].forEach((p) => p.dispose()) },
  ];
}
