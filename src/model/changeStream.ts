import type { InstanceSummary, ListInstancesParams, ListInstancesResult, RcpEvent, WalRecord } from '../rcp/types';
import type { ChangeOrigin, Disposable, InstanceChange, OwnWrite, StreamSignal } from './instanceChange';
import { StateListing } from './stateListing';

/**
 * Offsets of changes applied before the WAL reading reached them (live events
 * and this window's writes), so the WAL record is not applied again. Entries
 * leave as the reading passes them; this many only pile up while the WAL is not
 * followed. Past it the oldest are forgotten and every count is asked again.
 */
export const APPLIED_AHEAD_CAP = 10_000;
/** Instances whose machine, version and last known state are remembered (least recently touched forgotten first). */
export const KNOWN_INSTANCES_CAP = 20_000;
/** Instances remembered as deleted (from `delete_instance` records); oldest forgotten first. */
export const KNOWN_DELETED_CAP = 20_000;
/**
 * Live events waiting for the WAL reading. They leave as soon as a read passes
 * them; this many only wait when reads keep failing, and past it the oldest is
 * applied as the subscription told it.
 */
export const HELD_EVENTS_CAP = 1000;
/** A count is asked again at most this many times in a row while changes for its state keep racing the answer. */
const SETTLE_ATTEMPTS = 3;
/** After that, the count kept is asked again this much later (and so on, until an answer is not raced). */
export const RESETTLE_MS = 1000;

/** What the stream needs from a connection: the server's answers and the WAL reader. */
export interface ChangeSource {
  /** Connected now (a disconnected source keeps what was read rather than connecting). */
  readonly isReady: boolean;
  /**
   * Read the WAL from the stream's position to its end now, handing pages to
   * `applyWalPage` (joins a reading under way and then reads again). False when
   * no WAL is followed: live events are then applied as they come.
   */
  readWal(): Promise<boolean>;
  listInstances(params: ListInstancesParams): Promise<ListInstancesResult>;
  /** Machine, version and state of instances (one BATCH); missing ids are left out. */
  lookup(ids: string[]): Promise<Map<string, { machine: string; version: number; state: string }>>;
}

interface KnownInstance {
  machine: string;
  version: number;
  /** Last known state; undefined when only the machine is known (looked up). */
  state: string | undefined;
  /** The WAL offset that state reflects (-1 when unknown). */
  offset: number;
}

interface CountEntry {
  /** LIST_INSTANCES `total` kept up to date by applied changes; undefined until asked. */
  total: number | undefined;
  /** Changes applied for this state so far, so a total asked meanwhile is known to be raced. */
  changes: number;
}

type ChangeListener = (change: InstanceChange, origin: ChangeOrigin) => void;
type SignalListener = (signal: StreamSignal) => void;
type PageListener = (records: readonly WalRecord[]) => void;
type TouchListener = (machine: string, state: string) => void;

const countKey = (machine: string, state: string) => `${machine}\u0000${state}`;
const listingKey = (machine: string, version: number, state: string) => `${machine}\u0000${version}\u0000${state}`;

function listen<T>(set: Set<T>, fn: T): Disposable {
  set.add(fn);
  return { dispose: () => set.delete(fn) };
}

/**
 * One connection's ordered stream of changes: creates, moves, deletes and new
 * machine versions, each applied exactly once. The WAL is the record; the live
 * subscription is a hint that makes the stream read the WAL now, and its event
 * is applied at once only when nothing is missing before it for its instance
 * (the instance is known to be in the event's from-state at an older offset).
 *
 * On top of the stream it keeps what views render: machine-wide counts per
 * state (LIST_INSTANCES totals settled against the WAL) and per machine-version
 * state listings (one row per instance per connection), plus which instances
 * are known to be deleted.
 *
 * Subscribers:
 * - `onChange`: every applied change once, each instance's in WAL order (a
 *   live event is applied ahead of older records of other instances; those
 *   commute). A record older than what is already known of its instance (a row
 *   listed later, a lost event read late) corrects counts but is not handed on;
 *   `onWalPage` has it. A delete is always handed on once, even when read after
 *   a later live move of the (soft-deleted) instance;
 * - `onWalPage`: the raw WAL records as read, in order, each once, so an index
 *   (e.g. instance history) is fed by the same reading, never a second scan;
 * - `onSignal`: resync (views re-read) and gaps in the WAL reading;
 * - `onTouch`: a state's count or rows changed (for views to redraw).
 */
