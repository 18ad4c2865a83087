/**
 * Installs what a real VS Code needs here, once per machine, into a cache that
 * survives fresh clones: Node 24 (code-server requires it) and code-server from
 * the npm registry, Chromium from Debian. Idempotent: a marker file is written
 * only after a piece installed completely, so a half-finished install is redone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CODE_SERVER_VERSION = '4.139.1';
export const NODE24_VERSION = '24';
const CHROMIUM = '/usr/bin/chromium';
const APT_PACKAGES = ['chromium', 'libkrb5-dev', 'libx11-dev', 'libxkbfile-dev', 'libsecret-1-dev', 'pkg-config'];

export const cacheDir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'rstmdb-vscode');

export interface VsCodePieces {
  node24: string;
  codeServer: string;
  chromium: string;
}

function log(msg: string): void {
  process.stderr.write(`[e2e install] ${msg}\n`);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env, cwd });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

function ensureApt(packages: string[]): void {
  const missing = packages.filter((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout?.includes('install ok installed') !== true);
  if (missing.length === 0) return;
  if (process.getuid && process.getuid() !== 0) {
    throw new Error(`missing Debian packages ${missing.join(' ')}: install them with apt-get (as root)`);
  }
  log(`apt-get install ${missing.join(' ')} …`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { ...process.env, DEBIAN_FRONTEND: 'noninteractive' });
}

/**
 * The environment for a nested `npm install`. Under `npm test` the parent npm
 * exports npm_config_* (user agent with its Node version among them) and the
 * nested npm would take them as its own config: code-server's postinstall reads
 * the Node version from npm_config_user_agent and would see Node 20.
 */
function cleanNpmEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function ensureNpmPackage(dir: string, spec: string, marker: string, env: NodeJS.ProcessEnv): void {
  if (existsSync(join(dir, marker))) return;
  log(`npm install ${spec} into ${dir} (first run only; a few minutes) …`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"rstmdb-vscode-e2e-cache","private":true}\n');
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', spec], env, dir);
  writeFileSync(join(dir, marker), new Date().toISOString());
}

/** `browser: false` (the demo: you bring your own browser) skips Chromium. */
export function ensureVsCode(opts: { browser?: boolean } = {}): VsCodePieces {
  ensureApt(opts.browser === false ? APT_PACKAGES.filter((p) => p !== 'chromium') : APT_PACKAGES);
  const nodeDir = join(cacheDir, 'node24');
  ensureNpmPackage(nodeDir, `node@${NODE24_VERSION}`, '.complete', cleanNpmEnv());
  const node24Bin = join(nodeDir, 'node_modules', 'node', 'bin');
  const node24 = join(node24Bin, 'node');
  const csDir = join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
  // code-server's postinstall builds native modules against the Node that runs it: Node 24 first on PATH.
  // Native modules must build against Node 24's own headers (the machine's npmrc points nodedir at Node 20's).
  const node24Headers = join(nodeDir, 'node_modules', 'node', 'node_modules', `node-${process.platform}-${process.arch}`);
  ensureNpmPackage(
    csDir,
    `code-server@${CODE_SERVER_VERSION}`,
    '.complete',
    cleanNpmEnv({ PATH: `${node24Bin}:${process.env.PATH}`, npm_config_nodedir: existsSync(join(node24Headers, 'include', 'node')) ? node24Headers : '' }),
  );
  const codeServer = join(csDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!existsSync(codeServer)) throw new Error(`code-server is not where expected: ${codeServer}`);
  if (opts.browser !== false && !existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}`);
  return { node24, codeServer, chromium: CHROMIUM };
}

if (require.main === module) {
  try {
    const pieces = ensureVsCode();
    log(`ready: ${execFileSync(pieces.node24, [pieces.codeServer, '--version'], { encoding: 'utf8' }).split('\n')[0]}`);
  } catch (err) {
    log((err as Error).message);
    process.exit(1);
  }
}
