/**
 * Loaded inside the extension host by the benchmark (RSTMDB_EXTENSION_TESTS):
 * writes the explorer's counters to RSTMDB_BENCH_STATS every 50 ms.
 */
import { writeFileSync } from 'node:fs';
import type { ExtensionApi } from '../../src/extension';

export async function run(api: ExtensionApi): Promise<void> {
  const file = process.env.RSTMDB_BENCH_STATS;
  if (!file) return;
  const write = () =>
    writeFileSync(file, JSON.stringify({ refreshes: api.testing.redraws, eventsSeen: api.testing.liveEvents, activatedInMs: api.activatedInMs, at: Date.now() }));
  write();
  setInterval(write, 50).unref();
}
