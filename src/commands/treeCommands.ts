import * as vscode from 'vscode';
import type { InspectorManager } from '../inspector/inspectorManager';
import type { ConnectionManager } from '../model/connectionManager';
import type { InstanceSort } from '../model/instanceSort';
import type { ExplorerProvider } from '../views/explorer';
import { InstanceNode } from '../views/nodes/instanceNode';
import { ExplorerNode } from '../views/nodes/node';
import { StateNode } from '../views/nodes/stateNode';

/** How long Enter waits for the selection to follow the focused row (it does not change when already selected). */
const SELECTION_WAIT_MS = 300;

/**
 * Commands of the tree itself. Enter in the tree. A click on an instance row shows its inspector and keeps
 * the keyboard in the tree; Enter, like a double-click, opens it and moves the
 * keyboard there (as in VS Code's Explorer). On any other row Enter does what
 * it always did (expand, or run the row's command).
 */
export function registerTreeCommands(
  manager: ConnectionManager,
  inspectors: InspectorManager,
  explorer: ExplorerProvider,
  view: vscode.TreeView<ExplorerNode>,
): vscode.Disposable[] {
  // A state's sort, chosen from its context menu and remembered per workspace.
  const sortBy = (sort: InstanceSort) => async (node?: unknown) => {
    const state = node instanceof StateNode ? node : view.selection[0] instanceof StateNode ? view.selection[0] : undefined;
    if (state) await explorer.setSort(state, sort);
  };
  return [
    vscode.commands.registerCommand('rstmdb.sortInstancesByUpdated', sortBy('updated')),
    vscode.commands.registerCommand('rstmdb.sortInstancesById', sortBy('id')),
    vscode.commands.registerCommand('rstmdb.sortInstancesAsListed', sortBy('listed')),
    vscode.commands.registerCommand('rstmdb.openFocusedRow', async () => {
      // Arrow keys move the tree's focus, not its selection, and the extension cannot read the focus:
      // the tree's own Enter (list.select) selects the focused row and runs its command; then the
      // selected instance's inspector takes the keyboard.
      const selected = new Promise<ExplorerNode | undefined>((resolve) => {
        const timer = setTimeout(() => done(view.selection[0]), SELECTION_WAIT_MS);
        const sub = view.onDidChangeSelection((e) => done(e.selection[0]));
        function done(node: ExplorerNode | undefined): void {
          clearTimeout(timer);
          sub.dispose();
          resolve(node);
        }
      });
      await vscode.commands.executeCommand('list.select');
      const node = await selected;
      if (!(node instanceof InstanceNode)) return;
      const conn = manager.get(node.connectionName);
      if (conn) inspectors.open(conn, node.id, node.summary, false);
    }),
  ];
}
