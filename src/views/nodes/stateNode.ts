import * as vscode from 'vscode';
import { escapeMarkdown } from '../markdown';
import { describeError } from '../../model/serverConnection';
import { sortRows } from '../../model/instanceSort';
import { acrossVersions, plural } from '../../model/words';
import type { ChangeStream } from '../../model/changeStream';
import type { StateListing } from '../../model/stateListing';
import { InstanceNode } from './instanceNode';
import { LoadMoreNode } from './loadMoreNode';
import { MessageNode } from './messageNode';
import { ExplorerNode, type ExplorerContext } from './node';
import type { VersionNode } from './versionNode';
import { treeId } from './treeId';

/**
 * A state of a machine version: renders the count and rows the connection's
 * change stream keeps (src/model/changeStream.ts), a page at a time. The
 * stream decides what is listed where; this node only maps rows to tree items.
 * LIST_INSTANCES filters by machine and state but not version, so for a machine
 * with several versions the count covers all of them.
 */
export class StateNode extends ExplorerNode {
  /** Tree items of the rows, by instance id, so a row keeps its node (reveal, selection). */
  private readonly nodes = new Map<string, InstanceNode>();
  private readonly loadMore: LoadMoreNode;

  constructor(
    readonly parent: VersionNode,
    readonly state: string,
    private readonly ctx: ExplorerContext,
  ) {
    super();
    this.loadMore = new LoadMoreNode(this);
    // The listing exists from now on, so instances arriving before the first page are shown first when it lands.
    void this.listing;
  }

  private get changes(): ChangeStream {
    return this.parent.parent.parent.connection.changes;
  }

  private get listing(): StateListing {
    return this.changes.listing(this.parent.parent.name, this.parent.version, this.state);
  }

  /** Instances in this state (machine-wide), from LIST_INSTANCES `total` kept up to date by the stream. */
  get count(): number | undefined {
    return this.changes.count(this.parent.parent.name, this.state);
  }

  get key(): string {
    const v = this.parent;
    return treeId('state', v.parent.parent.connection.name, v.parent.name, v.version, this.state);
  }

  get loadedCount(): number {
    return this.listing.size;
  }

  private get allVersions(): boolean {
    return this.parent.parent.versions.length > 1;
  }

  /** The version's definition says this is where instances start. */
  get isInitial(): boolean {
    return this.parent.definition?.initial === this.state;
  }

  /** No transition leaves this state: an instance here takes no more events. */
  get isFinal(): boolean {
    const def = this.parent.definition;
    return def ? !def.transitions.some((t) => t.from.includes(this.state)) : false;
  }

  /**
   * How many of this version's instances are here, when the model knows: every
   * page of the state has been read (LIST cannot filter by version, so until
   * then only the machine-wide count is known). Live arrivals and departures
   * keep the rows, and so this number, up to date.
   */
  get versionCount(): number | undefined {
    const listing = this.listing;
    return listing.loaded && !listing.hasMore && !listing.error ? listing.size : undefined;
  }

  /** "45" for a single-version machine; "22 here · 45 across v1, v2" (or "45 across v1, v2") otherwise. */
  private countText(): string {
    if (this.count === undefined) return '';
    if (!this.allVersions) return `${this.count}`;
    const across = `${this.count} across ${acrossVersions(this.parent.parent.versions)}`;
    const here = this.versionCount;
    return here === undefined ? across : `${here} here · ${across}`;
  }

  treeItem(): vscode.TreeItem {
    const def = this.parent.definition;
    const item = new vscode.TreeItem(this.state, this.ctx.collapsible(this.key));
    item.id = this.key;
    const initial = this.isInitial;
    const terminal = this.isFinal;
    const count = this.countText();
    item.description = [count, initial ? 'initial' : '', terminal ? 'final' : ''].filter(Boolean).join(' · ');
    item.iconPath = new vscode.ThemeIcon(initial ? 'debug-start' : terminal ? 'pass-filled' : 'circle-large-outline');
    // Tagged so that menus offer only what makes sense here (Create Instance on the initial state only).
    item.contextValue = `state${initial ? '.initial' : ''}${terminal ? '.final' : ''}${this.parent.parent.parent.connection.config.readOnly ? '.readonly' : ''}`;
    item.accessibilityInformation = { label: `state ${this.state}, ${item.description || 'count unknown'}` };
    const out = def?.transitions.filter((t) => t.from.includes(this.state)) ?? [];
    const md = new vscode.MarkdownString(`**${escapeMarkdown(this.state)}**${initial ? ' (initial)' : ''}${terminal ? ' (final)' : ''}\n\n`);
    if (this.count === undefined) md.appendMarkdown('Count not read yet\n\n');
    else if (!this.allVersions) md.appendMarkdown(`${plural(this.count, 'instance')}\n\n`);
    else {
      const here = this.versionCount;
      md.appendMarkdown(
        `${here === undefined ? '' : `${plural(here, 'instance')} of v${this.parent.version} listed here; `}${plural(this.count, 'instance')} in this state across ${acrossVersions(this.parent.parent.versions)} (the server counts by machine and state, not by version)\n\n`,
      );
    }
    if (out.length) {
      md.appendMarkdown('Transitions:\n\n');
      for (const t of out) md.appendMarkdown(`- *${escapeMarkdown(t.event)}* → **${escapeMarkdown(t.to)}**${t.guard ? ` when ${escapeMarkdown(t.guard)}` : ''}\n`);
    }
    item.tooltip = md;
    return item;
  }

  override async getChildren(): Promise<ExplorerNode[]> {
    const listing = this.listing;
    if (!listing.loaded) {
      try {
        const epoch = listing.epoch;
        await this.changes.loadPage(listing, this.ctx.pageSize(), this.allVersions);
        // Reset meanwhile: what was fetched is gone; fetch the list as it is now.
        if (epoch !== listing.epoch) return this.getChildren();
      } catch (err) {
        listing.error = describeError(err);
      }
    }
    const sort = this.ctx.sortOf(this.key);
    const rows = sortRows(listing.rows(), sort);
    if (listing.error && !rows.length) {
      return [new MessageNode(this, `Could not load instances: ${listing.error}`, 'error', { command: 'rstmdb.refresh', title: 'Retry', arguments: [this] })];
    }
    const shown = new Set<string>();
    const nodes: ExplorerNode[] = rows.map((s) => {
      shown.add(s.id);
      let node = this.nodes.get(s.id);
      if (node) node.summary = s;
      else this.nodes.set(s.id, (node = new InstanceNode(this, s)));
      return node;
    });
    for (const id of [...this.nodes.keys()]) if (!shown.has(id)) this.nodes.delete(id);
    if (!nodes.length) return [new MessageNode(this, 'No instances in this state')];
    return listing.hasMore ? [...nodes, this.loadMore] : nodes;
  }

  /** Fetch the next page (the "Load more…" row). */
  async more(): Promise<void> {
    await this.changes.loadPage(this.listing, this.ctx.pageSize(), this.allVersions);
    this.ctx.changed(this);
  }

  /** The tree item of a listed instance (after getChildren), for reveal(). */
  nodeFor(id: string): InstanceNode | undefined {
    return this.nodes.get(id);
  }

  /** Forget loaded pages and the count; the next expansion fetches again. */
  reset(): void {
    this.nodes.clear();
    this.changes.resetListing(this.listing);
    this.changes.forgetCount(this.parent.parent.name, this.state);
  }
}
