/** A change stream wired to the emulator's database in this process, driven one step at a time (for the property tests). */
import fc from 'fast-check';
import { ChangeStream, type ChangeSource } from '../../src/model/changeStream';
import type { InstanceSummary, ListInstancesParams, ListInstancesResult, RcpEvent, WalRecord } from '../../src/rcp/types';
import { Database } from '../emulator/database';
import { Store } from '../emulator/store';

export const MACHINE = 'm';
export const STATES = ['a', 'b', 'c'];
const DEF = {
  states: STATES,
  initial: 'a',
  transitions: [
    { from: 'a', event: 'go', to: 'b' },
    { from: 'b', event: 'go', to: 'c' },
    { from: 'c', event: 'go', to: 'a' },
    { from: 'b', event: 'back', to: 'a' },
    { from: 'c', event: 'stay', to: 'c' },
  ],
};

/**
 * The emulator's database in this process, and a connection to it whose every
 * answer (WAL reads, LIST answers, live events) is handed over only when the
 * test says so: the interleavings are the test's to choose.
 */
export class World {
  readonly db = new Database(new Store(undefined));
  /** Live events the subscription has not delivered yet (in order). */
  readonly feed: RcpEvent[] = [];
  private readonly walWaiters: ((followed: boolean) => void)[] = [];
  private reading: Promise<void> | undefined;
  private readonly lists: { params: ListInstancesParams; resolve: (r: ListInstancesResult) => void; answer?: ListInstancesResult }[] = [];
  readonly stream: ChangeStream;
  readonly running: Promise<unknown>[] = [];
  ids = 0;
  walPageSize = 3;
  /** Reading the WAL fails (or nothing follows it): the stream is told at once. */
  walBroken = false;

  constructor() {
    this.db.putMachine({ machine: MACHINE, version: 1, definition: DEF });
    this.db.putMachine({ machine: MACHINE, version: 2, definition: DEF });
    this.db.onApplied((applied) => {
      // The emulator's event record, whichever of its shapes (nested instance or flat ids).
      const e = applied as unknown as { instance?: { id: string; machine: string; version: number }; instance_id?: string; machine?: string; version?: number; event: string; from_state: string; to_state: string; payload: unknown; wal_offset: number };
      this.feed.push({
        type: 'event',
        subscription_id: 's',
        instance_id: e.instance?.id ?? e.instance_id!,
        machine: e.instance?.machine ?? e.machine!,
        version: e.instance?.version ?? e.version!,
        event: e.event,
        from_state: e.from_state,
        to_state: e.to_state,
        payload: (e.payload ?? {}) as Record<string, unknown>,
        wal_offset: e.wal_offset,
      });
    });
    const world = this;
    const source: ChangeSource = {
      isReady: true,
      readWal: () => (world.walBroken ? Promise.resolve(false) : new Promise<boolean>((resolve) => world.walWaiters.push(resolve))),
      listInstances: (params) => new Promise((resolve) => world.lists.push({ params, resolve })),
      lookup: async (ids) => {
        const found = new Map<string, { machine: string; version: number; state: string }>();
        for (const id of ids) {
          try {
            const r = world.db.getInstance({ instance_id: id }) as { machine: string; version: number; state: string };
            found.set(id, r);
          } catch {
            // gone (a hard delete): left out, as a failed BATCH op
          }
        }
        return found;
      },
    };
    this.stream = new ChangeStream(source);
    this.stream.startAt(this.db.walStats().latest_offset);
  }

  get busy(): boolean {
    return this.walWaiters.length > 0 || this.lists.length > 0 || this.reading !== undefined;
  }

  /** The WAL tail reads from the stream's position to the end, a few records a page. */
  async readWal(poll = false): Promise<void> {
    if (this.reading || (!this.walWaiters.length && !poll)) return;
    const waiters = this.walWaiters.splice(0);
    this.reading = (async () => {
      for (;;) {
        const from = this.stream.position!;
        const page = this.db.walRead({ from_offset: from, limit: this.walPageSize }) as { records: WalRecord[]; next_offset: number };
        if (!page.records.length) break;
        await this.stream.applyWalPage(page.records, page.next_offset);
      }
    })();
    await this.reading;
    this.reading = undefined;
    for (const w of waiters) w(true);
  }

  /** The server answers the oldest LIST asked (now), and the answer is received now or later. */
  answerList(deliver: boolean): void {
    const pending = this.lists.find((l) => !l.answer);
    if (pending) pending.answer = this.db.listInstances({ ...pending.params }) as ListInstancesResult;
    if (!deliver) return;
    const ready = this.lists.findIndex((l) => l.answer);
    if (ready < 0) return;
    const [l] = this.lists.splice(ready, 1);
    l.resolve(l.answer!);
  }

  truthCount(state: string): number {
    return (this.db.listInstances({ machine: MACHINE, state, limit: 1 }) as ListInstancesResult).total;
  }

  truthState(id: string): string | undefined {
    const r = this.db.listInstances({ machine: MACHINE, limit: 100_000 }) as ListInstancesResult;
    return r.instances.find((i) => i.id === id)?.state;
  }

