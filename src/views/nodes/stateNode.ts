import * as vscode from 'vscode';
import { describeError } from '../../model/serverConnection';
import type { InstanceSummary } from '../../rcp/types';
import { InstanceNode } from './instanceNode';
import { LoadMoreNode } from './loadMoreNode';
import { MessageNode } from './messageNode';
import { ExplorerNode, type ExplorerContext } from './node';
import type { VersionNode } from './versionNode';

/**
 * A state of a machine version, with its instances loaded a page at a time.
 * Only loaded pages are kept. LIST_INSTANCES filters by machine and state but
 * not version, so for a machine with several versions the count covers all of
 * them and the list is filtered to this version as pages arrive.
 */
export class StateNode extends ExplorerNode {
  /** Instances in this state (machine-wide), from LIST_INSTANCES `total`. */
  count: number | undefined;
  private instances: InstanceNode[] = [];
  private readonly byId = new Map<string, InstanceNode>();
  private serverOffset = 0;
  private hasMore = false;
  private loaded = false;
  private loading: Promise<void> | undefined;
  private error: string | undefined;
  private readonly loadMore: LoadMoreNode;
  /**
   * Instances that arrived live (most recent last, at most a page of them).
   * They are shown first whenever a page lands, wherever the server lists
   * them, so a move is visible even when it raced the expansion.
   */
  private readonly recentArrivals = new Map<string, InstanceSummary>();
  /** Instances that left while a page was in flight: the page may still list them. */
  private readonly leftInFlight = new Set<string>();
  private liveChanges = 0;
  /** Bumped by reset(), so a page fetched for the list before it is dropped. */
  private epoch = 0;

  constructor(
    readonly parent: VersionNode,
    readonly state: string,
    private readonly ctx: ExplorerContext,
  ) {
    super();
    this.loadMore = new LoadMoreNode(this);
  }

  get key(): string {
    const v = this.parent;
    return `state:${v.parent.parent.connection.name}:${v.parent.name}:${v.version}:${this.state}`;
  }

  get loadedCount(): number {
    return this.instances.length;
  }

  private get allVersions(): boolean {
    return this.parent.parent.versions.length > 1;
  }

