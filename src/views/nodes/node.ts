import type * as vscode from 'vscode';

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
}
