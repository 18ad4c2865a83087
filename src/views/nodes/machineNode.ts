import * as vscode from 'vscode';
import { escapeMarkdown } from '../markdown';
import { plural, versionList } from '../../model/words';
import type { ConnectionNode } from './connectionNode';
import { ExplorerNode, type ExplorerContext } from './node';
import { VersionNode } from './versionNode';
import { treeId } from './treeId';

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
    return treeId('machine', this.parent.connection.name, this.name);
  }

  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.name, this.ctx.collapsible(this.key));
    item.id = this.key;
    const total = (this.shownTotal = this.total);
    item.description = `${plural(this.versions.length, 'version')}${total === undefined ? '' : ` · ${plural(total, 'instance')}`}`;
    item.iconPath = new vscode.ThemeIcon('symbol-class');
    item.contextValue = this.parent.connection.config.readOnly ? 'machine.readonly' : 'machine';
    // Left unset until the newest definition is read: VS Code then asks resolveTreeItem on hover, which reads it.
    if (this.versionNodes.get(Math.max(...this.versions))?.definition) item.tooltip = this.tooltip();
    item.accessibilityInformation = { label: `machine ${this.name}, ${item.description}` };
    return item;
  }

  /** The total the row shows now: it is redrawn only when this changes. */
  shownTotal: number | undefined;

  /** States of every version whose definition is loaded; undefined until all are. */
  private get states(): Set<string> | undefined {
    const out = new Set<string>();
    for (const v of this.versions) {
      const def = this.versionNodes.get(v)?.definition;
      if (!def) return undefined;
      for (const s of def.states) out.add(s);
    }
    return out;
  }

  /** The server's count of this machine's instances (all versions), read with the machine list. */
  listedTotal: number | undefined;

  /**
   * Instances of this machine across all versions: the sum of its states'
   * machine-wide counts once all are known (they follow every change), else the
   * count read with the machine list.
   */
  get total(): number | undefined {
    const states = this.states;
    if (!states) return this.listedTotal;
    let sum = 0;
    for (const s of states) {
      const n = this.parent.connection.changes.count(this.name, s);
      if (n === undefined) return this.listedTotal;
      sum += n;
    }
    return sum;
  }

  /** "order — 1 version: v1", then the newest definition's `meta.description` when it has one. */
  tooltip(): vscode.MarkdownString {
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${escapeMarkdown(this.name)}** — ${versionList(this.versions)}`);
    const total = this.total;
    if (total !== undefined) md.appendMarkdown(` — ${plural(total, 'instance')} in all`);
    const newest = this.versionNodes.get(Math.max(...this.versions))?.definition;
    const description = newest?.meta?.description;
    if (typeof description === 'string' && description.trim()) md.appendMarkdown(`\n\n${escapeMarkdown(description.trim())}`);
    return md;
  }

  /** Hovering a machine whose definitions were not read yet reads the newest one for its description. */
  async resolveTooltip(): Promise<vscode.MarkdownString> {
    const newest = this.version(Math.max(...this.versions));
    if (!newest.definition) await newest.loadDefinition();
    return this.tooltip();
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
