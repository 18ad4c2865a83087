import * as vscode from 'vscode';
import { ExplorerNode } from './node';

/** A one-line note in the tree: an error, an empty list, a hint. */
export class MessageNode extends ExplorerNode {
  constructor(
    readonly parent: ExplorerNode | undefined,
    private readonly text: string,
    private readonly icon = 'info',
    private readonly command?: vscode.Command,
    private readonly detail?: string,
  ) {
    super();
  }

  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.text, vscode.TreeItemCollapsibleState.None);
    item.iconPath = new vscode.ThemeIcon(this.icon, this.icon === 'error' ? new vscode.ThemeColor('errorForeground') : undefined);
    item.contextValue = 'message';
    item.tooltip = this.detail ?? this.text;
    if (this.command) item.command = this.command;
    return item;
  }
}
