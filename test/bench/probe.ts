/**
 * Run inside the extension host by VS Code as the benchmark's extension tests
 * (test mode, the only mode in which the extension hands out its API): writes
 * the explorer's counters to RSTMDB_BENCH_STATS every 50 ms until the window closes.
 */
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../src/extension';

export async function run(): Promise<void> {
  const file = process.env.RSTMDB_BENCH_STATS;
  if (!file) return;
  const api = await vscode.extensions.getExtension<ExtensionApi | undefined>('rstmdb.rstmdb-vscode')?.activate();
  if (!api) throw new Error('the extension handed out no API: not in test mode');
  const write = () =>
    writeFileSync(file, JSON.stringify({ refreshes: api.testing.redraws, eventsSeen: api.testing.liveEvents, activatedInMs: api.activatedInMs, at: Date.now() }));
  write();
  setInterval(write, 50);
  // VS Code ends the extension host when the tests' run() settles: the bench ends it by closing the window.
  await new Promise<never>(() => undefined);
}