export class ChangeStream implements Disposable {
  /** Next WAL offset the reading has not applied yet; undefined until a WAL position is set. */
  private cursor: number | undefined;
  private readonly appliedAhead = new Set<number>();
  /** Live events waiting for the WAL reading (something may be missing before them). */
  private readonly held = new Map<number, RcpEvent>();
  private readonly known = new Map<string, KnownInstance>();
  private readonly deletedIds = new Set<string>();
  private readonly counts = new Map<string, CountEntry>();
  private readonly listings = new Map<string, StateListing>();
  /** The listing that shows an instance: one row per instance per connection. */
  private readonly rowOf = new Map<string, StateListing>();
  private readonly changeListeners = new Set<ChangeListener>();
  private readonly signalListeners = new Set<SignalListener>();
  private readonly pageListeners = new Set<PageListener>();
  private readonly touchListeners = new Set<TouchListener>();
  private disposed = false;
  /** Changes applied in total (for tests and the benchmark). */
  applied = 0;

  constructor(private readonly source: ChangeSource) {}

  onChange(fn: ChangeListener): Disposable {
    return listen(this.changeListeners, fn);
  }
  /** The changes of one instance (an inspector's live view). */
  onInstance(instanceId: string, fn: (change: Exclude<InstanceChange, { kind: 'machine' }>, origin: ChangeOrigin) => void): Disposable {
    return this.onChange((c, origin) => c.kind !== 'machine' && c.instanceId === instanceId && fn(c, origin));
  }
  onSignal(fn: SignalListener): Disposable {
    return listen(this.signalListeners, fn);
  }
  onWalPage(fn: PageListener): Disposable {
    return listen(this.pageListeners, fn);
  }
  onTouch(fn: TouchListener): Disposable {
    return listen(this.touchListeners, fn);
  }

  /** The WAL offset the reading continues from (undefined: no WAL followed yet). */
  get position(): number | undefined {
    return this.cursor;
  }

  /** Where the WAL reading starts (connect): what happened before is in what views load. */
  startAt(offset: number): void {
    this.cursor = offset;
    for (const o of this.appliedAhead) if (o < offset) this.appliedAhead.delete(o);
    this.recountIfLostTrack();
  }

  /** Known to have been deleted (a `delete_instance` record, or this window's delete). */
  isDeleted(instanceId: string): boolean {
    return this.deletedIds.has(instanceId);
  }

  /** What the stream knows of an instance: machine, version, state and the offset that state is from. */
  instance(instanceId: string): { machine: string; version: number; state: string | undefined; offset: number; deleted: boolean } | undefined {
    const row = this.rowOf.get(instanceId)?.get(instanceId);
    const k = this.known.get(instanceId);
    if (row && (!k || row.last_wal_offset >= k.offset)) {
      return { machine: row.machine, version: row.version, state: row.state, offset: row.last_wal_offset, deleted: this.isDeleted(instanceId) };
    }
    return k && { ...k, deleted: this.isDeleted(instanceId) };
  }

  // ---------------------------------------------------------------- inputs

