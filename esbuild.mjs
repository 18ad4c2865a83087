// Bundles the extension host code into dist/extension.js and the inspector's webview into dist/webview/. The native CRC32C
// addon is loaded at run time when it is shipped next to the bundle; where it
// cannot load, src/rcp/crc32c.ts falls back to TypeScript.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });

const ctx = await esbuild.context({
  entryPoints: ['src/extension.ts'],
  bundle: true,
  outfile: 'dist/extension.js',
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  external: ['vscode', '@node-rs/crc32-*'],
  // jsonc-parser's UMD build loads its parts through a require() esbuild cannot follow; its ES module build bundles cleanly.
  alias: { 'jsonc-parser': './node_modules/jsonc-parser/lib/esm/main.js' },
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'warning',
});

// Ship the platform binaries that npm installed here, where the bundle's require() finds them.
const scope = join('node_modules', '@node-rs');
if (existsSync(scope)) {
  for (const name of readdirSync(scope).filter((n) => n.startsWith('crc32-'))) {
    cpSync(join(scope, name), join('dist', 'node_modules', '@node-rs', name), { recursive: true });
  }
}

// The inspector's page: a separate browser bundle (with its CSS), and the codicon font beside it.
const webview = await esbuild.context({
  entryPoints: { inspector: 'src/webview/main.ts' },
  bundle: true,
  outdir: 'dist/webview',
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'warning',
  legalComments: production ? 'none' : 'inline',
});
mkdirSync(join('dist', 'webview'), { recursive: true });
for (const name of ['codicon.css', 'codicon.ttf']) {
  cpSync(join('node_modules', '@vscode', 'codicons', 'dist', name), join('dist', 'webview', name));
}

if (watch) {
  await ctx.watch();
  await webview.watch();
} else {
  await ctx.rebuild();
  await webview.rebuild();
  await ctx.dispose();
  await webview.dispose();
}
