import { ChangeStream } from '../../src/model/changeStream';
import { WalTail } from '../../src/model/walTail';
import type { RcpClient, RcpEvent, Subscription } from '../../src/rcp';

/** How a live event reaches the stream: at once by default; a test may hold it back, as a slow network would. */
export type Deliver = (e: RcpEvent, hint: (e: RcpEvent) => void) => void;

/**
 * A change stream fed by a real client as the extension feeds it: the WAL tail
 * hands it pages, a WATCH_ALL hands it hints, BATCH GET_INSTANCE resolves
 * unknown instances. For tests and the benchmark (ServerConnection does the
 * same inside VS Code).
 */
export async function streamOnClient(
  client: RcpClient,
  tailIntervalMs = 1000,
  deliver: Deliver = (e, hint) => hint(e),
): Promise<{ stream: ChangeStream; feed: Subscription; received: () => number; dispose(): Promise<void> }> {
  let tail: WalTail | undefined;
  const stream = new ChangeStream({
    get isReady() {
      return client.state === 'ready';
    },
    readWal: async () => {
      await tail!.pollFromNow();
      return !tail!.lastReadFailed;
    },
    listInstances: (p) => client.listInstances(p),
    lookup: async (ids) => {
      const found = new Map<string, { machine: string; version: number; state: string }>();
      for (let i = 0; i < ids.length; i += 100) {
        const chunk = ids.slice(i, i + 100);
        const { results } = await client.batch({ mode: 'best_effort', ops: chunk.map((instance_id) => ({ op: 'GET_INSTANCE', params: { instance_id } })) });
        results.forEach((r, k) => r.status === 'ok' && found.set(chunk[k], r.result as { machine: string; version: number; state: string }));
      }
      return found;
    },
  });
  const from = (await client.walStats()).latest_offset;
  stream.startAt(from);
  tail = new WalTail(client, from, { page: (r, n) => stream.applyWalPage(r, n), skipped: (o) => stream.skippedTo(o), failed: () => undefined }, { intervalMs: tailIntervalMs });
  let received = 0;
  const feed = await client.watchAll({ include_ctx: false });
  feed.on('event', (e) => {
    received++;
    deliver(e, (x) => stream.hint(x));
  });
  return {
    stream,
    feed,
    received: () => received,
    dispose: async () => {
      tail?.dispose();
      stream.dispose();
      await feed.close().catch(() => undefined);
    },
  };
}
