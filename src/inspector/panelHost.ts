import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { Log } from '../model/log';
import type { HostMessage, WebviewMessage } from '../protocol/inspector';
import { validWebviewMessage } from '../protocol/validate';
import { inspectorHtml, type PageResources } from './html';

export type PageView = PageResources['view'];

export function bundleRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
}

/** Scripts on, and nothing readable but the bundle folder. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [bundleRoot(extensionUri)] };
}

export function setPageHtml(webview: vscode.Webview, extensionUri: vscode.Uri, view: PageView): void {
  const root = bundleRoot(extensionUri);
  const uri = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(root, name)).toString();
  webview.html = inspectorHtml({
    cspSource: webview.cspSource,
    // A fresh nonce on every render.
    nonce: randomBytes(16).toString('base64'),
    script: uri('inspector.js'),
    style: uri('inspector.css'),
    codicons: uri('codicon.css'),
    view,
  });
}

/**
 * What every panel of ours shares: the page set up with its options, messages
 * from the page validated before a subclass sees them (a malformed one is
 * logged and dropped), posting that never throws, and disposal.
 */
export abstract class PanelHost implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];
  protected disposed = false;
  private readonly disposedEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposedEmitter.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    view: PageView,
    protected readonly log: Log,
  ) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'rstmdb.svg');
    setPageHtml(panel.webview, extensionUri, view);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const m = validWebviewMessage(raw);
        if (m) this.receive(m);
        else this.log.warn(`[${view} panel] dropped a malformed message from its webview`);
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  protected abstract receive(m: WebviewMessage): void;

  protected post(message: HostMessage): void {
    if (this.disposed) return;
    void this.panel.webview.postMessage(message).then(undefined, () => undefined);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.disposables) d.dispose();
    this.disposedEmitter.fire();
    this.disposedEmitter.dispose();
    this.panel.dispose();
  }
}
