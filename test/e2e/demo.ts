/**
 * `npm run demo [-- --port 8080] [--host 0.0.0.0] [--rcp-port 7401] [--quiet]`
 * Builds and packages the extension, starts the emulator seeded with sample
 * machines and about a thousand instances, simulates an application using it
 * (an event every 1.5 s, a new order now and then; --quiet turns that off),
 * starts code-server with the
 * extension and a "Local demo" connection configured, and prints the URL.
 * Ctrl+C stops everything it started.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { formatDefinition } from '../../src/model/definitionFormat';
import { RcpClient } from '../../src/rcp';
import { startActivity, type Activity } from '../emulator/activity';
import { startEmulator } from '../emulator/process';
import { DEMO_MACHINES } from '../emulator/seed';
import { codeServerArgs, ensurePackaged, freePort, repoRoot, writeProfile } from './harness';
import { ensureVsCode } from './install';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/**
 * The demo workspace's machine definition file: the seeded `order` machine with
 * one change (returns), so its lenses offer to deploy it as v2 and to diff it
 * with v1, and the editor shows the schema, the checks and the guard colours.
 */
function demoDefinitionFile(): string {
  const order = DEMO_MACHINES.find((m) => m.machine === 'order')!.definition;
  return formatDefinition({
    ...order,
    states: [...order.states, 'returned'],
    transitions: [...order.transitions, { from: 'delivered', event: 'return', to: 'returned', guard: 'ctx.days_since_delivery <= 30' }],
  });
}

async function main(): Promise<void> {
  const host = arg('--host') ?? '127.0.0.1';
  console.log('rstmdb demo: preparing (the first run installs code-server and Chromium; later runs start in seconds)…');
  const pieces = ensureVsCode({ browser: false });
  const vsix = ensurePackaged();

  const wantedRcp = Number(arg('--rcp-port') ?? 7401);
  const rcpPort = (await portFree(wantedRcp)) ? wantedRcp : 0;
  const demoDir = join(repoRoot, '.rstmdb-demo');
  const emu = await startEmulator({ port: rcpPort, seed: 'demo', stateDir: join(demoDir, 'rcp-state') });

  const { udd, ext, workspace } = writeProfile(
    demoDir,
    { 'workbench.startupEditor': 'readme', 'rstmdb.connections': [{ name: 'Local demo', host: '127.0.0.1', port: emu.port }] },
    '# rstmdb demo\n\nOpen the rstmdb view in the activity bar (the state-machine icon) and expand "Local demo".\n\n`order.machine.json` is the `order` machine as a file, with one change: its lenses deploy it as a new version, diff it with the deployed one and preview its diagram.\n',
  );
  // Written once: edits made to it in an earlier demo are kept.
  const definitionFile = join(workspace, 'order.machine.json');
  if (!existsSync(definitionFile)) writeFileSync(definitionFile, demoDefinitionFile());
  const install = spawnSync(pieces.node24, [pieces.codeServer, '--extensions-dir', ext, '--user-data-dir', udd, '--install-extension', vsix, '--force'], { encoding: 'utf8' });
  if (install.status !== 0) {
    await emu.stop();
    throw new Error(`installing the extension into code-server failed:\n${install.stdout}\n${install.stderr}`);
  }

  const wantedUi = Number(arg('--port') ?? 8080);
  const uiPort = (await portFree(wantedUi, host)) ? wantedUi : await freePort();
  const server = spawn(pieces.node24, codeServerArgs(pieces, demoDir, `${host}:${uiPort}`), { stdio: ['ignore', 'ignore', 'pipe'] });
  server.stderr!.on('data', () => undefined);

  let activity: Activity | undefined;
  const stop = async () => {
    console.log('\nStopping the demo…');
    server.kill('SIGTERM');
    await activity?.stop().catch(() => undefined);
    await emu.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  server.once('exit', (code) => {
    console.error(`code-server exited (${code}); stopping.`);
    void emu.stop().then(() => process.exit(1));
  });

  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${uiPort}/healthz`)).ok) break;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  const look = await RcpClient.connect({ host: emu.host, port: emu.port });
  const [machines, instances] = await Promise.all([look.listMachines(), look.listInstances({ limit: 1 })]);
  await look.close();
  if (!process.argv.includes('--quiet')) activity = await startActivity(emu.host, emu.port);
  console.log('');
  console.log(`  rstmdb RCP server (emulator): 127.0.0.1:${emu.port}  — ${machines.items.length} machines, ${instances.total} instances`);
  if (activity) console.log('  Simulated traffic:            an event every 1.5 s, a new order every 12 s (--quiet: none)');
  console.log(`  VS Code with the extension:   http://${shownHost}:${uiPort}/?folder=${encodeURIComponent(workspace)}`);
  console.log('');
  console.log('  Open the URL, click the rstmdb icon in the activity bar and expand "Local demo".');
  console.log('  Try: rstmdb: Apply Event… from the command palette (F1). Ctrl+C stops everything.');
}

main().catch((err) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
