/**
 * The emulator as a process:
 *   node out/test/emulator/main.js [--port N] [--host H] [--token T] [--tls-cert F --tls-key F [--tls-ca F]]
 *     [--state-dir D] [--seed demo|none] [--fault never-respond|lose-events-for:NAME] [--idle-timeout-ms N]
 * Prints one line `{"listening":PORT}` on stdout when ready; logs go to stderr.
 */
import { readFileSync } from 'node:fs';
import { Database } from './database';
import { CoreError } from './store';
import { demoSeedOps } from './seed';
import { EmulatorServer, type ServerOptions } from './server';
import { Store } from './store';

function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else out.set(a.slice(2), argv[++i] ?? '');
  }
  return out;
}

/** Loads the demo data through the same op handlers a client would reach. */
export function seedDemo(db: Database): void {
  for (const { op, params } of demoSeedOps()) {
    try {
      if (op === 'PUT_MACHINE') db.putMachine(params);
      else if (op === 'CREATE_INSTANCE') db.createInstance(params);
      else db.applyEvent(params);
    } catch (err) {
      // A guard that says no leaves the instance where it is, as it would for a user.
      if (!(err instanceof CoreError && err.code === 'GUARD_FAILED')) throw err;
    }
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const port = Number(args.get('port') ?? 7401);
  const host = args.get('host') ?? '127.0.0.1';
  const options: ServerOptions = {};
  if (args.get('token')) options.token = args.get('token');
  const fault = args.get('fault');
  if (fault) {
    if (fault !== 'never-respond' && !fault.startsWith('lose-events-for:')) throw new Error(`unknown fault '${fault}'`);
    options.fault = fault as ServerOptions['fault'];
  }
  options.idleTimeoutMs = Number(args.get('idle-timeout-ms') ?? 300_000);
  // Why a connection was closed without a response (bad frame, unknown op, non-ASCII guard, idle).
  options.log = (line) => process.stderr.write(`${line}\n`);
  if (args.get('tls-cert')) {
    options.tls = {
      cert: readFileSync(args.get('tls-cert')!, 'utf8'),
      key: readFileSync(args.get('tls-key') ?? '', 'utf8'),
      ca: args.get('tls-ca') ? readFileSync(args.get('tls-ca')!, 'utf8') : undefined,
    };
  }
  const store = new Store(args.get('state-dir'));
  const db = new Database(store);
  if (args.get('seed') === 'demo' && store.wal.length === 0) seedDemo(db);
  const server = new EmulatorServer(db, options);
  const bound = await server.listen(port, host);
  process.stdout.write(JSON.stringify({ listening: bound }) + '\n');
  process.stderr.write(
    `rstmdb emulator on ${options.tls ? 'tls' : 'tcp'}://${host}:${bound}` +
      `${options.token ? ' (auth required)' : ''}: ${store.machines.size} machines, ${store.instances.size} instances\n`,
  );
  const stop = () => {
    store.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`emulator failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
