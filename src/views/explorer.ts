import * as vscode from 'vscode';
import { Coalescer } from '../model/coalescer';
import type { ConnectionManager } from '../model/connectionManager';
import type { ServerConnection } from '../model/serverConnection';
import type { GetInstanceResult } from '../rcp/types';
import { ConnectionNode } from './nodes/connectionNode';
import { MessageNode } from './nodes/messageNode';
import { MachineNode } from './nodes/machineNode';
import type { InstanceNode } from './nodes/instanceNode';
import type { ExplorerContext, ExplorerNode } from './nodes/node';
import type { StateNode } from './nodes/stateNode';
import type { InstanceSort, SortMemory } from '../model/instanceSort';

/** Redraws happen at most this often, however fast events arrive. */
const REFRESH_INTERVAL_MS = 100;

/**
 * The rstmdb explorer: Connection → Machine → Version → State → Instance.
 * Freshness lives in each connection's change stream (src/model/changeStream.ts):
 * it moves instances between listings and keeps counts; this provider only
 * redraws the nodes of the states the stream touched, in coalesced batches.
 */
export class ExplorerProvider implements vscode.TreeDataProvider<ExplorerNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<ExplorerNode | ExplorerNode[] | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly roots = new Map<string, ConnectionNode>();
  private readonly perConnection = new Map<string, vscode.Disposable[]>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly redraw: Coalescer<ExplorerNode>;
  /** Redraw requests handed to VS Code (for the benchmark and tests). */
  refreshes = 0;
  eventsSeen = 0;
  readonly ctx: ExplorerContext;

  constructor(
    private readonly manager: ConnectionManager,
    private readonly sorts?: SortMemory,
  ) {
    this.redraw = new Coalescer<ExplorerNode>(REFRESH_INTERVAL_MS, (batch) => this.fire([...batch]));
    this.ctx = {
      pageSize: () => Math.max(1, Math.min(5000, vscode.workspace.getConfiguration('rstmdb').get<number>('instancesPageSize') ?? 100)),
      changed: (node) => this.redraw.add(node),
      sortOf: (stateKey) => this.sorts?.get(stateKey) ?? 'listed',
      collapsible: (id) => (this.expanded.has(id) ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed),
    };
    this.disposables.push(
      manager.onDidChangeConnections(() => this.syncRoots()),
      manager.onDidChangeStatus((c) => this.onStatus(c)),
    );
    this.syncRoots();
  }

  /** Order a state's rows, remembered per workspace; the rows are redrawn at once. */
  async setSort(state: StateNode, sort: InstanceSort): Promise<void> {
    await this.sorts?.set(state.key, sort);
    this.fire([state]);
  }

  /**
   * The machine row carries the all-versions total, redrawn when it changed,
   * but only while the row is collapsed: redrawing a row makes VS Code drop the
   * rows under it until it reads them again, and a version expanded in that
   * moment fails ("No tree item with id … found"). An open machine shows its
   * states' counts anyway; its total is brought up to date when it is closed.
   */
  private machineTotalChanged(m: MachineNode): void {
    if (m.total !== m.shownTotal && !this.expanded.has(m.key)) this.redraw.add(m);
  }

  /** Ids of the machine, version and state rows the user left open. */
  private readonly expanded = new Set<string>();

  /** Follows the user's expanding and collapsing, so rows made anew open as they were. */
  trackExpansion(view: vscode.TreeView<ExplorerNode>): vscode.Disposable[] {
    const idOf = (node: ExplorerNode) => (node instanceof ConnectionNode ? undefined : (node as { key?: unknown }).key);
    return [
      view.onDidExpandElement((e) => {
        const id = idOf(e.element);
        if (typeof id === 'string') this.expanded.add(id);
      }),
      view.onDidCollapseElement((e) => {
        const id = idOf(e.element);
        if (typeof id === 'string') this.expanded.delete(id);
        if (e.element instanceof MachineNode) this.machineTotalChanged(e.element);
      }),
    ];
  }

  private fire(nodes: ExplorerNode[] | undefined): void {
    this.refreshes++;
    this.changeEmitter.fire(nodes);
  }

  private syncRoots(): void {
    const live = new Set(this.manager.all().map((c) => c.name));
    for (const name of [...this.roots.keys()]) {
      if (!live.has(name) || this.roots.get(name)!.connection !== this.manager.get(name)) {
        for (const d of this.perConnection.get(name) ?? []) d.dispose();
        this.perConnection.delete(name);
        this.roots.delete(name);
      }
    }
    for (const conn of this.manager.all()) {
      if (this.roots.has(conn.name)) continue;
      const node = new ConnectionNode(conn, this.ctx);
      this.roots.set(conn.name, node);
      this.perConnection.set(conn.name, [
        conn.onDidReceiveEvent(() => this.eventsSeen++),
        conn.onDidResync(() => this.resync(node)),
        conn.changes.onTouch((machine, state) => this.touched(node, machine, state)),
        conn.changes.onChange((c) => {
          if (c.kind === 'machine') {
            if (node.machinePut(c.machine, c.version)) this.redraw.add(node);
            return;
          }
          // The count read with the machine list follows creates and deletes (the states' counts do so themselves).
          const m = c.machine === undefined ? undefined : node.machine(c.machine);
          if (!m || m.listedTotal === undefined || (c.kind !== 'created' && c.kind !== 'deleted')) return;
          m.listedTotal += c.kind === 'created' ? 1 : -1;
          this.machineTotalChanged(m);
        }),
      ]);
    }
    this.fire(undefined);
  }

  private onStatus(conn: ServerConnection): void {
    const node = this.roots.get(conn.name);
    if (!node) return;
    if (conn.status === 'disconnected' || conn.status === 'failed') node.connectionLost();
    else node.connectionWanted();
    this.fire([node]);
  }

  /** After a reconnect, what is shown is fetched again. */
  private resync(node: ConnectionNode): void {
    // The stream dropped its listings and counts; what it applied stays applied.
    node.reset();
    this.fire([node]);
  }

  /** A state's count or rows changed: every version's row for it shows the machine-wide count. */
  private touched(root: ConnectionNode, machine: string, state: string): void {
    const m = root.machine(machine);
    if (!m) return;
    this.machineTotalChanged(m);
    for (const v of m.versionNodes.values()) {
      const node = v.states.get(state);
      if (node) this.redraw.add(node);
    }
  }

  private clock: NodeJS.Timeout | undefined;

  /**
   * While the tree is visible, listed instances are redrawn every 30 s so their
   * "updated 5m ago" stays true (no request: the rows are already loaded).
   */
  setVisible(visible: boolean): void {
    clearInterval(this.clock);
    this.clock = undefined;
    if (!visible) return;
    this.clock = setInterval(() => {
      for (const root of this.roots.values()) {
        for (const m of root.machines.values()) {
          for (const v of m.versionNodes.values()) for (const st of v.states.values()) if (st.loadedCount > 0) this.redraw.add(st);
        }
      }
    }, 30_000);
  }

  getTreeItem(node: ExplorerNode): vscode.TreeItem {
    return node.treeItem();
  }

  /** The connections, after a note on those an untrusted workspace defines (and why they are missing). */
  private async rootNodes(): Promise<ExplorerNode[]> {
    const ignored = await this.manager.store.ignoresWorkspaceConnections();
    return ignored ? [untrustedNote(), ...this.roots.values()] : [...this.roots.values()];
  }

  /** A machine's tooltip carries its definition's description: read when the user hovers, not for every row. */
  async resolveTreeItem(item: vscode.TreeItem, node: ExplorerNode): Promise<vscode.TreeItem> {
    if (node instanceof MachineNode) {
      try {
        item.tooltip = await node.resolveTooltip();
      } catch {
        // The tooltip stays as it was.
      }
    }
    return item;
  }

  getChildren(node?: ExplorerNode): vscode.ProviderResult<ExplorerNode[]> {
    if (!node) return this.rootNodes();
    return node.getChildren();
  }

  getParent(node: ExplorerNode): ExplorerNode | undefined {
    return node.parent;
  }

  root(name: string): ConnectionNode | undefined {
    return this.roots.get(name);
  }

  /** Redraw a node (or everything) now. */
  refresh(node?: ExplorerNode): void {
    this.fire(node ? [node] : undefined);
  }

  /** Find (loading as needed) the tree node of an instance the server just described. */
  async locate(conn: ServerConnection, instanceId: string, inst: GetInstanceResult): Promise<InstanceNode | undefined> {
    const root = this.roots.get(conn.name);
    if (!root) return undefined;
    await root.getChildren();
    const machine = root.machine(inst.machine);
    if (!machine) return undefined;
    await machine.getChildren();
    const version = machine.version(inst.version);
    await version.getChildren();
    const state: StateNode | undefined = version.states.get(inst.state);
    if (!state) return undefined;
    await state.getChildren();
    conn.changes.ensureRow({
      id: instanceId,
      machine: inst.machine,
      version: inst.version,
      state: inst.state,
      created_at: 0,
      updated_at: 0,
      last_wal_offset: inst.last_wal_offset,
    });
    await state.getChildren();
    return state.nodeFor(instanceId);
  }

  dispose(): void {
    clearInterval(this.clock);
    this.redraw.dispose();
    for (const list of this.perConnection.values()) for (const d of list) d.dispose();
    for (const d of this.disposables) d.dispose();
    this.changeEmitter.dispose();
  }
}

/** Why a workspace's connections are missing: in Restricted Mode they are not used (they could redirect a token). */
function untrustedNote(): MessageNode {
  const text = 'Restricted Mode: workspace connections not used';
  return new MessageNode(
    undefined,
    text,
    'workspace-untrusted',
    { command: 'workbench.trust.manage', title: 'Manage Workspace Trust' },
    `${text}. A workspace's settings could point a connection at another server. Trust the workspace (click) to use them; your own connections from user settings are shown either way.`,
  );
}
