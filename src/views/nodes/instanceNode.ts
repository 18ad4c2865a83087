import * as vscode from 'vscode';
import { relativeTime } from '../../model/relativeTime';
import { middleEllipsis } from '../../model/words';
import type { InstanceSummary } from '../../rcp/types';
import { escapeMarkdown } from '../markdown';
import { ROW_CLICK } from '../rowClick';
import { ExplorerNode } from './node';
import type { StateNode } from './stateNode';
import { treeId } from './treeId';

/**
 * Characters of an id shown in its row: at the default sidebar width (300 px), an instance row
 * (four levels deep) has room for about this many next to "just now" or "59m ago" (measured in the e2e).
 */
const ID_SHOWN = 18;

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
    // A long id is shortened in the middle so "updated … ago" stays in view; the tooltip and Copy ID keep it whole.
    const item = new vscode.TreeItem(middleEllipsis(s.id, ID_SHOWN), vscode.TreeItemCollapsibleState.None);
    item.id = treeId('instance', this.connectionName, s.id);
    item.description = s.updated_at ? relativeTime(s.updated_at) : '';
    item.iconPath = new vscode.ThemeIcon('symbol-object');
    // Final-state instances take no event: tagged so the Apply Event action is not offered.
    item.contextValue = this.parent.parent.parent.parent.connection.config.readOnly ? 'instance.readonly' : this.parent.isFinal ? 'instance.final' : 'instance';
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
    // A click shows the inspector and leaves the keyboard in the tree (Enter or a double-click moves it there).
    item.command = { command: 'rstmdb.openInspector', title: 'Open Inspector', arguments: [this, ROW_CLICK] };
    return item;
  }
}
