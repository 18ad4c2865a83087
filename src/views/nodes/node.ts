import type * as vscode from 'vscode';
import type { InstanceSort } from '../../model/instanceSort';

/** What every tree node can do; nodes keep their children so reveal() and live updates find them again. */
export abstract class ExplorerNode {
  abstract readonly parent: ExplorerNode | undefined;
  abstract treeItem(): vscode.TreeItem;
  getChildren(): Promise<ExplorerNode[]> | ExplorerNode[] {
    return [];
  }
}

/** What nodes need from the explorer that holds them. */
export interface ExplorerContext {
  pageSize(): number;
  /** Ask for this node to be redrawn (coalesced). */
  changed(node: ExplorerNode): void;
  /**
   * How a row with this id opens: as the user last left it. Rows are made anew
   * after Disconnect/Connect or a refresh, and VS Code forgets the expansion of
   * rows it no longer has, so the explorer remembers it.
   */
  collapsible(id: string): vscode.TreeItemCollapsibleState;
  /** How the user chose to order a state's rows (by its key). */
  sortOf(stateKey: string): InstanceSort;
}
