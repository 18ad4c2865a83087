#!/usr/bin/env node
// Builds one .vsix per VS Code platform, each carrying that platform's native CRC32C
// (`@node-rs/crc32-<platform>`), next to the universal package of `npm run package`.
// Why: the universal package carries only the build machine's binary; elsewhere the
// TypeScript fallback runs (1.4–1.7 GB/s measured here, the native one 5–20 GB/s).
// The Marketplace serves each user the package of their platform.
//
//   node package-platforms.mjs [--targets linux-x64,darwin-arm64] [--out dir]
//
// Expects `node esbuild.mjs --production` to have run. A binary not installed here is
// fetched with `npm pack` (the registry's ordinary client) into node_modules/.cache.
// Each package is staged in a temporary directory, so dist/ stays as the build left it.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));

/** VS Code target → the @node-rs/crc32 package built for it. */
export const TARGETS = {
  'win32-x64': 'win32-x64-msvc',
  'win32-arm64': 'win32-arm64-msvc',
  'linux-x64': 'linux-x64-gnu',
  'linux-arm64': 'linux-arm64-gnu',
  'linux-armhf': 'linux-arm-gnueabihf',
  'alpine-x64': 'linux-x64-musl',
  'alpine-arm64': 'linux-arm64-musl',
  'darwin-x64': 'darwin-x64',
  'darwin-arm64': 'darwin-arm64',
};

/** What the universal package ships besides dist/node_modules (see .vscodeignore). */
const SHIPPED = ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', '.vscodeignore', 'media', join('dist', 'extension.js'), join('dist', 'webview')];

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', shell: process.platform === 'win32' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
  return r.stdout;
}

/** The version of the platform packages the installed @node-rs/crc32 loads (it checks it). */
function bindingVersion() {
  const pkg = JSON.parse(readFileSync(join(root, 'node_modules', '@node-rs', 'crc32', 'package.json'), 'utf8'));
  return pkg.optionalDependencies?.['@node-rs/crc32-linux-x64-gnu'] ?? pkg.version;
}

/** The platform package's directory: installed here already, or fetched once into the cache. */
function bindingDir(suffix, version) {
  const name = `crc32-${suffix}`;
  const installed = join(root, 'node_modules', '@node-rs', name);
  if (existsSync(join(installed, 'package.json')) && JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version === version) return installed;
  const cache = join(root, 'node_modules', '.cache', 'rstmdb-crc32', `${name}-${version}`);
  if (!existsSync(join(cache, 'package.json'))) {
    const tmp = mkdtempSync(join(tmpdir(), 'rstmdb-crc32-'));
    try {
      const file = run('npm', ['pack', `@node-rs/${name}@${version}`, '--silent', '--pack-destination', tmp], root).trim().split('\n').pop();
      mkdirSync(cache, { recursive: true });
      run('tar', ['-xzf', join(tmp, file), '-C', cache, '--strip-components=1'], root);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return cache;
}

export function packagePlatforms(targets, outDir) {
  if (!existsSync(join(root, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run `node esbuild.mjs --production` first');
  const version = bindingVersion();
  const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  mkdirSync(outDir, { recursive: true });
  const made = [];
  for (const target of targets) {
    const suffix = TARGETS[target];
    if (!suffix) throw new Error(`unknown target ${target} (one of ${Object.keys(TARGETS).join(', ')})`);
    const stage = mkdtempSync(join(tmpdir(), `rstmdb-vsix-${target}-`));
    try {
      for (const p of SHIPPED) if (existsSync(join(root, p))) cpSync(join(root, p), join(stage, p), { recursive: true });
      cpSync(bindingDir(suffix, version), join(stage, 'dist', 'node_modules', '@node-rs', `crc32-${suffix}`), { recursive: true });
      const out = join(outDir, `${pkg.name}-${pkg.version}-${target}.vsix`);
      run(process.execPath, [vsce, 'package', '--target', target, '--no-dependencies', '--skip-license', '-o', out], stage);
      made.push(out);
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }
  return made;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const opt = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const targets = opt('--targets')?.split(',') ?? Object.keys(TARGETS);
  const outDir = resolve(opt('--out') ?? join(root, 'dist', 'platforms'));
  for (const file of packagePlatforms(targets, outDir)) console.log(file);
}