  /** A live event from the subscription. */
  hint(e: RcpEvent): void {
    if (this.disposed || this.alreadyApplied(e.wal_offset)) return;
    this.rememberMachine(e.instance_id, e.machine, e.version);
    const k = this.instance(e.instance_id);
    const nothingMissing = k !== undefined && k.state === e.from_state && k.offset < e.wal_offset;
    if (nothingMissing || this.cursor === undefined) {
      this.applyAhead(e.wal_offset, this.moveOf(e.instance_id, e.event, e.from_state, e.to_state, e.wal_offset), 'live');
      // The WAL may still hold creates or deletes before it: read on, without waiting.
      if (this.cursor !== undefined) void this.readWal();
      return;
    }
    this.held.set(e.wal_offset, e);
    if (this.held.size > HELD_EVENTS_CAP) {
      const [offset, oldest] = this.held.entries().next().value!;
      this.held.delete(offset);
      this.applyAhead(offset, this.moveOf(oldest.instance_id, oldest.event, oldest.from_state, oldest.to_state, offset), 'live');
    }
    void this.readWal();
  }

  /** This window wrote something (create or delete): apply it now; the WAL record is then skipped. */
  told(w: OwnWrite): void {
    if (this.disposed || this.alreadyApplied(w.offset)) return;
    this.rememberMachine(w.instanceId, w.machine, w.version);
    if (w.kind === 'created') {
      this.applyAhead(w.offset, { kind: 'created', offset: w.offset, instanceId: w.instanceId, machine: w.machine, version: w.version, state: w.state }, 'own');
    } else {
      this.applyAhead(w.offset, { kind: 'deleted', offset: w.offset, instanceId: w.instanceId, machine: w.machine, version: w.version, state: w.state }, 'own');
    }
  }

  /**
   * One page of the WAL, in order, starting at the stream's position. Instances
   * whose machine is unknown are looked up first (one BATCH), when anything is
   * counted or listed. `next` is where the following page starts.
   */
  async applyWalPage(records: readonly WalRecord[], next: number): Promise<void> {
    if (this.disposed) return;
    await this.lookupUnknown(records);
    if (this.disposed) return;
    for (const rec of records) {
      if (this.cursor !== undefined && rec.offset < this.cursor) continue;
      this.applyRecord(rec);
    }
    this.lookedUpState.clear();
    const fresh = this.cursor === undefined ? records : records.filter((r) => r.offset >= this.cursor!);
    if (records.length) this.cursor = Math.max(this.cursor ?? 0, next);
    if (fresh.length) for (const fn of this.pageListeners) fn(fresh);
    this.settleHeld();
    this.recountIfLostTrack();
  }

  /** The WAL reading skipped ahead (too far behind): counts are asked again; held events are applied as they are. */
  skippedTo(offset: number): void {
    const from = this.cursor ?? offset;
    this.cursor = offset;
    for (const o of this.appliedAhead) if (o < offset) this.appliedAhead.delete(o);
    this.settleHeld();
    for (const fn of this.signalListeners) fn({ kind: 'gap', from, to: offset });
    this.lostTrack = false;
    void this.recountAll();
  }

  /** Everything listed or counted is dropped, to be read again (what the stream applied stays applied). */
  resync(): void {
    this.unsettled.clear();
    for (const c of this.counts.values()) c.total = undefined;
    for (const l of this.listings.values()) l.reset();
    this.rowOf.clear();
    for (const fn of this.signalListeners) fn({ kind: 'resync' });
  }

  /** Disconnected: the WAL position is gone too (a new connection starts from its own). */
  stop(): void {
    this.cursor = undefined;
    this.appliedAhead.clear();
    this.held.clear();
    this.resync();
  }

  /** Apply what the WAL holds up to now. False when no WAL is followed. */
  async catchUp(): Promise<boolean> {
    return this.readWal();
  }

  private async readWal(): Promise<boolean> {
    let followed = false;
    try {
      followed = await this.source.readWal();
    } catch {
      followed = false;
    }
    // Nothing will read the WAL for these: apply them as the subscription told them.
    if (!followed) this.flushHeld();
    return followed;
  }

  // ---------------------------------------------------------------- applying

  private alreadyApplied(offset: number): boolean {
    return (this.cursor !== undefined && offset < this.cursor) || this.appliedAhead.has(offset) || this.held.has(offset);
  }

