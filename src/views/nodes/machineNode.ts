import * as vscode from 'vscode';
import type { ConnectionNode } from './connectionNode';
import type { RcpClient } from '../../rcp';
import { ExplorerNode, type ExplorerContext } from './node';
import type { StateNode } from './stateNode';
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

  /**
   * Ask again for every count shown under this machine (one request per state:
   * counts are machine-wide). Returns the state rows whose count changed.
   */
  async recount(client: RcpClient): Promise<StateNode[]> {
    const byState = new Map<string, StateNode[]>();
    for (const v of this.versionNodes.values()) {
      for (const node of v.states.values()) {
        if (node.count === undefined) continue;
        const list = byState.get(node.state) ?? [];
        list.push(node);
        byState.set(node.state, list);
      }
    }
    const changed: StateNode[] = [];
    await Promise.all(
      [...byState].map(async ([state, nodes]) => {
        const moves = nodes.map((n) => n.moves);
        const before = nodes.map((n) => n.count);
        const { total } = await client.listInstances({ machine: this.name, state, limit: 1 });
        await Promise.all(nodes.map((n, i) => n.countFetched(total, moves[i])));
        nodes.forEach((n, i) => n.count !== before[i] && changed.push(n));
      }),
    );
    return changed;
  }

  override async getChildren(): Promise<ExplorerNode[]> {
    const nodes = [...this.versions].sort((a, b) => b - a).map((v) => this.version(v));
    // The version rows show their state counts: fetch the definitions together.
    await Promise.all(nodes.filter((n) => !n.definition).map((n) => n.loadDefinition()));
    return nodes;
  }
}
