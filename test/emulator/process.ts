import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmulatorOptions, EmulatorProcess } from './api';

export type { EmulatorOptions, EmulatorProcess } from './api';

const MAIN = join(__dirname, 'main.js');
const START_TIMEOUT_MS = 20_000;

function launch(args: string[], verbose: boolean): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`emulator did not start: ${why}${stderr ? `\n${stderr.trim()}` : ''}`));
    };
    const timer = setTimeout(() => fail(`no "listening" line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (verbose) process.stderr.write(d);
    });
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{"listening"'));
      if (!line) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      child.removeAllListeners('exit');
      resolve({ child, port: (JSON.parse(line) as { listening: number }).listening });
    });
    child.once('exit', (code, signal) => fail(`exited with ${signal ?? `code ${code}`}`));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts the emulator as a child process on a loopback port and waits until it listens. */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<EmulatorProcess> {
  const ownsDir = opts.stateDir === undefined;
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'rstmdb-emu-'));
  const args = ['--state-dir', stateDir, '--seed', opts.seed ?? 'none'];
  let tlsDir: string | undefined;
  if (opts.token !== undefined) args.push('--token', opts.token);
  if (opts.fault) args.push('--fault', opts.fault);
  if (opts.idleTimeoutMs) args.push('--idle-timeout-ms', String(opts.idleTimeoutMs));
  if (opts.tls) {
    const dir = (tlsDir = mkdtempSync(join(tmpdir(), 'rstmdb-emu-tls-')));
    writeFileSync(join(dir, 'cert.pem'), opts.tls.cert);
    writeFileSync(join(dir, 'key.pem'), opts.tls.key, { mode: 0o600 });
    args.push('--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'));
    if (opts.tls.ca) {
      writeFileSync(join(dir, 'ca.pem'), opts.tls.ca);
      args.push('--tls-ca', join(dir, 'ca.pem'));
    }
  }
  let { child, port } = await launch([...args, '--port', String(opts.port ?? 0)], !!opts.verbose);
  const portArgs = () => ['--port', String(port)];

  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    stateDir,
    get pid() {
      return child.pid;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart() {
      child.kill('SIGKILL');
      await exited(child);
      // The port can take a moment to be free again after a kill.
      for (let attempt = 0; ; attempt++) {
        try {
          ({ child } = await launch([...args, ...portArgs()], !!opts.verbose));
          return;
        } catch (err) {
          if (attempt >= 20 || !/EADDRINUSE/.test(String(err))) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
      if (ownsDir) rmSync(stateDir, { recursive: true, force: true });
      if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
    },
  };
}
