import { codecBench, type Row } from './codec';
import { extensionBench } from './extension';
import { inspectorBench } from './inspector';
import { roundTripBench, type Target } from './roundtrip';
import { listingMoveBench, soakBench } from './soak';
import { clientSoakBench } from './clientSoak';
import { startEmulator } from '../emulator/process';

/**
 * `npm run bench [-- --json] [--server host:port] [--token T] [--quick] [--no-vscode]`
 * The extension part (a real VS Code) runs against its own emulator and is skipped with --server or --no-vscode.
 * Prints a table, and with --json one machine-readable line after it.
 */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string) => argv.includes(name);
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = flag('--quick');
  const ms = quick ? 150 : 700;
  const scale = quick ? 0.2 : 1;

  const rows: Row[] = [];
  rows.push(...codecBench(ms));
  // The client alone against a server flooding it (a fixture server): heap after forced GC must stay flat.
  rows.push(...(await clientSoakBench(quick ? 100_000 : 500_000)));

  const server = value('--server');
  const token = value('--token') ?? process.env.RSTMDB_TOKEN;
  let target: Target;
  let stop: (() => Promise<void>) | undefined;
  if (server) {
    const [host, port] = server.split(':');
    target = { host, port: Number(port), token };
  } else {
    const emu = await startEmulator({ seed: 'none' });
    target = { host: emu.host, port: emu.port };
    stop = () => emu.stop();
  }
  try {
    rows.push(...(await roundTripBench(target, scale)));
  } finally {
    await stop?.();
  }

  rows.push(...listingMoveBench());
  // The soak runs against its own emulator (a million writes are not for someone else's server).
  if (!server) rows.push(...(await soakBench(quick ? 200_000 : 1_000_000)));

  if (!server) rows.push(...(await inspectorBench(quick)));
  if (!flag('--no-vscode') && !server) rows.push(...(await extensionBench()));

  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`rstmdb-vscode benchmarks (${server ? `server ${server}` : 'emulator'}; node ${process.version})\n`);
  for (const r of rows) {
    const v = r.unit === 'ratio' ? r.value.toFixed(2) : r.value >= 100 ? Math.round(r.value).toLocaleString('en-US') : r.value.toFixed(1);
    console.log(`${r.name.padEnd(width)}  ${v.padStart(12)} ${r.unit.padEnd(6)} ${r.note ?? ''}`);
  }
  if (flag('--json')) {
    console.log(JSON.stringify({ server: server ?? 'emulator', results: rows }));
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
