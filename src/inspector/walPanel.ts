import * as vscode from 'vscode';
import type { Log } from '../model/log';
import { describeError, type ServerConnection } from '../model/serverConnection';
import { WalBrowser } from '../model/walBrowser';
import type { WalFilter, WebviewMessage } from '../protocol/inspector';
import { PanelHost } from './panelHost';

/** What an entry opens: the instance it concerns in the inspector, or the machine version it stored. */
export interface WalTargets {
  openInstance(conn: ServerConnection, instanceId: string): void;
  openMachine(conn: ServerConnection, machine: string, version: number): void;
}

/** The WAL explorer of one connection: WAL_STATS on top, WAL_READ pages below, filtered. */
export class WalPanel extends PanelHost {
  private seq = 0;
  private browser: WalBrowser;

  constructor(
    panel: vscode.WebviewPanel,
    readonly connection: ServerConnection,
    extensionUri: vscode.Uri,
    log: Log,
    private readonly targets: WalTargets,
    filter: WalFilter = {},
  ) {
    super(panel, extensionUri, 'wal', log);
    this.browser = this.newBrowser(filter);
    panel.title = `WAL · ${connection.name}`;
  }

  private newBrowser(filter: WalFilter): WalBrowser {
    return new WalBrowser(() => this.connection.ensureClient(), filter);
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  protected receive(m: WebviewMessage): void {
    void this.handle(m);
  }

  private async handle(m: WebviewMessage): Promise<void> {
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
}
