import * as vscode from 'vscode';
import { Coalescer } from '../model/coalescer';
import type { ConnectionManager } from '../model/connectionManager';
import type { ServerConnection, WalChange } from '../model/serverConnection';
import type { GetInstanceResult, InstanceSummary, RcpEvent } from '../rcp/types';
import { ConnectionNode } from './nodes/connectionNode';
import type { InstanceNode } from './nodes/instanceNode';
import type { ExplorerContext, ExplorerNode } from './nodes/node';
import type { StateNode } from './nodes/stateNode';

/** Redraws happen at most this often, however fast events arrive. */
const REFRESH_INTERVAL_MS = 100;

/**
 * The rstmdb explorer: Connection → Machine → Version → State → Instance.
 * Live events move instances between state nodes and adjust counts; only the
 * nodes affected are redrawn, in coalesced batches.
 */
export class ExplorerProvider implements vscode.TreeDataProvider<ExplorerNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<ExplorerNode | ExplorerNode[] | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly roots = new Map<string, ConnectionNode>();
  private readonly perConnection = new Map<string, vscode.Disposable[]>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly redraw: Coalescer<ExplorerNode>;
  /** Connections whose counts are asked again, at most once a second each. */
  private readonly recount: Coalescer<ConnectionNode>;
  /** Redraw requests handed to VS Code (for the benchmark and tests). */
  refreshes = 0;
  eventsSeen = 0;
  readonly ctx: ExplorerContext;

  constructor(private readonly manager: ConnectionManager) {
    this.redraw = new Coalescer<ExplorerNode>(REFRESH_INTERVAL_MS, (batch) => this.fire([...batch]));
    this.recount = new Coalescer<ConnectionNode>(1000, (batch) => {
      for (const root of batch) void this.recountConnection(root);
    });
    this.ctx = {
      pageSize: () => Math.max(1, Math.min(5000, vscode.workspace.getConfiguration('rstmdb').get<number>('instancesPageSize') ?? 100)),
      changed: (node) => this.redraw.add(node),
    };
    this.disposables.push(
      manager.onDidChangeConnections(() => this.syncRoots()),
      manager.onDidChangeStatus((c) => this.onStatus(c)),
    );
    this.syncRoots();
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
        conn.onDidReceiveEvent((e) => this.onEvent(node, e)),
        conn.onDidResync(() => this.resync(node)),
        conn.onDidReadWal((change) => this.onWalChange(node, change)),
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
    // appliedOffsets stay: what they record is in what is re-read, and must not be applied again.
    node.reset();
    this.fire([node]);
  }

  private onEvent(root: ConnectionNode, e: RcpEvent): void {
    this.eventsSeen++;
    this.applyTransition(root, e);
  }

  private applyTransition(root: ConnectionNode, e: RcpEvent): void {
    // Already applied (the WAL tail got there first) or superseded by a newer event for the instance.
    if ((this.lastOffset(root, e.instance_id) ?? -1) >= e.wal_offset) return;
    this.noteApplied(root, e.instance_id, e.wal_offset);
    const machine = root.machine(e.machine);
    if (!machine) return;
    let moved: InstanceSummary | undefined;
    // Counts are per machine and state, so every version's row for the state changes.
    for (const version of machine.versionNodes.values()) {
      const from = version.states.get(e.from_state);
      const to = version.states.get(e.to_state);
      if (from === to) {
        const n = from?.find(e.instance_id);
        if (n) {
          n.summary = { ...n.summary, updated_at: Date.now(), last_wal_offset: e.wal_offset };
          this.redraw.add(from!);
        }
        continue;
      }
      if (from) {
        moved = from.leave(e.instance_id) ?? moved;
        this.redraw.add(from);
      }
      if (to) this.redraw.add(to);
    }
    const target = machine.versionNodes.get(e.version)?.states.get(e.to_state);
    const now = Date.now();
    const summary = {
      id: e.instance_id,
      machine: e.machine,
      version: e.version,
      state: e.to_state,
      created_at: moved?.created_at ?? 0,
      updated_at: now,
      last_wal_offset: e.wal_offset,
    };
    if (target && e.from_state !== e.to_state) {
      // Shown under a third state means an event was missed: one row per instance, or VS Code rejects the ids.
      for (const other of target.parent.states.values()) {
        if (other !== target && other.state !== e.from_state && other.lists(e.instance_id)) {
          other.leave(e.instance_id);
          this.redraw.add(other);
        }
      }
    }
    for (const version of machine.versionNodes.values()) {
      const to = version.states.get(e.to_state);
      if (!to || e.from_state === e.to_state) continue;
      if (to === target) to.arrive(summary);
      else if (to.count !== undefined) to.count++;
    }
  }

  /**
   * The newest transition applied per instance (bounded), from the feed or the
   * WAL, so each is applied once, an older one never undoes a newer one, and a
   * create read from the WAL after the instance's first move is recognised as late.
   */
  private readonly appliedOffsets = new Map<string, Map<string, number>>();

  private lastOffset(root: ConnectionNode, instanceId: string): number | undefined {
    return this.appliedOffsets.get(root.connection.name)?.get(instanceId);
  }

  private noteApplied(root: ConnectionNode, instanceId: string, offset: number): void {
    let seen = this.appliedOffsets.get(root.connection.name);
    if (!seen) this.appliedOffsets.set(root.connection.name, (seen = new Map()));
    seen.delete(instanceId);
    seen.set(instanceId, offset);
    if (seen.size > 10_000) seen.delete(seen.keys().next().value!);
  }

  private onWalChange(root: ConnectionNode, change: WalChange): void {
    switch (change.kind) {
      case 'created': {
        const s = change.summary;
        const movedSince = (this.lastOffset(root, s.id) ?? -1) > s.last_wal_offset;
        if (!movedSince) {
          this.instanceCreated(root.connection, s);
          break;
        }
        // Its move already left this state (and took one off the count): count the create, list nothing.
        const state = root.machine(s.machine)?.versionNodes.get(s.version)?.states.get(s.state);
        state?.arrivedAndLeft();
        if (state) this.redraw.add(state);
        if ((root.machine(s.machine)?.versionNodes.size ?? 0) > 1) this.recount.add(root);
        break;
      }
      case 'applied': {
        if ((this.lastOffset(root, change.instanceId) ?? -1) >= change.walOffset) break;
        // The subscription has not delivered this transition (it lost it, or is slow): apply it from the WAL.
        const row = root.statesShowing(change.instanceId).map((st) => st.find(change.instanceId)).find((n) => n !== undefined);
        if (!row) {
          this.noteApplied(root, change.instanceId, change.walOffset);
          this.recount.add(root);
          break;
        }
        this.applyTransition(root, {
          type: 'event',
          subscription_id: '',
          instance_id: change.instanceId,
          machine: row.summary.machine,
          version: row.summary.version,
          event: change.event,
          from_state: change.fromState,
          to_state: change.toState,
          payload: {},
          wal_offset: change.walOffset,
        });
        break;
      }
      case 'deleted':
        // Rows go now; the counts (machine-wide, possibly not on screen) are asked again.
        for (const state of root.statesShowing(change.instanceId)) {
          state.leave(change.instanceId);
          this.redraw.add(state);
        }
        this.recount.add(root);
        break;
      case 'machine':
        if (root.machinePut(change.machine, change.version)) this.redraw.add(root);
        break;
      case 'skipped':
        this.recount.add(root);
        break;
    }
  }

  /** Ask the server for every count shown under a connection, and redraw what changed. */
  private async recountConnection(root: ConnectionNode): Promise<void> {
    if (!root.connection.isReady) return;
    try {
      for (const changed of await root.recount()) this.redraw.add(changed);
    } catch {
      // Counts stay as they were; the next change or a refresh asks again.
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

  getChildren(node?: ExplorerNode): vscode.ProviderResult<ExplorerNode[]> {
    if (!node) return [...this.roots.values()];
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
    return state.ensure({
      id: instanceId,
      machine: inst.machine,
      version: inst.version,
      state: inst.state,
      created_at: 0,
      updated_at: 0,
      last_wal_offset: inst.last_wal_offset,
    });
  }

  /** An instance was created (by this window, or seen in the WAL; told twice, it is counted once). */
  instanceCreated(conn: ServerConnection, summary: InstanceSummary): void {
    const root = this.roots.get(conn.name);
    const machine = root?.machine(summary.machine);
    if (!root || !machine) return;
    const state = machine.versionNodes.get(summary.version)?.states.get(summary.state);
    if (state) {
      state.arrive(summary);
      this.redraw.add(state);
    }
    // Other versions' rows for the state show machine-wide counts: ask for those rather than guess twice.
    for (const v of machine.versionNodes.values()) {
      if (v.version !== summary.version && v.states.get(summary.state)?.count !== undefined) {
        this.recount.add(root);
        break;
      }
    }
  }

  instanceDeleted(conn: ServerConnection, id: string, inst: GetInstanceResult): void {
    const machine = this.roots.get(conn.name)?.machine(inst.machine);
    if (!machine) return;
    // Counts are machine-wide: every version's row for the state changes; the row itself is under its own version.
    for (const version of machine.versionNodes.values()) {
      const state = version.states.get(inst.state);
      if (!state) continue;
      if (version.version === inst.version) state.leave(id);
      else if (state.count !== undefined && state.count > 0) state.count--;
      this.redraw.add(state);
    }
  }

  dispose(): void {
    clearInterval(this.clock);
    this.redraw.dispose();
    this.recount.dispose();
    for (const list of this.perConnection.values()) for (const d of list) d.dispose();
    for (const d of this.disposables) d.dispose();
    this.changeEmitter.dispose();
  }
}
