import * as vscode from 'vscode';
import type { ConnectionNode } from './connectionNode';
import { ExplorerNode, type ExplorerContext } from './node';
import { VersionNode } from './versionNode';

export class MachineNode extends ExplorerNode {
  readonly versionNodes = new Map<number, VersionNode>();

  constructor(
    readonly parent: ConnectionNode,
    readonly name: string,
    public versions: number[],
    private readonly ctx: ExplorerContext,
  ) {
    super();
  }

  get key(): string {
    return `machine:${this.parent.connection.name}:${this.name}`;
  }

  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.key;
    item.description = `${this.versions.length} version${this.versions.length === 1 ? '' : 's'}`;
    item.iconPath = new vscode.ThemeIcon('symbol-class');
    item.contextValue = this.parent.connection.config.readOnly ? 'machine.readonly' : 'machine';
    item.tooltip = `${this.name}: versions ${this.versions.join(', ')}`;
    item.accessibilityInformation = { label: `machine ${this.name}, ${item.description}` };
    return item;
  }

  version(v: number): VersionNode {
    let node = this.versionNodes.get(v);
    if (!node) this.versionNodes.set(v, (node = new VersionNode(this, v, this.ctx)));
    return node;
  }

  override async getChildren(): Promise<ExplorerNode[]> {
    const nodes = [...this.versions].sort((a, b) => b - a).map((v) => this.version(v));
    // The version rows show their state counts: fetch the definitions together.
    await Promise.all(nodes.filter((n) => !n.definition).map((n) => n.loadDefinition()));
    return nodes;
  }
}
