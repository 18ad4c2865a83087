/** The inspector page: a strict CSP, one nonce'd module script, styles and fonts from the bundle only. */
export interface PageResources {
  /** webview.cspSource */
  cspSource: string;
  nonce: string;
  script: string;
  style: string;
  codicons: string;
  /** Which view the page starts (the same bundle draws the inspector and the machine view). */
  view: 'instance' | 'machine' | 'wal';
}

function attr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * No server data goes into this page: it arrives in messages after the script
 * says it is ready, and is inserted as text. The policy allows no inline code.
 */
export function inspectorHtml(r: PageResources): string {
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${r.nonce}'`,
    `style-src ${r.cspSource}`,
    `font-src ${r.cspSource}`,
    `img-src ${r.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(r.codicons)}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${attr(r.style)}">
<title>rstmdb inspector</title>
</head>
<body data-view="${attr(r.view)}">
<div id="app" class="app loading"><div class="boot">Loading…</div></div>
<script type="module" nonce="${attr(r.nonce)}" src="${attr(r.script)}"></script>
</body>
</html>`;
}
