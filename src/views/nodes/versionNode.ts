import * as vscode from 'vscode';
import { escapeMarkdown } from '../markdown';
import { describeError } from '../../model/serverConnection';
import type { GetMachineResult } from '../../rcp/types';
import type { MachineNode } from './machineNode';
import { MessageNode } from './messageNode';
import { ExplorerNode, type ExplorerContext } from './node';
import { StateNode } from './stateNode';
import { treeId } from './treeId';

export class VersionNode extends ExplorerNode {
  definition: GetMachineResult['definition'] | undefined;
  readonly states = new Map<string, StateNode>();
  private error: string | undefined;

  constructor(
    readonly parent: MachineNode,
    readonly version: number,
    private readonly ctx: ExplorerContext,
  ) {
    super();
  }

  get key(): string {
    return treeId('version', this.parent.parent.connection.name, this.parent.name, this.version);
  }

  treeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(`v${this.version}`, this.ctx.collapsible(this.key));
    item.id = this.key;
    item.description = this.definition ? `${this.definition.states.length} states` : undefined;
    item.iconPath = new vscode.ThemeIcon('versions');
    item.contextValue = this.parent.parent.connection.config.readOnly ? 'version.readonly' : 'version';
    item.accessibilityInformation = { label: `version ${this.version}${item.description ? `, ${item.description}` : ''}` };
    if (this.definition) {
      const md = new vscode.MarkdownString(`**${escapeMarkdown(this.parent.name)}** v${escapeMarkdown(this.version)}\n\n`);
      md.appendMarkdown(`${this.definition.states.length} states, ${this.definition.transitions.length} transitions, initial *${escapeMarkdown(this.definition.initial)}*`);
      item.tooltip = md;
    }
    return item;
  }

  async loadDefinition(): Promise<void> {
    const conn = this.parent.parent.connection;
    try {
      this.definition = (await conn.definition(this.parent.name, this.version)).definition;
      this.error = undefined;
    } catch (err) {
      this.error = describeError(err);
    }
  }

  override async getChildren(): Promise<ExplorerNode[]> {
    if (!this.definition) await this.loadDefinition();
    if (!this.definition) return [new MessageNode(this, `Could not load the definition: ${this.error}`, 'error')];
    for (const s of this.definition.states) if (!this.states.has(s)) this.states.set(s, new StateNode(this, s, this.ctx));
    const nodes = this.definition.states.map((s) => this.states.get(s)!);
    // Counts are fetched when the version is expanded, all states at once (pipelined), settled by the stream.
    const missing = nodes.filter((n) => n.count === undefined);
    if (missing.length) {
      try {
        const conn = this.parent.parent.connection;
        await conn.ensureClient();
        await conn.changes.loadCounts(this.parent.name, missing.map((n) => n.state));
      } catch {
        // Counts stay unknown ("?"); the states are still browsable.
      }
    }
    return nodes;
  }

  reset(): void {
    this.definition = undefined;
    for (const s of this.states.values()) s.reset();
  }
}
