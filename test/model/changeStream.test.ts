import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { InstanceChange } from '../../src/model/instanceChange';
import type { WalRecord } from '../../src/rcp/types';
import { APPLIED_AHEAD_CAP, HELD_EVENTS_CAP, KNOWN_DELETED_CAP, KNOWN_INSTANCES_CAP } from '../../src/model/changeStream';
import { LIVE_ARRIVALS_CAP } from '../../src/model/stateListing';
import { MACHINE, run, STATES, step, World } from './changeStreamWorld';

const stats = { runs: 0, countsChecked: 0, rowsChecked: 0 };

function check(w: World): void {
  stats.runs++;
  const rows = new Map<string, string>();
  for (const version of [1, 2]) {
    for (const state of STATES) {
      const listing = w.stream.listing(MACHINE, version, state);
      for (const r of listing.rows()) {
        assert.ok(!rows.has(r.id), `${r.id} listed twice: under ${rows.get(r.id)} and v${version} ${state}`);
        rows.set(r.id, `v${version} ${state}`);
        assert.equal(w.truthState(r.id), state, `${r.id} listed under ${state}`);
        assert.equal(r.version, version);
        stats.rowsChecked++;
      }
    }
  }
  for (const state of STATES) {
    const shown = w.stream.count(MACHINE, state);
    if (shown === undefined) continue;
    assert.equal(shown, w.truthCount(state), `count of ${state}`);
    stats.countsChecked++;
  }
}

describe('the change stream against the emulator (randomised interleavings)', () => {
  test('counts end exact and no instance is listed twice or in the wrong state', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 150, size: 'max' }), async (steps) => {
        check(await run(steps));
      }),
      { numRuns: 300 },
    );
    // The property said something: most runs held counts and rows to check.
    assert.ok(stats.countsChecked > stats.runs, `${stats.countsChecked} counts checked in ${stats.runs} runs`);
    assert.ok(stats.rowsChecked > stats.runs, `${stats.rowsChecked} rows checked in ${stats.runs} runs`);
  });

  test('every change is handed to subscribers once, each instance\'s in WAL order, and every WAL record once, in order', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 100, size: 'max' }), async (steps) => {
        const seen: InstanceChange[] = [];
        const pages: number[] = [];
        const w = new World();
        w.stream.onChange((c) => seen.push(c));
        w.stream.onWalPage((records) => pages.push(...records.map((r) => r.offset)));
        await run(steps, w);
        const offsets = seen.map((c) => c.offset);
        assert.equal(new Set(offsets).size, offsets.length, 'a change applied twice');
        const last = new Map<string, number>();
        for (const c of seen) {
          // A delete is a fact, not a position: a soft-deleted instance may move (live, at once) before its delete is read.
          if (c.kind === 'machine' || c.kind === 'deleted') continue;
          assert.ok((last.get(c.instanceId) ?? -1) < c.offset, `${c.instanceId}: ${c.offset} after a newer change`);
          last.set(c.instanceId, c.offset);
        }
        // The WAL as read: every record since the stream started, once, in order.
        const all = (w.db.walRead({ from_offset: 0, limit: 1000 }) as { records: WalRecord[] }).records.filter((r) => r.entry.type !== 'put_machine');
        assert.deepEqual(pages, all.map((r) => r.offset));
      }),
      { numRuns: 200 },
    );
  });

  test('what the stream remembers stays within its caps, and deletions read from the WAL are known', { timeout: 60_000 }, async () => {
    const w = new World();
    const listing = w.stream.listing(MACHINE, 1, 'a');
    const n = 25_000;
    // This window creates many instances while nothing reads the WAL: they are applied ahead of it.
    for (let i = 0; i < n; i++) {
      const r = w.db.createInstance({ machine: MACHINE, version: 1, instance_id: `c${i}` }) as { instance_id: string; state: string; wal_offset: number };
      w.stream.told({ kind: 'created', offset: r.wal_offset, instanceId: r.instance_id, machine: MACHINE, version: 1, state: r.state });
    }
    assert.ok(w.stream.memory.appliedAhead <= APPLIED_AHEAD_CAP, `${w.stream.memory.appliedAhead} offsets applied ahead`);
    assert.ok(w.stream.memory.known <= KNOWN_INSTANCES_CAP, `${w.stream.memory.known} instances remembered`);
    assert.equal(listing.arrivals.size, LIVE_ARRIVALS_CAP);
    assert.equal(listing.rows()[0].id, `c${n - 1}`, 'the newest arrival first');
    // Another client deletes them all; the stream learns it from the WAL only.
    for (let i = 0; i < n; i++) w.db.deleteInstance({ instance_id: `c${i}` });
    w.walPageSize = 1000;
    await w.readWal(true);
    assert.equal(w.stream.memory.appliedAhead, 0, 'the WAL reading passed every offset applied ahead');
    assert.ok(w.stream.memory.deleted <= KNOWN_DELETED_CAP);
    assert.ok(w.stream.isDeleted(`c${n - 1}`));
    assert.equal(listing.size, 0, 'deleted instances are no longer listed');
    assert.equal(w.stream.memory.rows, 0);
  });

  test('live events wait for the WAL only while it can be read: a failed read applies them as told, and few wait at once', { timeout: 30_000 }, async () => {
    const w = new World();
    const moved: string[] = [];
    w.stream.onChange((c) => c.kind === 'moved' && moved.push(`${c.instanceId} ${c.fromState}→${c.toState}`));
    for (let i = 0; i < HELD_EVENTS_CAP + 500; i++) w.db.createInstance({ machine: MACHINE, version: 1, instance_id: `u${i}` });
    // Instances the stream has never seen: their events wait for a WAL read that does not come.
    for (let i = 0; i < HELD_EVENTS_CAP + 500; i++) w.db.applyEvent({ instance_id: `u${i}`, event: 'go' });
    for (const e of w.feed.splice(0)) w.stream.hint(e);
    assert.ok(w.stream.memory.held <= HELD_EVENTS_CAP, `${w.stream.memory.held} events waiting`);
    assert.equal(moved.length, 500, 'the oldest past the cap were applied as told');
    // The WAL cannot be read any more: the next event does not wait at all, nor do those still waiting.
    w.walBroken = true;
    w.db.createInstance({ machine: MACHINE, version: 1, instance_id: 'late' });
    w.db.applyEvent({ instance_id: 'late', event: 'go' });
    w.stream.hint(w.feed.shift()!);
    await new Promise((r) => setImmediate(r));
    assert.equal(w.stream.memory.held, 0);
    assert.equal(moved.length, HELD_EVENTS_CAP + 501);
    assert.equal(moved.at(-1), 'late a→b');
  });
});
