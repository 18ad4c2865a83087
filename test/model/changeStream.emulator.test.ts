import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { RESETTLE_MS } from '../../src/model/changeStream';
import { RcpClient, type RcpEvent } from '../../src/rcp';
import { startEmulator } from '../emulator/process';
import { streamOnClient } from './streamOnClient';

const FLOW = {
  states: ['a', 'b', 'c'],
  initial: 'a',
  transitions: [
    { from: 'a', event: 'go', to: 'b' },
    { from: 'b', event: 'go', to: 'c' },
    { from: 'c', event: 'go', to: 'a' },
  ],
};
const STATES = FLOW.states;

type Write = { t: 'create' } | { t: 'go'; pick: number } | { t: 'delete'; pick: number } | { t: 'relist'; state: number };
const write: fc.Arbitrary<Write> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ t: 'create' as const }) },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('go' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('relist' as const), state: fc.nat({ max: 2 }) }) },
);

/**
 * Writes from another client, pipelined (so the feed, the WAL tail and LIST
 * answers interleave as the network has them), then a quiet moment: the
 * stream's counts and rows must match the server.
 */
async function scenario(writes: Write[], lossy: boolean): Promise<void> {
  const emu = await startEmulator({ seed: 'none', ...(lossy ? { fault: 'lose-events-for:rstmdb-vscode' as const } : {}) });
  const app = await RcpClient.connect({ host: emu.host, port: emu.port });
  const watcher = await RcpClient.connect({ host: emu.host, port: emu.port, clientName: 'rstmdb-vscode' });
  const live = await streamOnClient(watcher, 50);
  try {
    await app.putMachine({ machine: 'f', version: 1, definition: FLOW });
    await app.batch({ mode: 'atomic', ops: Array.from({ length: 10 }, (_, i) => ({ op: 'CREATE_INSTANCE', params: { machine: 'f', version: 1, instance_id: `p${i}` } })) });
    const { stream } = live;
    const listings = STATES.map((s) => stream.listing('f', 1, s));
    await Promise.all(listings.map((l) => stream.loadPage(l, 5, false)));
    let n = 0;
    const pending: Promise<unknown>[] = [];
    for (const w of writes) {
      const ids = (await app.listInstances({ machine: 'f', limit: 1000 })).instances.map((i) => i.id);
      if (w.t === 'create') pending.push(app.createInstance({ machine: 'f', version: 1, instance_id: `n${n++}` }));
      else if (w.t === 'relist') pending.push(stream.loadCounts('f', [STATES[w.state]]));
      else if (ids.length) {
        const id = ids[w.pick % ids.length];
        pending.push((w.t === 'go' ? app.applyEvent({ instance_id: id, event: 'go' }) : app.deleteInstance({ instance_id: id })).catch(() => undefined));
      }
    }
    await Promise.all(pending);
    // Every write was answered: one catch-up reads the WAL to its end.
    assert.ok(await stream.catchUp());
    // A count kept while writes raced every answer is asked again a second later (RESETTLE_MS): wait for that, not longer.
    const truth = await Promise.all(STATES.map(async (state) => (await app.listInstances({ machine: 'f', state, limit: 1 })).total));
    const end = Date.now() + 3 * RESETTLE_MS + 2000;
    while (STATES.some((s, i) => stream.count('f', s) !== truth[i]) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    STATES.forEach((state, i) => assert.equal(stream.count('f', state), truth[i], `count of ${state}`));
    const seen = new Set<string>();
    for (const l of listings) {
      for (const r of l.rows()) {
        assert.ok(!seen.has(r.id), `${r.id} listed twice`);
        seen.add(r.id);
        assert.equal((await app.getInstance({ instance_id: r.id })).state, l.state, `${r.id} listed under ${l.state}`);
      }
    }
  } finally {
    await live.dispose();
    await watcher.close();
    await app.close();
    await emu.stop();
  }
}

describe('the change stream on a real emulator process', () => {
  test('after concurrent writes from another client, counts and rows match the server', { timeout: 120_000 }, async () => {
    await fc.assert(fc.asyncProperty(fc.array(write, { minLength: 5, maxLength: 40 }), (w) => scenario(w, false)), { numRuns: 4 });
  });

  test('the same when the subscription loses every event (the WAL alone heals)', { timeout: 120_000 }, async () => {
    await fc.assert(fc.asyncProperty(fc.array(write, { minLength: 5, maxLength: 40 }), (w) => scenario(w, true)), { numRuns: 4 });
  });
});

describe('a move that reaches the stream twice, by the WAL tail and by the live feed', () => {
  test('is applied once whichever comes first: exact counts and rows, each move handed on once', { timeout: 30_000 }, async () => {
    const emu = await startEmulator({ seed: 'none' });
    const clients: RcpClient[] = [];
    let live: Awaited<ReturnType<typeof streamOnClient>> | undefined;
    try {
      const app = await RcpClient.connect({ host: emu.host, port: emu.port });
      clients.push(app);
      const watcher = await RcpClient.connect({ host: emu.host, port: emu.port });
      clients.push(watcher);
      await app.putMachine({ machine: 'f', version: 1, definition: FLOW });
      await app.batch({ mode: 'atomic', ops: ['p0', 'p1', 'p2'].map((instance_id) => ({ op: 'CREATE_INSTANCE', params: { machine: 'f', version: 1, instance_id } })) });

      // Live events wait here until the test hands them on, as a feed slower (or faster) than the WAL tail would.
      const arrived = new Map<number, RcpEvent>();
      const waiting = new Map<number, (e: RcpEvent) => void>();
      let hint: ((e: RcpEvent) => void) | undefined;
      const liveEvent = (offset: number) =>
        new Promise<RcpEvent>((resolve) => {
          const e = arrived.get(offset);
          if (e) resolve(e);
          else waiting.set(offset, resolve);
        });
      // The tail's own timer stays out of the way: the test says when the WAL is read (catchUp).
      live = await streamOnClient(watcher, 600_000, (e, h) => {
        hint = h;
        arrived.set(e.wal_offset, e);
        waiting.get(e.wal_offset)?.(e);
      });
      const { stream } = live;
      const handedOn: string[] = [];
      stream.onChange((c) => c.kind === 'moved' && handedOn.push(c.instanceId));
      const listings = STATES.map((s) => stream.listing('f', 1, s));
      await Promise.all(listings.map((l) => stream.loadPage(l, 10, false)));
      await stream.loadCounts('f', STATES);
      assert.deepEqual(STATES.map((s) => stream.count('f', s)), [3, 0, 0]);

      // p0: the WAL tail reads the move first; its live event comes after.
      const m0 = await app.applyEvent({ instance_id: 'p0', event: 'go' });
      const late = await liveEvent(m0.wal_offset);
      assert.ok(await stream.catchUp());
      assert.deepEqual(STATES.map((s) => stream.count('f', s)), [2, 1, 0], 'the WAL tail applied the move');
      hint!(late);
      // p1: its live event comes first; the WAL tail reads it after. That reading is also the marker that
      // the WAL has been read past p0's late event (a held event is settled when a reading passes it).
      const m1 = await app.applyEvent({ instance_id: 'p1', event: 'go' });
      hint!(await liveEvent(m1.wal_offset));
      assert.ok(await stream.catchUp());

      const truth = await Promise.all(STATES.map(async (state) => (await app.listInstances({ machine: 'f', state, limit: 1 })).total));
      assert.deepEqual(truth, [1, 2, 0]);
      assert.deepEqual(STATES.map((s) => stream.count('f', s)), truth, 'counts (a, b, c): each move counted once');
      assert.deepEqual(
        listings.map((l) => l.rows().map((r) => r.id).sort()),
        [['p2'], ['p0', 'p1'], []],
        'rows (a, b, c): each instance listed once, where it is',
      );
      assert.deepEqual(handedOn.sort(), ['p0', 'p1'], 'each move handed on once');
    } finally {
      await live?.dispose();
      for (const c of clients) await c.close();
      await emu.stop();
    }
  });
});
