import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { HistoryIndex } from '../../src/model/historyIndex';
import type { DefinitionView, HistoryRow } from '../../src/protocol/inspector';
import { validHostMessage } from '../../src/protocol/validate';
import { RcpClient } from '../../src/rcp';
import { buildScene, estimateWidth, FAST_LAYOUT_STATES } from '../../src/webview/diagram/scene';
import { ROW_HEIGHT } from '../../src/webview/historyList';
import { listWindow } from '../../src/webview/listWindow';
import { startEmulator } from '../emulator/process';
import type { Row } from './codec';

/** A machine of n states and 2n transitions: local wiring (targets near the source) or random endpoints. */
export function bigMachine(n: number, random: boolean): DefinitionView {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const states = Array.from({ length: n }, (_, i) => `state_${i}`);
  const transitions: DefinitionView['transitions'] = [];
  for (let i = 0; i < 2 * n; i++) {
    const from = i % n;
    const to = random ? Math.floor(rand() * n) : Math.min(n - 1, Math.max(0, from + 1 + Math.floor(rand() * 10) - 5));
    transitions.push({ from: [states[from]], event: `ev_${i}`, to: states[to], ...(i % 3 === 0 ? { guard: `ctx.n > ${i}` } : {}) });
  }
  return { states, initial: states[0], transitions };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeLayout(def: DefinitionView, runs: number): number {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    buildScene(def, estimateWidth);
    ms.push(performance.now() - t);
  }
  return median(ms);
}

/** 100,000 WAL records: 5,000 instances with 19 events each, loaded through BATCH. */
async function seedWal(host: string, port: number): Promise<string> {
  const c = await RcpClient.connect({ host, port, requestTimeoutMs: 120_000 });
  try {
    await c.putMachine({ machine: 'ping', version: 1, definition: { states: ['a', 'b'], initial: 'a', transitions: [{ from: 'a', event: 'go', to: 'b' }, { from: 'b', event: 'back', to: 'a' }] } });
    const ops: { op: string; params: Record<string, unknown> }[] = [];
    for (let i = 0; i < 5000; i++) ops.push({ op: 'CREATE_INSTANCE', params: { machine: 'ping', version: 1, instance_id: `p-${i}`, initial_ctx: { i } } });
    for (let round = 0; round < 19; round++) {
      for (let i = 0; i < 5000; i++) ops.push({ op: 'APPLY_EVENT', params: { instance_id: `p-${i}`, event: round % 2 ? 'back' : 'go', payload: { round } } });
    }
    const batches: Promise<unknown>[] = [];
    for (let i = 0; i < ops.length; i += 100) batches.push(c.batch({ mode: 'atomic', ops: ops.slice(i, i + 100) }));
    await Promise.all(batches);
    return 'p-2500';
  } finally {
    await c.close();
  }
}

/** The webview bundle as `npm run package` builds it (esbuild, minified), in memory. */
function webviewBundleBytes(): number {
  const root = join(__dirname, '..', '..', '..');
  const out = buildSync({
    entryPoints: [join(root, 'src', 'webview', 'main.ts')],
    bundle: true,
    outdir: join(root, 'out', 'bench-webview'),
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles.reduce((n, f) => n + f.contents.length, 0);
}

export async function inspectorBench(quick: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  const runs = quick ? 1 : 5;
  rows.push({ name: 'inspector layout 200 states/400 transitions (local)', value: timeLayout(bigMachine(200, false), runs), unit: 'ms', note: `target < 1000 with drawing; median of ${runs}` });
  rows.push({ name: 'inspector layout 200 states/400 transitions (random)', value: timeLayout(bigMachine(200, true), runs), unit: 'ms', note: `target < 1000 with drawing; median of ${runs}; worst case (fast layout above ${FAST_LAYOUT_STATES} states)` });
  rows.push({ name: 'inspector layout order machine (6 states)', value: timeLayout(bigMachine(6, false), runs), unit: 'ms' });

  const emu = await startEmulator({ seed: 'none' });
  try {
    const id = await seedWal(emu.host, emu.port);
    const client = await RcpClient.connect({ host: emu.host, port: emu.port, requestTimeoutMs: 120_000 });
    try {
      const index = new HistoryIndex(async () => client);
      const t = performance.now();
      await index.catchUp();
      const found = index.rows(id);
      const ms = performance.now() - t;
      rows.push({ name: 'inspector history found in a 100k-record WAL', value: ms, unit: 'ms', note: `target < 2000; ${index.recordsRead.toLocaleString('en-US')} records read, ${found.length} entries` });
      const t2 = performance.now();
      await index.catchUp();
      rows.push({ name: 'inspector history, second look (nothing new)', value: performance.now() - t2, unit: 'ms' });
    } finally {
      await client.close();
    }
  } finally {
    await emu.stop();
  }

  const history: HistoryRow[] = Array.from({ length: 10_000 }, (_, i) => ({ offset: 1099511628160 + i * 97, kind: 'event', event: 'go', from: 'a', to: 'b', payloadSize: 12 }));
  const snapshot = {
    connection: 'bench', connectionState: 'ready', readOnly: false, instanceId: 'x', machine: 'm', version: 1, state: 'a', ctx: {}, lastWalOffset: 1, deleted: false,
    definition: { states: ['a', 'b'], initial: 'a', transitions: [] }, outgoing: [], history: { rows: history, truncated: false },
  };
  const json = JSON.stringify({ t: 'snapshot', seq: 1, snapshot });
  rows.push({ name: 'inspector snapshot with 10k history entries', value: json.length / 1024, unit: 'KB' });
  // Scrolling the whole history a view at a time (400 px): the most rows any frame draws.
  let drawn = 0;
  for (let top = 0; top < history.length * ROW_HEIGHT; top += 400) drawn = Math.max(drawn, listWindow(top, 400, ROW_HEIGHT, history.length).count);
  rows.push({ name: 'inspector: rows drawn per frame scrolling 10k history', value: drawn, unit: 'rows', note: 'target: the visible ones (+ overscan), not 10,000 (virtualised)' });
  const t3 = performance.now();
  validHostMessage(JSON.parse(json));
  rows.push({ name: 'inspector: parse + validate that snapshot', value: performance.now() - t3, unit: 'ms' });

  rows.push({ name: 'inspector webview bundle (minified JS + CSS)', value: webviewBundleBytes() / 1024, unit: 'KB', note: 'target < 300' });
  return rows;
}