  private applyAhead(offset: number, change: InstanceChange, origin: ChangeOrigin): void {
    this.appliedAhead.add(offset);
    if (this.appliedAhead.size > APPLIED_AHEAD_CAP) {
      // Only while the WAL is not followed: forget the oldest; counts are asked again once the reading resumes.
      this.appliedAhead.delete(this.appliedAhead.values().next().value!);
      this.lostTrack = true;
    }
    this.apply(change, origin);
  }

  /** Offsets applied ahead were forgotten (cap): the WAL reading may apply some again, so counts are asked again when it resumes. */
  private lostTrack = false;

  private recountIfLostTrack(): void {
    if (!this.lostTrack) return;
    this.lostTrack = false;
    void this.recountAll();
  }

  private applyRecord(rec: WalRecord): void {
    const e = rec.entry;
    const offset = rec.offset;
    if (this.appliedAhead.delete(offset)) return;
    const held = this.held.get(offset);
    this.held.delete(offset);
    switch (e.type) {
      case 'create_instance':
        this.apply({ kind: 'created', offset, instanceId: e.instance_id, machine: e.machine, version: e.version, state: e.initial_state }, 'wal');
        break;
      case 'apply_event':
        if (held) this.rememberMachine(held.instance_id, held.machine, held.version);
        this.apply(this.moveOf(e.instance_id, e.event, e.from_state, e.to_state, offset), held ? 'live' : 'wal');
        break;
      case 'delete_instance': {
        const k = this.instance(e.instance_id);
        const state = k?.state ?? this.lookedUpState.get(e.instance_id);
        this.lookedUpState.delete(e.instance_id);
        this.apply({ kind: 'deleted', offset, instanceId: e.instance_id, machine: k?.machine, version: k?.version, state }, 'wal');
        break;
      }
      case 'put_machine':
        this.apply({ kind: 'machine', offset, machine: e.machine, version: e.version }, 'wal');
        break;
      default:
        break;
    }
  }

  private moveOf(id: string, event: string, fromState: string, toState: string, offset: number): InstanceChange {
    const k = this.instance(id);
    return { kind: 'moved', offset, instanceId: id, machine: k?.machine, version: k?.version, event, fromState, toState, deleted: this.isDeleted(id) };
  }

  /** Held live events the WAL reading has passed without finding (skipped ahead) are applied as told. */
  private settleHeld(): void {
    if (this.cursor === undefined) return this.flushHeld();
    for (const [offset, e] of this.held) {
      if (offset >= this.cursor) continue;
      this.held.delete(offset);
      this.apply(this.moveOf(e.instance_id, e.event, e.from_state, e.to_state, offset), 'live');
    }
  }

  private flushHeld(): void {
    const held = [...this.held.values()].sort((a, b) => a.wal_offset - b.wal_offset);
    this.held.clear();
    for (const e of held) this.applyAhead(e.wal_offset, this.moveOf(e.instance_id, e.event, e.from_state, e.to_state, e.wal_offset), 'live');
  }

  private apply(change: InstanceChange, origin: ChangeOrigin): void {
    this.applied++;
    // A record older than what is already known of its instance only corrects counts: subscribers have seen newer.
    const k = change.kind === 'machine' ? undefined : this.instance(change.instanceId);
    const fresh = change.kind === 'machine' || (change.kind === 'deleted' ? !k?.deleted : !(k && k.offset >= change.offset));
    switch (change.kind) {
      case 'created':
        this.applyCreate(change);
        break;
      case 'moved':
        this.applyMove(change);
        break;
      case 'deleted':
        this.applyDelete(change);
        break;
      case 'machine':
        break;
    }
    if (fresh) for (const fn of this.changeListeners) fn(change, origin);
  }

  private applyCreate(c: Extract<InstanceChange, { kind: 'created' }>): void {
    this.bumpCount(c.machine, c.state, +1);
    const k = this.instance(c.instanceId);
    // Its later move was applied first: it counts here, but its row is where the move put it.
    if (k && k.offset > c.offset) return;
    this.remember(c.instanceId, { machine: c.machine, version: c.version, state: c.state, offset: c.offset });
    const now = Date.now();
    this.placeRow({ id: c.instanceId, machine: c.machine, version: c.version, state: c.state, created_at: now, updated_at: now, last_wal_offset: c.offset });
  }

