import * as vscode from 'vscode';
import { ExplorerNode } from './node';
import type { StateNode } from './stateNode';

/** The last row of a paged instance list. */
export class LoadMoreNode extends ExplorerNode {
  constructor(readonly parent: StateNode) {
    super();
  }

  treeItem(): vscode.TreeItem {
    const p = this.parent;
    const item = new vscode.TreeItem('Load more…', vscode.TreeItemCollapsibleState.None);
    item.id = `${p.key}:load-more`;
    item.description = p.count !== undefined ? `${p.loadedCount} of ${p.count} shown` : undefined;
    item.iconPath = new vscode.ThemeIcon('ellipsis');
    item.contextValue = 'loadMore';
    item.command = { command: 'rstmdb.loadMore', title: 'Load More', arguments: [p] };
    return item;
  }
}
