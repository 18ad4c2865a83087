import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StateListing } from '../../src/model/stateListing';
import type { ListInstancesResult } from '../../src/rcp/types';
import { MACHINE, STATES, World } from './changeStreamWorld';

/**
 * A Map that counts every element any iteration of it visits (keys, values,
 * entries, for…of, forEach, spreading) and fails as soon as a budget is spent:
 * a listing that scans its rows on each event is caught without timing
 * anything, and fails at once instead of running for minutes.
 */
class CountedMap<K, V> extends Map<K, V> {
  static visited = 0;
  static budget = Infinity;

  private static count<T>(it: IterableIterator<T>): IterableIterator<T> {
    const next = it.next.bind(it);
    return Object.assign(it, {
      next: () => {
        const r = next();
        if (!r.done && ++CountedMap.visited > CountedMap.budget) {
          throw new Error(`more than ${CountedMap.budget} row visits: a listing is scanned per event`);
        }
        return r;
      },
    });
  }
  override keys() {
    return CountedMap.count(super.keys());
  }
  override values() {
    return CountedMap.count(super.values());
  }
  override entries() {
    return CountedMap.count(super.entries());
  }
  override [Symbol.iterator]() {
    return this.entries();
  }
  override forEach(fn: (v: V, k: K, m: Map<K, V>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

/** The listing's two row maps become counted ones (before anything is listed in them). */
function counted(listing: StateListing): StateListing {
  for (const field of ['arrivals', 'paged'] as const) {
    Object.defineProperty(listing, field, { value: new CountedMap(), writable: false });
  }
  return listing;
}

const settle = () => new Promise((r) => setImmediate(r));

/** Lets the stream's reads and LIST requests complete until `p` settles. */
async function drive<T>(w: World, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => (done = true)).catch(() => undefined);
  for (let i = 0; i < 10_000 && !done; i++) {
    await w.readWal(true);
    w.answerList(true);
    await settle();
  }
  return p;
}

describe('state listings: moving or removing an instance does not cost O(rows)', () => {
  test('1,800 moves and 500 deletes in 20,000-row listings visit no rows beyond a constant per event', { timeout: 120_000 }, async () => {
    const w = new World();
    w.walPageSize = 1000;
    const ROWS = 20_000;
    for (let i = 0; i < ROWS; i++) w.db.createInstance({ machine: MACHINE, version: 1, instance_id: `r${i}` });
    await drive(w, w.stream.catchUp());
    const listings = STATES.map((s) => counted(w.stream.listing(MACHINE, 1, s)));
    // Every state expanded, the whole of state a listed in one page.
    for (const l of listings) await drive(w, w.stream.loadPage(l, ROWS, false));
    assert.equal(listings[0].size, ROWS);

    w.feed.length = 0;
    // 600 instances spread over the list (not always its head), each moved a → b → c → a: 600 × 3 moves,
    // and no listing receives more live arrivals than it keeps (LIVE_ARRIVALS_CAP), so every row stays listed.
    const MOVED = 600;
    const MOVES = MOVED * 3;
    // Ten row visits per event is far above what an O(1) listing needs (none) and far below what a
    // single scan of 20,000 rows costs.
    CountedMap.visited = 0;
    CountedMap.budget = MOVES * 10;
    const state = new Map<string, string>();
    for (let k = 0; k < MOVES; k++) {
      const id = `r${((k % MOVED) * 7919) % ROWS}`;
      const from = state.get(id) ?? 'a';
      w.db.applyEvent({ instance_id: id, event: 'go' });
      state.set(id, from === 'a' ? 'b' : from === 'b' ? 'c' : 'a');
      // The live event applied at once (nothing missing before it), then the WAL read that confirms it.
      w.stream.hint(w.feed.shift()!);
      if (k % 100 === 99) await drive(w, w.stream.catchUp());
    }
    // Removing: 500 deletes of listed instances, as the stream learns them from the WAL.
    for (let k = 0; k < 500; k++) w.db.deleteInstance({ instance_id: `r${ROWS - 1 - k}` });
    w.feed.length = 0;
    await drive(w, w.stream.catchUp());
    const visits = CountedMap.visited;
    CountedMap.budget = Infinity;

    // What the user sees is right: every live instance listed once, under its state on the server.
    const truth = (w.db.listInstances({ machine: MACHINE, limit: 100_000 }) as ListInstancesResult).instances;
    const shownIn = new Map<string, string>();
    listings.forEach((l, i) => {
      for (const r of l.rows()) {
        assert.ok(!shownIn.has(r.id), `${r.id} listed twice`);
        shownIn.set(r.id, STATES[i]);
      }
    });
    assert.equal(shownIn.size, truth.length, 'rows listed, against the instances on the server');
    for (const inst of truth) assert.equal(shownIn.get(inst.id), inst.state, `${inst.id} listed under its state`);
    assert.equal(truth.length, ROWS - 500);
    assert.ok(visits <= (MOVES + 500) * 10, `${visits} row visits for ${MOVES + 500} events`);
  });
});