  private applyMove(c: Extract<InstanceChange, { kind: 'moved' }>): void {
    if (c.machine === undefined || c.version === undefined) {
      // Nothing tells which machine's counts it changed: ask them all again.
      void this.recountAll();
      return;
    }
    const k = this.instance(c.instanceId);
    if (!c.deleted && c.fromState !== c.toState) {
      this.bumpCount(c.machine, c.fromState, -1);
      this.bumpCount(c.machine, c.toState, +1);
    }
    // A row listed after this move already shows it (or something newer).
    if (k && k.offset >= c.offset) return;
    this.remember(c.instanceId, { machine: c.machine, version: c.version, state: c.toState, offset: c.offset });
    if (c.deleted) return;
    if (c.fromState !== c.toState) {
      this.leftState(c.machine, c.fromState, c.instanceId);
      this.enteredState(c.machine, c.toState, c.instanceId);
    }
    const shown = this.rowOf.get(c.instanceId)?.get(c.instanceId);
    const now = Date.now();
    const summary: InstanceSummary = {
      id: c.instanceId,
      machine: c.machine,
      version: c.version,
      state: c.toState,
      created_at: shown?.created_at ?? 0,
      updated_at: now,
      last_wal_offset: c.offset,
    };
    if (c.fromState === c.toState && shown && shown.state === c.toState) {
      this.rowOf.get(c.instanceId)!.update(summary);
      this.touch(c.machine, c.toState);
      return;
    }
    this.placeRow(summary);
  }

  private applyDelete(c: Extract<InstanceChange, { kind: 'deleted' }>): void {
    if (this.deletedIds.has(c.instanceId)) return;
    this.deletedIds.add(c.instanceId);
    if (this.deletedIds.size > KNOWN_DELETED_CAP) this.deletedIds.delete(this.deletedIds.values().next().value!);
    const k = this.instance(c.instanceId);
    const machine = k?.machine ?? c.machine;
    const state = k?.state ?? c.state;
    if (machine !== undefined && (k?.version ?? c.version) !== undefined) {
      this.remember(c.instanceId, { machine, version: (k?.version ?? c.version)!, state, offset: Math.max(k?.offset ?? -1, c.offset) });
    }
    this.removeRow(c.instanceId);
    if (machine === undefined || state === undefined) {
      void this.recountAll();
      return;
    }
    this.leftState(machine, state, c.instanceId);
    this.bumpCount(machine, state, -1);
  }

  /** Show an instance in the listing of its state (if that listing exists), and nowhere else. */
  private placeRow(s: InstanceSummary): void {
    if (this.isDeleted(s.id)) return this.removeRow(s.id);
    const target = this.listings.get(listingKey(s.machine, s.version, s.state));
    const current = this.rowOf.get(s.id);
    if (current && current !== target) this.removeRow(s.id);
    if (!target) return;
    const dropped = target.arrive(s);
    this.rowOf.set(s.id, target);
    if (dropped !== undefined) this.rowOf.delete(dropped);
    target.leftWhileLoading.delete(s.id);
    this.touch(s.machine, s.state);
  }

  /** An instance left a state on the server: every listing of that state (any version) reads on from one row earlier. */
  private leftState(machine: string, state: string, id: string): void {
    for (const l of this.listings.values()) {
      if (l.machine !== machine || l.state !== state) continue;
      l.leftServerList(id);
      if (l.loading) l.leftWhileLoading.add(id);
    }
  }

  /**
   * An instance entered a state on the server: wherever it now is in the
   * server's order, it is no row read past (a page that meets it again looks
   * at it afresh), and no longer one that left while a page was in flight.
   */
  private enteredState(machine: string, state: string, id: string): void {
    for (const l of this.listings.values()) {
      if (l.machine !== machine || l.state !== state) continue;
      l.readPast.delete(id);
      l.leftWhileLoading.delete(id);
    }
  }

