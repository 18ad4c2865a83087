import * as vscode from 'vscode';
import { registerConnectionCommands } from './commands/connectionCommands';
import { registerInspectorCommands } from './commands/inspectorCommands';
import { registerInstanceCommands } from './commands/instanceCommands';
import { InstancePicker } from './commands/instancePicker';
import { registerTreeCommands } from './commands/treeCommands';
import { InspectorManager } from './inspector/inspectorManager';
import { ConnectionManager } from './model/connectionManager';
import { ConnectionStore } from './model/connectionStore';
import { SortMemory } from './model/instanceSort';
import { Log } from './model/log';
import { ExplorerProvider } from './views/explorer';
import { INSTANCE_SCHEME, InstanceDocumentProvider } from './views/instanceDocument';
import type { ExplorerNode } from './views/nodes/node';
import { ConnectionStatusBar } from './views/statusBar';
import { tokenResolver } from './commands/tokenPrompt';
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
  testing: TestingSwitches;
}

/** What tests may read or switch, named for what it does (only handed out in test mode). */
export interface TestingSwitches {
  /** Redraw batches handed to VS Code so far (a burst of events must not become a burst of redraws). */
  readonly redraws: number;
  /** Live events received so far, from every connection's feed. */
  readonly liveEvents: number;
  /** Stall every WAL tail, as if its reads stopped: only the live feed can then move rows. */
  stallWalTail(stalled: boolean): void;
}

/**
 * The API is handed out only to tests: it reaches the connection store, and so
 * SecretStorage, which other extensions must not read through our exports.
 */
export function activate(context: vscode.ExtensionContext): ExtensionApi | undefined {
  const started = Date.now();
  const log = new Log();
  const store = new ConnectionStore(context.secrets);
  const manager = new ConnectionManager(store, log, tokenResolver(store));
  const explorer = new ExplorerProvider(manager, new SortMemory(context.workspaceState));
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
  let walTailStalled = false;
  const visibilityChanged = (visible: boolean) => {
    manager.setFollowing(visible && !walTailStalled);
    explorer.setVisible(visible);
  };
  visibilityChanged(view.visible);
  const onVisibility = view.onDidChangeVisibility((e) => visibilityChanged(e.visible));
  context.subscriptions.push(...explorer.trackExpansion(view));
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
    ...registerTreeCommands(manager, inspectors, explorer, view),
  );
  const activatedInMs = Date.now() - started;
  // Which CRC32C runs says whether the native module loaded on this platform (the fallback is slower, not wrong).
  log.info(`rstmdb extension activated in ${activatedInMs} ms (CRC32C: ${crc32cImplementation})`);
  const testing: TestingSwitches = {
    get redraws() {
      return explorer.refreshes;
    },
    get liveEvents() {
      return explorer.eventsSeen;
    },
    stallWalTail(stalled) {
      walTailStalled = stalled;
      visibilityChanged(view.visible);
    },
  };
  // Handed out only in test mode (VS Code's own extension tests: @vscode/test-electron, or the code-server harness).
  return context.extensionMode === vscode.ExtensionMode.Test ? { manager, inspectors, explorer, view, picker, activatedInMs, testing } : undefined;
}

export function deactivate(): void {
  // Everything is in context.subscriptions and disposed by VS Code.
}
