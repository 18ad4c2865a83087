import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspectorHtml } from '../../src/inspector/html';

const page = inspectorHtml({
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  nonce: 'bm9uY2UxMjM0NTY3ODkwMTI=',
  script: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/inspector.js',
  style: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/inspector.css',
  codicons: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/codicon.css',
  view: 'instance',
});

test('the page policy allows nothing by default, scripts only by nonce, and no inline code', { timeout: 5000 }, () => {
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(page)?.[1] ?? '';
  assert.match(csp, /^default-src 'none'; /);
  assert.match(csp, /script-src 'nonce-bm9uY2UxMjM0NTY3ODkwMTI='/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|connect-src|\*/);
  for (const d of ['style-src', 'font-src', 'img-src']) assert.match(csp, new RegExp(`${d} https://file\\+\\.vscode-resource\\.vscode-cdn\\.net(;|$)`));
});

test('every script carries the nonce, and every resource comes from the bundle folder', { timeout: 5000 }, () => {
  const scripts = page.match(/<script[^>]*>/g) ?? [];
  assert.equal(scripts.length, 1);
  for (const s of scripts) assert.match(s, /nonce="bm9uY2UxMjM0NTY3ODkwMTI="/);
  assert.doesNotMatch(page, /<script[^>]*>[^<]+<\/script>/, 'no inline script body');
  assert.doesNotMatch(page, /style="/, 'no style attributes');
  for (const [, url] of page.matchAll(/(?:src|href)="([^"]+)"/g)) assert.match(url, /\/ext\/dist\/webview\/[a-z]+\.(js|css)$/);
});
