import * as vscode from 'vscode';
import type { Log } from '../model/log';
import { describeError, type ServerConnection } from '../model/serverConnection';
import { WalBrowser } from '../model/walBrowser';
import type { HostMessage, WalFilter } from '../protocol/inspector';
import { validWebviewMessage } from '../protocol/validate';
import { setPageHtml, webviewOptions } from './inspectorPanel';

/** What an entry opens: the instance it concerns in the inspector, or the machine version it stored. */
export interface WalTargets {
  openInstance(conn: ServerConnection, instanceId: string): void;
  openMachine(conn: ServerConnection, machine: string, version: number): void;
}

/** The WAL explorer of one connection: WAL_STATS on top, WAL_READ pages below, filtered. */
export class WalPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private seq = 0;
  private disposed = false;
  private browser: WalBrowser;
  private readonly disposedEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposedEmitter.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly connection: ServerConnection,
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
    private readonly targets: WalTargets,
    filter: WalFilter = {},
  ) {
    this.browser = this.newBrowser(filter);
    panel.webview.options = webviewOptions(extensionUri);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'rstmdb.svg');
    panel.title = `WAL · ${connection.name}`;
    setPageHtml(panel.webview, extensionUri, 'wal');
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private newBrowser(filter: WalFilter): WalBrowser {
    return new WalBrowser(() => this.connection.ensureClient(), filter);
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  private post(m: HostMessage): void {
    if (!this.disposed) void this.panel.webview.postMessage(m).then(undefined, () => undefined);
  }

  private async receive(raw: unknown): Promise<void> {
    const m = validWebviewMessage(raw);
    if (!m) {
      this.log.warn(`[wal explorer] dropped a malformed message from the webview of '${this.connection.name}'`);
      return;
    }
    if (m.t === 'ready') {
      // A page shown again starts over from the first page of the same filter.
      this.browser = this.newBrowser(this.browser.filter);
      await this.load();
      return;
    }
    let ok = true;
    let error = '';
    try {
      if (m.op === 'walQuery') {
        this.browser = this.newBrowser(m.args);
        await this.load();
      } else if (m.op === 'walMore' || m.op === 'refresh') {
        if (m.op === 'refresh') this.browser = this.newBrowser(this.browser.filter);
        await this.load();
      } else if (m.op === 'walOpen') {
        this.open(m.args.offset);
      } else if (m.op === 'close') {
        this.panel.dispose();
      }
    } catch (err) {
      ok = false;
      error = describeError(err);
    }
    this.post(ok ? { t: 'response', id: m.id, ok: true, result: null } : { t: 'response', id: m.id, ok: false, error });
  }

  private open(offset: number): void {
    const row = this.browser.rows.find((r) => r.offset === offset);
    if (!row) return;
    if (row.instanceId) this.targets.openInstance(this.connection, row.instanceId);
    else if (row.machine && row.version !== undefined) this.targets.openMachine(this.connection, row.machine, row.version);
  }

  private async load(): Promise<void> {
    const conn = this.connection;
    try {
      const client = await conn.ensureClient();
      if (!client.server.features.includes('wal_read')) throw new Error('this server does not offer WAL reads');
      const stats = await client.walStats();
      await this.browser.more();
      const b = this.browser;
      this.post({
        t: 'wal',
        seq: ++this.seq,
        snapshot: {
          connection: conn.name,
          stats: { entryCount: stats.entry_count, segmentCount: stats.segment_count, totalSizeBytes: stats.total_size_bytes, latestOffset: stats.latest_offset },
          rows: b.rows,
          filter: b.filter,
          scanned: b.scanned,
          ...(b.next !== undefined ? { nextOffset: b.next } : {}),
        },
      });
    } catch (err) {
      this.post({ t: 'problem', seq: ++this.seq, problem: { connection: conn.name, instanceId: '', message: `Could not read the WAL of '${conn.name}': ${describeError(err)}`, retry: true } });
    }
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
