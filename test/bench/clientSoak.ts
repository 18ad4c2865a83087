import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { RcpClient, type RcpEvent, type Subscription } from '../../src/rcp';
import { event, hostileServer, waitFor, type HostileConnection, type Request } from '../rcp/hostile-server';
import type { Row } from './codec';

/** global.gc, with or without --expose-gc on the command line. */
function forcedGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

const CHUNK = 1000;
/** Chunks between watch/close cycles. */
const CYCLE_EVERY = 20;

/**
 * Memory soak for the client library alone, against a flooding fixture server:
 * `total` events through a subscription, a fifth of them for subscription ids
 * the client never knew (fresh ids each time), a tenth replays, with a
 * watch/close cycle every CYCLE_EVERY chunks during which the old id's events
 * and unknown ids arrive while the new WATCH is in flight. Heap is measured
 * after a forced GC at every tenth; what counts is that it stays flat.
 */
export async function clientSoakBench(total: number): Promise<Row[]> {
  const gc = forcedGc();
  let watchConn: HostileConnection | undefined;
  let watchReq: Request | undefined;
  const server = await hostileServer({
    onRequest: (conn, req) => {
      if (req.op === 'WATCH_ALL') {
        watchConn = conn;
        watchReq = req;
      } else if (req.op === 'UNWATCH') {
        conn.ok(req, { subscription_id: req.params?.subscription_id, removed: true });
      }
    },
  });
  const client = await RcpClient.connect({ host: '127.0.0.1', port: server.port, keepAliveMs: 0 });
  let offset = 1;
  let unknown = 0;
  let delivered = 0;
  let marker: { offset: number; resolve: () => void } | undefined;
  const chunk = (id: string): unknown[] => {
    const out: unknown[] = [];
    for (let i = 0; i < CHUNK; i++) {
      const k = i % 10;
      if (k < 2) out.push(event(`gone-${unknown++}`, offset, `i-${i}`));
      else if (k === 2) out.push(event(id, offset - 1, `i-${i}`)); // a replay of the last one
      else out.push(event(id, offset++, `i-${offset % 50_000}`));
    }
    return out;
  };
  const subscribe = async (id: string, old: string | undefined): Promise<Subscription> => {
    const watching = client.watchAll();
    await waitFor(() => watchReq !== undefined, 'the WATCH');
    // In flight: the closed subscription's events and unknown ids keep coming.
    if (old) watchConn!.sendTogether(chunk(old));
    watchConn!.ok(watchReq!, { subscription_id: id, wal_offset: offset });
    watchReq = undefined;
    const sub = await watching;
    sub.on('event', (e: RcpEvent) => {
      delivered++;
      if (marker && e.wal_offset >= marker.offset) marker.resolve();
    });
    return sub;
  };

  const heap: number[] = [];
  let sent = 0;
  let n = 0;
  let sub = await subscribe('s0', undefined);
  const started = process.hrtime.bigint();
  try {
    while (sent < total) {
      if (++n % CYCLE_EVERY === 0) {
        const old = sub.id;
        await sub.close();
        sub = await subscribe(`s${n}`, old);
        sent += CHUNK;
      }
      const events = chunk(sub.id);
      const last = offset - 1;
      const arrived = new Promise<void>((resolve) => (marker = { offset: last, resolve }));
      watchConn!.sendTogether(events);
      await arrived;
      sent += CHUNK;
      if (n % Math.max(1, Math.floor(total / CHUNK / 10)) === 0) {
        gc();
        heap.push(process.memoryUsage().heapUsed);
      }
    }
  } finally {
    await client.close();
    await server.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const mb = (b: number) => b / 1024 / 1024;
  // The first tenth warms up (JIT, pools); growth is measured from there.
  const base = heap[0] ?? 0;
  const growth = mb((heap.at(-1) ?? base) - base);
  const peak = mb(Math.max(...heap) - base);
  return [
    { name: 'client soak: events through one client', value: sent, unit: 'events', note: `${delivered} delivered, ${Math.round(sent / seconds).toLocaleString('en-US')}/s; unknown ids, replays, watch/close every ${CYCLE_EVERY * CHUNK}` },
    { name: 'client soak: heap growth after GC', value: growth, unit: 'MB', note: `first tenth to the end (${heap.length} samples); flat is what counts` },
    { name: 'client soak: heap peak over start', value: peak, unit: 'MB' },
  ];
}