  private removeRow(id: string): void {
    const listing = this.rowOf.get(id);
    if (!listing) return;
    this.rowOf.delete(id);
    const gone = listing.remove(id);
    if (listing.loading) listing.leftWhileLoading.add(id);
    if (gone) this.touch(listing.machine, listing.state);
  }

  private bumpCount(machine: string, state: string, by: number): void {
    const key = countKey(machine, state);
    let entry = this.counts.get(key);
    if (!entry) this.counts.set(key, (entry = { total: undefined, changes: 0 }));
    entry.changes++;
    if (entry.total !== undefined) entry.total = Math.max(0, entry.total + by);
    this.touch(machine, state);
  }

  private touch(machine: string, state: string): void {
    for (const fn of this.touchListeners) fn(machine, state);
  }

  private remember(id: string, k: KnownInstance): void {
    this.known.delete(id);
    this.known.set(id, k);
    if (this.known.size > KNOWN_INSTANCES_CAP) this.known.delete(this.known.keys().next().value!);
  }

  private rememberMachine(id: string, machine: string, version: number): void {
    const k = this.known.get(id);
    if (k) {
      this.known.delete(id);
      this.known.set(id, k);
      return;
    }
    this.remember(id, { machine, version, state: undefined, offset: -1 });
  }

  /** Instances in a page with no known machine, looked up in one BATCH (only when anything is counted or listed). */
  private async lookupUnknown(records: readonly WalRecord[]): Promise<void> {
    if (!this.listings.size && ![...this.counts.values()].some((c) => c.total !== undefined)) return;
    const created = new Set<string>();
    const unknown = new Set<string>();
    for (const rec of records) {
      const e = rec.entry;
      if (this.cursor !== undefined && rec.offset < this.cursor) continue;
      if (e.type === 'create_instance') created.add(e.instance_id);
      else if ((e.type === 'apply_event' || e.type === 'delete_instance') && !created.has(e.instance_id) && !this.instance(e.instance_id) && !this.held.has(rec.offset)) {
        unknown.add(e.instance_id);
      }
    }
    if (!unknown.size) return;
    try {
      const found = await this.source.lookup([...unknown]);
      for (const [id, m] of found) this.rememberMachine(id, m.machine, m.version);
      // A delete needs the state it took the instance from: the server still answers for a soft-deleted instance.
      for (const rec of records) {
        const e = rec.entry;
        if (e.type !== 'delete_instance') continue;
        const m = found.get(e.instance_id);
        if (m && this.known.get(e.instance_id)?.state === undefined) this.lookedUpState.set(e.instance_id, m.state);
      }
    } catch {
      // Unattributed changes ask for a recount when applied.
    }
  }

  /** States of deleted instances found by lookup for the page being applied. */
  private readonly lookedUpState = new Map<string, string>();

  // ---------------------------------------------------------------- counts and listings

  /** The machine-wide count of a state, as last settled and kept up to date; undefined until asked. */
  count(machine: string, state: string): number | undefined {
    return this.counts.get(countKey(machine, state))?.total;
  }

  /** The rows of a machine version's state (created on first ask; rows arrive live from then on). */
  listing(machine: string, version: number, state: string): StateListing {
    const key = listingKey(machine, version, state);
    let l = this.listings.get(key);
    if (!l) this.listings.set(key, (l = new StateListing(machine, version, state)));
    return l;
  }

  /**
   * Ask the server for the counts of states (pipelined), each settled against
   * the WAL: the WAL is caught up before asking, and after each answer; a total
   * that a change for its state raced is asked again (a few times at most).
   */
  async loadCounts(machine: string, states: string[]): Promise<void> {
    await this.catchUp();
    const then = states.map((s) => this.countEntry(machine, s).changes);
    const totals = await Promise.all(states.map((state) => this.source.listInstances({ machine, state, limit: 1 })));
    await this.settle(machine, states, totals.map((t) => t.total), then);
  }

