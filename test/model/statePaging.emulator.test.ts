import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ChangeStream } from '../../src/model/changeStream';
import type { StateListing } from '../../src/model/stateListing';
import { RcpClient } from '../../src/rcp';
import { startEmulator } from '../emulator/process';
import { streamOnClient } from './streamOnClient';

/**
 * Paging a state of one machine version through LIST_INSTANCES, which filters
 * by machine and state only and lists in the server's hash order: rows of the
 * other version share the pages, and rows leave or arrive anywhere in that
 * order between two pages. Read to its end, the listing must show every
 * instance of its version in that state once, and nothing else.
 */

const FLOW = {
  states: ['a', 'b'],
  initial: 'a',
  transitions: [
    { from: 'a', event: 'out', to: 'b' },
    { from: 'b', event: 'in', to: 'a' },
  ],
};

async function putFlow(app: RcpClient, machine: string): Promise<void> {
  await app.putMachine({ machine, version: 1, definition: FLOW });
  await app.putMachine({ machine, version: 2, definition: FLOW });
}

/** Ids of a version's instances in a state, as the server has them now. */
async function truth(app: RcpClient, machine: string, version: number, state: string): Promise<string[]> {
  const { instances } = await app.listInstances({ machine, state, limit: 10_000 });
  return instances.filter((i) => i.version === version).map((i) => i.id).sort();
}

/** Load pages until the server says there are no more (a bounded number of times). */
async function readToEnd(stream: ChangeStream, listing: StateListing, pageSize: number): Promise<void> {
  assert.ok(await stream.catchUp(), 'the WAL was read to its end');
  for (let i = 0; i < 200 && listing.hasMore; i++) await stream.loadPage(listing, pageSize, true);
  assert.equal(listing.hasMore, false, 'the listing reached the end of the server list');
}

function assertListed(listing: StateListing, expected: string[]): void {
  const ids = listing.rows().map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, `no instance listed twice: ${ids.join(' ')}`);
  assert.deepEqual([...ids].sort(), expected);
}

describe('paging a machine version state on a real emulator process', () => {
  test('rows of the other version that leave before the next page do not make it skip instances', { timeout: 60_000 }, async () => {
    const emu = await startEmulator({ seed: 'none' });
    const app = await RcpClient.connect({ host: emu.host, port: emu.port });
    await putFlow(app, 'f');
    const ops = Array.from({ length: 40 }, (_, i) => ({ op: 'CREATE_INSTANCE', params: { machine: 'f', version: 1 + (i % 2), instance_id: `i${String(i).padStart(2, '0')}` } }));
    await app.batch({ mode: 'best_effort', ops });
    // The stream starts after the creates: the instances are the server's to list, not live arrivals.
    const watcher = await RcpClient.connect({ host: emu.host, port: emu.port });
    const live = await streamOnClient(watcher, 50);
    try {
      const { stream } = live;
      const listing = stream.listing('f', 1, 'a');
      await stream.loadPage(listing, 4, true);
      assert.equal(listing.rows().length, 4);
      // Everything the first page went past, in the server's order: up to the last row it shows.
      const order = (await app.listInstances({ machine: 'f', state: 'a', limit: 1000 })).instances;
      const shown = new Set(listing.rows().map((r) => r.id));
      const end = Math.max(...order.map((r, i) => (shown.has(r.id) ? i : -1)));
      const passed = order.slice(0, end + 1);
      const otherVersion = passed.filter((r) => r.version === 2);
      assert.ok(otherVersion.length > 0, 'the first page went past rows of version 2');
      // Those rows of version 2 leave the state, and so does one row the page showed.
      for (const r of [...otherVersion, passed.find((r) => r.version === 1)!]) await app.applyEvent({ instance_id: r.id, event: 'out' });
      await readToEnd(stream, listing, 4);
      assertListed(listing, await truth(app, 'f', 1, 'a'));
    } finally {
      await live.dispose();
      await watcher.close();
      await app.close();
      await emu.stop();
    }
  });

  type Step = { t: 'page' } | { t: 'out' | 'in' | 'delete'; pick: number } | { t: 'create'; version: 1 | 2 };
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 3, arbitrary: fc.constant({ t: 'page' as const }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('out' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('in' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('create' as const), version: fc.constantFrom(1 as const, 2 as const) }) },
  );

  test('pages read between moves, creates and deletes of both versions list each instance once', { timeout: 120_000 }, async () => {
    const emu = await startEmulator({ seed: 'none' });
    const app = await RcpClient.connect({ host: emu.host, port: emu.port });
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 30 }), fc.integer({ min: 2, max: 6 }), async (steps, pageSize) => {
          const machine = `m${run++}`;
          await putFlow(app, machine);
          const ops = Array.from({ length: 30 }, (_, i) => ({ op: 'CREATE_INSTANCE', params: { machine, version: 1 + (i % 3 === 0 ? 1 : 0), instance_id: `${machine}-${i}` } }));
          await app.batch({ mode: 'best_effort', ops });
          const watcher = await RcpClient.connect({ host: emu.host, port: emu.port });
          const live = await streamOnClient(watcher, 50);
          try {
            const { stream } = live;
            const listing = stream.listing(machine, 1, 'a');
            await stream.loadPage(listing, pageSize, true);
            let created = 0;
            for (const s of steps) {
              if (s.t === 'page') {
                if (listing.hasMore) await stream.loadPage(listing, pageSize, true);
              } else if (s.t === 'create') {
                await app.createInstance({ machine, version: s.version, instance_id: `${machine}-new${created++}` });
              } else {
                const from = s.t === 'in' ? 'b' : 'a';
                const { instances } = await app.listInstances({ machine, state: from, limit: 1000 });
                if (!instances.length) continue;
                const id = instances[s.pick % instances.length].id;
                if (s.t === 'delete') await app.deleteInstance({ instance_id: id });
                else await app.applyEvent({ instance_id: id, event: s.t });
              }
            }
            await readToEnd(stream, listing, pageSize);
            assertListed(listing, await truth(app, machine, 1, 'a'));
          } finally {
            await live.dispose();
            await watcher.close();
          }
        }),
        { numRuns: 12 },
      );
    } finally {
      await app.close();
      await emu.stop();
    }
  });
});
