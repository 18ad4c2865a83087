import * as vscode from 'vscode';
import { registerConnectionCommands } from './commands/connectionCommands';
import { registerInspectorCommands } from './commands/inspectorCommands';
import { registerInstanceCommands } from './commands/instanceCommands';
import { InstancePicker } from './commands/instancePicker';
import { InspectorManager } from './inspector/inspectorManager';
import { ConnectionManager } from './model/connectionManager';
import { ConnectionStore } from './model/connectionStore';
import { Log } from './model/log';
import { ExplorerProvider } from './views/explorer';
import { INSTANCE_SCHEME, InstanceDocumentProvider } from './views/instanceDocument';
import type { ExplorerNode } from './views/nodes/node';
import { ConnectionStatusBar } from './views/statusBar';
import { crc32cImplementation } from './rcp/crc32c';
import { registerDefinitionCommands } from './commands/definitionCommands';
import { DefinitionCodeLensProvider, registerDefinitionCodeLens } from './editors/definitionCodeLens';
import { DefinitionDiagnostics } from './editors/definitionDiagnostics';
import { registerGuardHover } from './editors/guardHover';
import { DEFINITION_SCHEME, DefinitionDocumentProvider } from './views/definitionDocument';
import { PayloadEditors } from './views/payloadEditors';

export interface ExtensionApi {
  manager: ConnectionManager;
  inspectors: InspectorManager;
  explorer: ExplorerProvider;
  view: vscode.TreeView<ExplorerNode>;
  picker: InstancePicker;
  activatedInMs: number;
}

/**
 * The API is handed out only to tests: it reaches the connection store, and so
 * SecretStorage, which other extensions must not read through our exports.
 */
export function activate(context: vscode.ExtensionContext): ExtensionApi | undefined {
  const started = Date.now();
  const log = new Log();
  const store = new ConnectionStore(context.secrets);
  const manager = new ConnectionManager(store, log);
  const explorer = new ExplorerProvider(manager);
  const instanceDocuments = new InstanceDocumentProvider(manager);
  const inspectors = new InspectorManager(manager, context.extensionUri, log);
  // Before anything can open a payload document: VS Code's JSON support keeps a schema that failed to load.
  const payloadEditors = new PayloadEditors();
  context.subscriptions.push(payloadEditors, ...payloadEditors.register());
  void payloadEditors.closeRestored();
  // Registered at once, so a window reload finds the serializer for the panels it restores.
  context.subscriptions.push(inspectors, inspectors.register());
  const lenses = new DefinitionCodeLensProvider(manager);
  const view = vscode.window.createTreeView('rstmdb.connections', { treeDataProvider: explorer, showCollapseAll: true });
  const picker = new InstancePicker(manager, view, inspectors, context.workspaceState);
  // Creates and deletes are read from the WAL only while the tree they update can be seen.
  const visibilityChanged = (visible: boolean) => {
    manager.setFollowing(visible);
    explorer.setVisible(visible);
  };
  visibilityChanged(view.visible);
  const onVisibility = view.onDidChangeVisibility((e) => visibilityChanged(e.visible));
  context.subscriptions.push(
    onVisibility,
    log,
    store,
    manager,
    explorer,
    view,
    picker,
    new ConnectionStatusBar(manager),
    instanceDocuments,
    vscode.workspace.registerTextDocumentContentProvider(INSTANCE_SCHEME, instanceDocuments),
    ...registerConnectionCommands(manager, log),
    ...registerInstanceCommands(manager, explorer, view, instanceDocuments, picker, { editors: payloadEditors, log }),
    ...registerInspectorCommands(manager, inspectors, picker),
    new DefinitionDiagnostics(),
    registerGuardHover(),
    lenses,
    registerDefinitionCodeLens(lenses),
    vscode.workspace.registerTextDocumentContentProvider(DEFINITION_SCHEME, new DefinitionDocumentProvider(manager)),
    ...registerDefinitionCommands({ manager, explorer, lenses, extensionUri: context.extensionUri, log }),
  );
  const activatedInMs = Date.now() - started;
  // Which CRC32C runs says whether the native module loaded on this platform (the fallback is slower, not wrong).
  log.info(`rstmdb extension activated in ${activatedInMs} ms (CRC32C: ${crc32cImplementation})`);
  const api: ExtensionApi = { manager, inspectors, explorer, view, picker, activatedInMs };
  runTestSuiteIfAsked(api);
  return context.extensionMode === vscode.ExtensionMode.Test ? api : undefined;
}

/** Test hook: the real-VS Code harness points this at an in-extension-host suite. */
function runTestSuiteIfAsked(api: ExtensionApi): void {
  const suite = process.env.RSTMDB_EXTENSION_TESTS;
  if (!suite) return;
  setTimeout(() => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require(suite) as { run(api: ExtensionApi): Promise<void> };
    void mod.run(api);
  }, 0);
}

export function deactivate(): void {
  // Everything is in context.subscriptions and disposed by VS Code.
}