  /** Totals asked when `then` changes had been applied to each state's count: kept, or asked again if raced. */
  private async settle(machine: string, states: string[], totals: number[], then: number[]): Promise<void> {
    for (let attempt = 0; states.length; attempt++) {
      await this.catchUp();
      const raced: number[] = [];
      states.forEach((state, i) => {
        const entry = this.countEntry(machine, state);
        const wasRaced = entry.changes !== then[i];
        // Raced: asked again, unless attempts are used up or the connection is gone (keep what was read).
        if (wasRaced && attempt < SETTLE_ATTEMPTS && this.source.isReady) raced.push(i);
        else {
          entry.total = totals[i];
          // Kept although raced: may be off by what raced it, so asked again once things are calmer.
          if (wasRaced && this.source.isReady) this.unsettle(countKey(machine, state));
          else this.unsettled.delete(countKey(machine, state));
        }
        this.touch(machine, state);
      });
      states = raced.map((i) => states[i]);
      if (!states.length) return;
      then = states.map((s) => this.countEntry(machine, s).changes);
      totals = (await Promise.all(states.map((state) => this.source.listInstances({ machine, state, limit: 1 })))).map((r) => r.total);
    }
  }

  /** Counts kept although changes kept racing every answer: asked again after RESETTLE_MS. */
  private readonly unsettled = new Set<string>();
  private resettleTimer: ReturnType<typeof setTimeout> | undefined;

  private unsettle(key: string): void {
    this.unsettled.add(key);
    if (this.resettleTimer || this.disposed) return;
    this.resettleTimer = setTimeout(() => {
      this.resettleTimer = undefined;
      void this.resettle();
    }, RESETTLE_MS);
    this.resettleTimer.unref?.();
  }

  /** Ask again now the counts that were kept while raced (the timer does this; tests call it to avoid waiting). */
  async resettle(): Promise<void> {
    const byMachine = new Map<string, string[]>();
    for (const key of this.unsettled) {
      if (this.counts.get(key)?.total === undefined) continue;
      const [machine, state] = key.split('\u0000');
      byMachine.set(machine, [...(byMachine.get(machine) ?? []), state]);
    }
    this.unsettled.clear();
    await Promise.all([...byMachine].map(([m, states]) => this.loadCounts(m, states).catch(() => undefined)));
  }

  private countEntry(machine: string, state: string): CountEntry {
    const key = countKey(machine, state);
    let entry = this.counts.get(key);
    if (!entry) this.counts.set(key, (entry = { total: undefined, changes: 0 }));
    return entry;
  }

