import * as vscode from 'vscode';
import { relativeTime } from '../../model/relativeTime';
import type { InstanceSummary } from '../../rcp/types';
import { escapeMarkdown } from '../markdown';
import { ExplorerNode } from './node';
import type { StateNode } from './stateNode';

export class InstanceNode extends ExplorerNode {
  constructor(
    readonly parent: StateNode,
    public summary: InstanceSummary,
  ) {
    super();
  }

  get id(): string {
    return this.summary.id;
  }

  get connectionName(): string {
    return this.parent.parent.parent.parent.connection.name;
  }

  treeItem(): vscode.TreeItem {
    const s = this.summary;
    const item = new vscode.TreeItem(s.id, vscode.TreeItemCollapsibleState.None);
    item.id = `instance:${this.connectionName}:${s.id}`;
    item.description = s.updated_at ? relativeTime(s.updated_at) : '';
    item.iconPath = new vscode.ThemeIcon('symbol-object');
    item.contextValue = this.parent.parent.parent.parent.connection.config.readOnly ? 'instance.readonly' : 'instance';
    item.accessibilityInformation = { label: `instance ${s.id} in ${s.state}${item.description ? `, updated ${item.description}` : ''}` };
    const fmt = (ms: number) => (ms ? `${new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} (${relativeTime(ms)})` : '—');
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMarkdown(s.id)}**\n\n`);
    md.appendMarkdown(`| | |\n|---|---|\n`);
    md.appendMarkdown(`| $(symbol-enum) State | ${escapeMarkdown(s.state)} |\n`);
    md.appendMarkdown(`| $(versions) Machine | ${escapeMarkdown(s.machine)} v${escapeMarkdown(s.version)} |\n`);
    md.appendMarkdown(`| $(history) Last WAL offset | ${escapeMarkdown(s.last_wal_offset)} |\n`);
    md.appendMarkdown(`| $(add) Created | ${fmt(s.created_at)} |\n`);
    md.appendMarkdown(`| $(edit) Updated | ${fmt(s.updated_at)} |\n`);
    item.tooltip = md;
    item.command = { command: 'rstmdb.openInspector', title: 'Open Inspector', arguments: [this] };
    return item;
  }
}
