import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { StateListing } from '../../src/model/stateListing';
import { RcpClient } from '../../src/rcp';
import type { InstanceSummary } from '../../src/rcp/types';
import { startEmulator } from '../emulator/process';
import { streamOnClient } from '../model/streamOnClient';
import type { Row } from './codec';

const FLIP = { states: ['a', 'b'], initial: 'a', transitions: [{ from: 'a', event: 'flip', to: 'b' }, { from: 'b', event: 'flop', to: 'a' }] };
const INSTANCES = 1000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

/**
 * A million events through a WATCH_ALL subscription into the change stream the
 * explorer renders from, with both states "expanded" (listed and counted) and
 * the WAL followed, as in the extension. Reports the heap growth of this process
 * from after a warm-up to the end (the emulator runs in its own process).
 */
export async function soakBench(total: number): Promise<Row[]> {
  const emu = await startEmulator({ seed: 'none' });
  const driver = await RcpClient.connect({ host: emu.host, port: emu.port, requestTimeoutMs: 120_000 });
  const watcher = await RcpClient.connect({ host: emu.host, port: emu.port, requestTimeoutMs: 120_000, clientName: 'rstmdb-vscode' });
  let live: Awaited<ReturnType<typeof streamOnClient>> | undefined;
  try {
    await driver.putMachine({ machine: 'flip', version: 1, definition: FLIP });
    for (let s = 0; s < INSTANCES; s += 100) {
      await driver.batch({ mode: 'atomic', ops: Array.from({ length: 100 }, (_, i) => ({ op: 'CREATE_INSTANCE', params: { machine: 'flip', version: 1, instance_id: `s-${s + i}` } })) });
    }
    live = await streamOnClient(watcher);
    const { stream } = live;
    const received = live.received;
    const listings: StateListing[] = ['a', 'b'].map((s) => stream.listing('flip', 1, s));
    for (const l of listings) await stream.loadPage(l, 100, false);
    await stream.loadCounts('flip', ['a', 'b']);

    const states = new Map<string, 'a' | 'b'>(Array.from({ length: INSTANCES }, (_, i) => [`s-${i}`, 'a']));
    let sent = 0;
    let baseline = 0;
    const warmUp = Math.min(50_000, total / 10);
    const started = Date.now();
    while (sent < total) {
      const batches: Promise<unknown>[] = [];
      for (let b = 0; b < 10 && sent < total; b++) {
        const ops = [];
        for (let k = 0; k < 100 && sent < total; k++, sent++) {
          const id = `s-${sent % INSTANCES}`;
          const cur = states.get(id)!;
          states.set(id, cur === 'a' ? 'b' : 'a');
          ops.push({ op: 'APPLY_EVENT', params: { instance_id: id, event: cur === 'a' ? 'flip' : 'flop' } });
        }
        batches.push(driver.batch({ mode: 'best_effort', ops }));
      }
      await Promise.all(batches);
      if (!baseline && sent >= warmUp) {
        // Let the watcher catch up with the warm-up before the baseline is taken.
        await until(() => received() >= sent);
        await stream.catchUp();
        baseline = heapMb();
      }
    }
    await until(() => received() >= total);
    await stream.catchUp();
    const seconds = (Date.now() - started) / 1000;
    // Counts that the flood raced on every re-ask were kept and are asked again a second later (the
    // stream's resettle timer): do that now, then compare every count with the server's.
    await stream.resettle();
    await stream.catchUp();
    const truth = await Promise.all(['a', 'b'].map(async (state) => (await driver.listInstances({ machine: 'flip', state, limit: 1 })).total));
    const shown = ['a', 'b'].map((state) => stream.count('flip', state));
    const end = heapMb();
    const growth = end - baseline;
    const rows = listings.reduce((n, l) => n + l.size, 0);
    const m = stream.memory;
    return [
      { name: `soak: ${total.toLocaleString('en-US')} events through the explorer's model`, value: total / seconds, unit: 'ev/s', note: `${received()} received, ${rows} rows; counts a ${shown[0]}, b ${shown[1]} (server: ${truth[0]}, ${truth[1]})` },
      { name: 'soak: heap growth after warm-up', value: growth, unit: 'MB', note: `target < 20 (${baseline.toFixed(1)} → ${end.toFixed(1)} MB); remembered: ${m.known} known, ${m.appliedAhead} applied ahead, ${m.held} held` },
    ];
  } finally {
    await live?.dispose();
    await watcher.close();
    await driver.close();
    await emu.stop();
  }
}

async function until(check: () => boolean): Promise<void> {
  const end = Date.now() + 120_000;
  while (!check()) {
    if (Date.now() > end) throw new Error('soak: the subscription fell silent');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Moving instances out of and back into a state listing: per-event cost at
 * 1,000 and 100,000 rows. The listing is two insertion-ordered maps, so a move
 * is O(1); what grows is only cache misses (an array, as before, cost O(n)).
 */
export function listingMoveBench(): Row[] {
  const rows: Row[] = [];
  for (const n of [1_000, 100_000]) {
    const listing = new StateListing('m', 1, 'a');
    const s = (i: number): InstanceSummary => ({ id: `i-${i}`, machine: 'm', version: 1, state: 'a', created_at: 0, updated_at: 0, last_wal_offset: i });
    const all = Array.from({ length: n }, (_, i) => s(i));
    for (const x of all) listing.paged.set(x.id, x);
    const ops = 200_000;
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < ops; k++) {
      const x = all[(k * 7919) % n];
      // Leaves (wherever it is listed), then arrives again on top; an arrival pushed out by the cap goes back to the pages.
      listing.remove(x.id);
      const dropped = listing.arrive(x);
      if (dropped !== undefined) listing.paged.set(dropped, all[Number(dropped.slice(2))]);
    }
    const ns = Number(process.hrtime.bigint() - t0) / ops;
    if (listing.size !== n) throw new Error(`listing bench: ${listing.size} rows, expected ${n}`);
    rows.push({ name: `move an instance in a ${n.toLocaleString('en-US')}-row state listing`, value: ns / 1000, unit: 'µs', note: 'O(1) per move' });
  }
  return rows;
}