  /** Instances that exist (not deleted). */
  liveIds(): InstanceSummary[] {
    return (this.db.listInstances({ machine: MACHINE, limit: 100_000 }) as ListInstancesResult).instances;
  }
}

export type Step =
  | { t: 'create'; version: 1 | 2; own: boolean }
  | { t: 'apply'; pick: number; event: 'go' | 'back' | 'stay' }
  | { t: 'applyAny'; pick: number; event: 'go' | 'back' | 'stay' }
  | { t: 'delete'; pick: number; own: boolean }
  | { t: 'deliver' }
  | { t: 'lose' }
  | { t: 'wal'; pageSize: number }
  | { t: 'listAnswer'; deliver: boolean }
  | { t: 'expand'; version: 1 | 2; state: string; pageSize: number }
  | { t: 'counts' }
  | { t: 'reconnect' };

export const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('create' as const), version: fc.constantFrom(1 as const, 2 as const), own: fc.boolean() }) },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('apply' as const), pick: fc.nat(), event: fc.constantFrom('go' as const, 'back' as const, 'stay' as const) }) },
  // Any instance ever created: a deleted one still moves on the real server (soft delete), and is counted nowhere.
  { weight: 1, arbitrary: fc.record({ t: fc.constant('applyAny' as const), pick: fc.nat(), event: fc.constantFrom('go' as const, 'back' as const, 'stay' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), pick: fc.nat(), own: fc.boolean() }) },
  { weight: 6, arbitrary: fc.constant({ t: 'deliver' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'lose' as const }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('wal' as const), pageSize: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('listAnswer' as const), deliver: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('expand' as const), version: fc.constantFrom(1 as const, 2 as const), state: fc.constantFrom(...STATES), pageSize: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.constant({ t: 'counts' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reconnect' as const }) },
);

const settle = () => new Promise((r) => setImmediate(r));

export async function run(steps: Step[], w = new World()): Promise<World> {
  const expanded = new Set<string>();
  for (const s of steps) {
    switch (s.t) {
      case 'create': {
        const r = w.db.createInstance({ machine: MACHINE, version: s.version, instance_id: `i${w.ids++}` }) as { instance_id: string; state: string; wal_offset: number };
        if (s.own) w.stream.told({ kind: 'created', offset: r.wal_offset, instanceId: r.instance_id, machine: MACHINE, version: s.version, state: r.state });
        break;
      }
      case 'apply':
      case 'delete': {
        const live = w.liveIds();
        if (!live.length) break;
        const inst = live[s.pick % live.length];
        try {
          if (s.t === 'apply') w.db.applyEvent({ instance_id: inst.id, event: s.event });
          else {
            const r = w.db.deleteInstance({ instance_id: inst.id }) as { wal_offset: number };
            if (s.own) w.stream.told({ kind: 'deleted', offset: r.wal_offset, instanceId: inst.id, machine: MACHINE, version: inst.version, state: inst.state });
          }
        } catch {
          // no such transition from its state: nothing happened
        }
        break;
      }
      case 'applyAny':
        if (!w.ids) break;
        try {
          w.db.applyEvent({ instance_id: `i${s.pick % w.ids}`, event: s.event });
        } catch {
          // gone for good (a hard delete), or no such transition
        }
        break;
      case 'deliver': {
        const e = w.feed.shift();
        if (e) w.stream.hint(e);
        break;
      }
      case 'lose':
        w.feed.shift();
        break;
      case 'wal':
        // The tail's timer, or a read the stream asked for.
        w.walPageSize = s.pageSize;
        await w.readWal(true);
        break;
      case 'listAnswer':
        w.answerList(s.deliver);
        break;
      case 'expand': {
        const listing = w.stream.listing(MACHINE, s.version, s.state);
        expanded.add(`${s.version}:${s.state}`);
        w.running.push(w.stream.loadPage(listing, s.pageSize, true));
        break;
      }
      case 'counts':
        w.running.push(w.stream.loadCounts(MACHINE, STATES));
        break;
      case 'reconnect':
        // The subscription came back (events it lost meanwhile stay lost); views re-read.
        w.stream.resync();
        for (const key of expanded) {
          const [v, st] = key.split(':');
          w.running.push(w.stream.loadPage(w.stream.listing(MACHINE, Number(v), st), 3, true));
        }
        break;
    }
    await settle();
  }
  // The network goes quiet: every event still on the way arrives, every read and answer completes.
  for (let rounds = 0; rounds < 1000; rounds++) {
    while (w.feed.length) w.stream.hint(w.feed.shift()!);
    await settle();
    await w.readWal(true);
    w.answerList(true);
    await settle();
    // Counts kept while raced are asked again after a while (a timer in the extension): now, here.
    w.running.push(w.stream.resettle());
    await settle();
    if (!w.busy && !w.feed.length) {
      await settle();
      if (!w.busy) break;
    }
  }
  await Promise.all(w.running);
  return w;
}