  treeItem(): vscode.TreeItem {
    const def = this.parent.definition;
    const item = new vscode.TreeItem(this.state, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.key;
    const initial = def?.initial === this.state;
    const terminal = def ? !def.transitions.some((t) => t.from.includes(this.state)) : false;
    const count = this.count === undefined ? '' : `${this.count}`;
    item.description = [count, initial ? 'initial' : '', terminal ? 'final' : '', this.allVersions && count ? 'all versions' : '']
      .filter(Boolean)
      .join(' · ');
    item.iconPath = new vscode.ThemeIcon(initial ? 'debug-start' : terminal ? 'pass-filled' : 'circle-large-outline');
    item.contextValue = this.parent.parent.parent.connection.config.readOnly ? 'state.readonly' : 'state';
    item.accessibilityInformation = { label: `state ${this.state}, ${item.description || 'count unknown'}` };
    const out = def?.transitions.filter((t) => t.from.includes(this.state)) ?? [];
    const md = new vscode.MarkdownString(`**${this.state}**${initial ? ' (initial)' : ''}\n\n`);
    md.appendMarkdown(`${count || '?'} instance(s)${this.allVersions ? ' across all versions' : ''}\n\n`);
    if (out.length) {
      md.appendMarkdown('Transitions:\n\n');
      for (const t of out) md.appendMarkdown(`- \`${t.event}\` → \`${t.to}\`${t.guard ? ` when \`${t.guard}\`` : ''}\n`);
    }
    item.tooltip = md;
    return item;
  }

  override async getChildren(): Promise<ExplorerNode[]> {
    if (!this.loaded) {
      const epoch = this.epoch;
      try {
        await this.fetchPage();
        // Reset meanwhile: what was fetched is gone; fetch the list as it is now.
        if (epoch !== this.epoch) return this.getChildren();
        this.loaded = true;
        this.error = undefined;
      } catch (err) {
        this.error = describeError(err);
      }
    }
    if (this.error && !this.instances.length) {
      return [new MessageNode(this, `Could not load instances: ${this.error}`, 'error', { command: 'rstmdb.refresh', title: 'Retry', arguments: [this] })];
    }
    if (!this.instances.length) return [new MessageNode(this, 'No instances in this state')];
    return this.hasMore ? [...this.instances, this.loadMore] : [...this.instances];
  }

  /** Fetch the next page (the "Load more…" row). */
  async more(): Promise<void> {
    await this.fetchPage();
    this.ctx.changed(this);
  }

  private fetchPage(): Promise<void> {
    if (!this.loading) {
      const loading = this.doFetch(this.epoch).finally(() => {
        if (this.loading === loading) this.loading = undefined;
      });
      this.loading = loading;
    }
    return this.loading;
  }

  private async doFetch(epoch: number): Promise<void> {
    const version = this.parent;
    const conn = version.parent.parent.connection;
    const client = await conn.ensureClient();
    // Creates the WAL already holds are applied first, so the page and total below never count one twice.
    await conn.catchUp();
    // A reset while this was in flight: its pages belong to a list no longer shown.
    const stale = () => epoch !== this.epoch;
    if (stale()) return;
    const want = this.ctx.pageSize();
    const changesBefore = this.liveChanges;
    this.leftInFlight.clear();
    let added = 0;
    let lastTotal: number | undefined;
    try {
      for (;;) {
        const page = await client.listInstances({ machine: version.parent.name, state: this.state, limit: want, offset: this.serverOffset });
        if (stale()) return;
        lastTotal = page.total;
        this.serverOffset += page.instances.length;
        this.hasMore = page.has_more;
        for (const s of page.instances) {
          if (s.version !== version.version || this.byId.has(s.id)) continue;
          this.append(s);
          added++;
        }
        if (!page.has_more || added >= want || !this.allVersions) break;
      }
    } finally {
      if (!stale()) this.applyLiveMoves();
    }
    if (stale()) return;
    const total = lastTotal === undefined ? undefined : await this.settledTotal(lastTotal, changesBefore);
    if (stale()) return;
    this.count = total;
    // Arrivals the WAL reported while the total was settled go first too.
    this.applyLiveMoves();
  }

  /** Lay live moves over what the server listed: departures gone, recent arrivals first. */
  private applyLiveMoves(): void {
    for (const id of this.leftInFlight) {
      const shown = this.byId.get(id);
      if (!shown) continue;
      // The server listed it before it left: it is no longer in the server's list either.
      this.byId.delete(id);
      this.instances = this.instances.filter((n) => n !== shown);
      if (this.serverOffset > 0) this.serverOffset--;
    }
    this.leftInFlight.clear();
    const arrivals = [...this.recentArrivals.values()].reverse().filter((a) => a.version === this.parent.version);
    if (!arrivals.length) return;
    const first = arrivals.map((a) => {
      const node = this.byId.get(a.id) ?? new InstanceNode(this, a);
      this.byId.set(a.id, node);
      return node;
    });
    const placed = new Set(first);
    const rest = this.instances.filter((n) => !placed.has(n));
    this.instances = [...first, ...rest];
  }

  /**
   * A total no live change raced. `total` was asked when the live-change counter
   * was `movesThen`; the WAL is then caught up (so any create or delete the server
   * may have counted is applied here too) and, if anything for this state was
   * applied since, the total is asked again — a few times at most, live changes
   * keep it right afterwards.
   */
  private async settledTotal(total: number, movesThen: number): Promise<number> {
    const conn = this.parent.parent.parent.connection;
    for (let attempt = 0; ; attempt++) {
      await conn.catchUp();
      // Disconnected meanwhile: keep what was read rather than connect again.
      if (this.liveChanges === movesThen || attempt === 3 || !conn.isReady) return total;
      // Just caught up above: the total asked now is measured against what is applied so far.
      const client = await conn.ensureClient();
      movesThen = this.liveChanges;
      total = (await client.listInstances({ machine: this.parent.parent.name, state: this.state, limit: 1 })).total;
    }
  }

  /** Counter of live changes in or out, so a count fetched meanwhile can be known stale. */
  get moves(): number {
    return this.liveChanges;
  }

  /** Takes a LIST_INSTANCES `total` asked when `moves` was `movesThen`, settled against live changes. */
  async countFetched(total: number, movesThen: number): Promise<void> {
    this.count = await this.settledTotal(total, movesThen);
  }

  private append(s: InstanceSummary): InstanceNode {
    const node = new InstanceNode(this, s);
    this.instances.push(node);
    this.byId.set(s.id, node);
    return node;
  }

  /** Listed here, or remembered as a live arrival to list first when the page loads. */
  lists(id: string): boolean {
    return this.byId.has(id) || this.recentArrivals.has(id);
  }

  find(id: string): InstanceNode | undefined {
    return this.byId.get(id);
  }

  /** Live update: an instance entered this state. Shown first, as the most recently updated. */
  arrive(s: InstanceSummary): InstanceNode | undefined {
    // Told twice (this window's own create, then the WAL): count it once.
    const known = this.byId.get(s.id) ?? (this.recentArrivals.has(s.id) ? null : undefined);
    if (known !== undefined) {
      if (known) known.summary = { ...known.summary, ...s, created_at: known.summary.created_at || s.created_at };
      this.recentArrivals.set(s.id, s);
      return known ?? undefined;
    }
    this.liveChanges++;
    if (this.count !== undefined) this.count++;
    this.leftInFlight.delete(s.id);
    this.recentArrivals.delete(s.id);
    this.recentArrivals.set(s.id, s);
    if (this.recentArrivals.size > this.ctx.pageSize()) this.recentArrivals.delete(this.recentArrivals.keys().next().value!);
    if (!this.loaded || s.version !== this.parent.version) return undefined;
    const existing = this.byId.get(s.id);
    if (existing) {
      existing.summary = s;
      return existing;
    }
    const node = new InstanceNode(this, s);
    this.instances.unshift(node);
    this.byId.set(s.id, node);
    return node;
  }

  /** Live update: an instance left this state (or was deleted). Returns what was shown for it. */
  leave(id: string): InstanceSummary | undefined {
    this.liveChanges++;
    if (this.count !== undefined && this.count > 0) this.count--;
    this.recentArrivals.delete(id);
    if (this.loading) this.leftInFlight.add(id);
    const node = this.byId.get(id);
    if (!node) return undefined;
    this.byId.delete(id);
    this.instances = this.instances.filter((n) => n !== node);
    if (this.serverOffset > 0) this.serverOffset--;
    return node.summary;
  }

  /**
   * An instance that was created here but has already moved on (its create was
   * read from the WAL after its first move arrived): it counts, but is not listed.
   */
  arrivedAndLeft(): void {
    this.liveChanges++;
    if (this.count !== undefined) this.count++;
  }

  /** Make sure an instance (found by id) is listed here, for reveal(). */
  ensure(s: InstanceSummary): InstanceNode {
    return this.byId.get(s.id) ?? this.arriveWithoutCount(s);
  }

  private arriveWithoutCount(s: InstanceSummary): InstanceNode {
    const node = new InstanceNode(this, s);
    this.instances.unshift(node);
    this.byId.set(s.id, node);
    return node;
  }

  /** Forget loaded pages; the next expansion fetches again. */
  reset(): void {
    this.epoch++;
    this.loading = undefined;
    this.recentArrivals.clear();
    this.instances = [];
    this.byId.clear();
    this.serverOffset = 0;
    this.hasMore = false;
    this.loaded = false;
    this.error = undefined;
  }
}