  /** Ask every count held again (after a gap, or a change no one could attribute). */
  private recounting: Promise<void> | undefined;
  recountAll(): Promise<void> {
    if (this.recounting || !this.source.isReady) return this.recounting ?? Promise.resolve();
    const byMachine = new Map<string, string[]>();
    for (const [key, entry] of this.counts) {
      if (entry.total === undefined) continue;
      const [machine, state] = key.split('\u0000');
      byMachine.set(machine, [...(byMachine.get(machine) ?? []), state]);
    }
    const run = Promise.all([...byMachine].map(([m, states]) => this.loadCounts(m, states)))
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => (this.recounting = undefined));
    this.recounting = run;
    return run;
  }

  /**
   * Read the next page of a listing (the first when not loaded yet): the WAL is
   * caught up first so a page never counts a create twice; rows of other
   * versions are skipped (LIST filters by machine and state only), as are
   * instances shown elsewhere with newer knowledge, known deleted, or that left
   * while the page was in flight. The page's total becomes the settled count.
   */
  loadPage(listing: StateListing, pageSize: number, multiVersion: boolean): Promise<void> {
    if (!listing.loading) {
      const loading = this.fetchPage(listing, listing.epoch, pageSize, multiVersion).finally(() => {
        if (listing.loading === loading) listing.loading = undefined;
      });
      listing.loading = loading;
    }
    return listing.loading;
  }

  private async fetchPage(listing: StateListing, epoch: number, want: number, multiVersion: boolean): Promise<void> {
    await this.catchUp();
    const stale = () => epoch !== listing.epoch || this.disposed;
    if (stale()) return;
    listing.leftWhileLoading.clear();
    const entry = this.countEntry(listing.machine, listing.state);
    const changesBefore = entry.changes;
    want = Math.max(1, want);
    let added = 0;
    let lastTotal: number | undefined;
    /** How far to step back when a page does not start on a row read past (doubles each time). */
    let back = want;
    for (;;) {
      // One row of overlap: a page that starts on a row already read past proves no unread row lies before it.
      const offset = Math.max(0, listing.position - 1);
      const page = await this.source.listInstances({ machine: listing.machine, state: listing.state, limit: want + (listing.position - offset), offset });
      if (stale()) return;
      lastTotal = page.total;
      const first = page.instances[0];
      if (offset > 0 && !(first && listing.readPast.has(first.id) && !listing.leftWhileLoading.has(first.id))) {
        // Rows before it left the state unseen (or it is a row that arrived there): unread rows may lie before it.
        listing.position = Math.max(0, Math.min(offset - back, page.total));
        back *= 2;
        continue;
      }
      let position = offset;
      for (const s of page.instances) {
        // Left while the page was in flight: no longer where the page saw it.
        if (listing.leftWhileLoading.has(s.id)) continue;
        position++;
        // The overlap row, or a row that arrived before the last page's end since: already read past.
        if (listing.readPast.has(s.id)) continue;
        listing.readPast.add(s.id);
        if (s.version !== listing.version || listing.has(s.id) || this.isDeleted(s.id)) continue;
        const k = this.instance(s.id);
        if (k?.state !== undefined && k.offset > s.last_wal_offset) continue;
        const elsewhere = this.rowOf.get(s.id);
        if (elsewhere && elsewhere !== listing) this.removeRow(s.id);
        listing.paged.set(s.id, s);
        this.rowOf.set(s.id, listing);
        if (!k || k.offset <= s.last_wal_offset) this.remember(s.id, { machine: s.machine, version: s.version, state: s.state, offset: s.last_wal_offset });
        added++;
      }
      listing.position = position;
      listing.hasMore = page.has_more;
      // One version: a page is enough unless everything on it was shown already.
      if (!page.has_more || added >= want || (!multiVersion && added > 0)) break;
    }
    listing.leftWhileLoading.clear();
    listing.loaded = true;
    listing.error = undefined;
    if (lastTotal === undefined) return;
    // The page's total, settled like any other count (asked when `changesBefore` changes had been applied).
    await this.settle(listing.machine, [listing.state], [lastTotal], [changesBefore]);
  }

  /** Make sure an instance the server just described is listed (for reveal), without counting it. */
  ensureRow(s: InstanceSummary): void {
    const listing = this.listing(s.machine, s.version, s.state);
    if (listing.has(s.id)) return;
    const elsewhere = this.rowOf.get(s.id);
    if (elsewhere) this.removeRow(s.id);
    const dropped = listing.arrive(s);
    if (dropped !== undefined) this.rowOf.delete(dropped);
    this.rowOf.set(s.id, listing);
  }

  /** Drop one listing's rows (refresh of a state): the next expansion reads it again. */
  resetListing(listing: StateListing): void {
    for (const id of [...listing.arrivals.keys(), ...listing.paged.keys()]) if (this.rowOf.get(id) === listing) this.rowOf.delete(id);
    listing.reset();
  }

  /** Forget a count (refresh): asked again when next shown. */
  forgetCount(machine: string, state: string): void {
    const entry = this.counts.get(countKey(machine, state));
    if (entry) entry.total = undefined;
  }

  /** Sizes of what is remembered (for tests and the benchmark). */
  get memory(): { known: number; deleted: number; appliedAhead: number; held: number; rows: number } {
    return { known: this.known.size, deleted: this.deletedIds.size, appliedAhead: this.appliedAhead.size, held: this.held.size, rows: this.rowOf.size };
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.resettleTimer);
    this.changeListeners.clear();
    this.signalListeners.clear();
    this.pageListeners.clear();
    this.touchListeners.clear();
  }
}
