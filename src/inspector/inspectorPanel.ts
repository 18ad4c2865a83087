import * as vscode from 'vscode';
import type { HistoryIndex } from '../model/historyIndex';
import type { Log } from '../model/log';
import { describeError, type ServerConnection } from '../model/serverConnection';
import type { ConnectionState, HistoryView, InspectorUiState, InstanceSnapshot, WebviewMessage } from '../protocol/inspector';
import { RcpError } from '../rcp';
import type { InstanceSummary } from '../rcp/types';
import { PanelHost } from './panelHost';
import { buildSnapshot, panelTitle } from './snapshot';

/** What the panel asks of the rest of the extension (commands live elsewhere). */
export interface PanelServices {
  extensionUri: vscode.Uri;
  log: Log;
  historyOf(conn: ServerConnection): HistoryIndex;
  /** The index is still on its first read of the WAL. */
  historyLoading(conn: ServerConnection): Promise<void> | undefined;
}

/** A plain reference to an instance, as commands accept it from the inspector. */
export interface InstanceRef {
  connection: string;
  instanceId: string;
}

/** Up to this many LIST_INSTANCES rows are searched for the created/updated times GET_INSTANCE lacks. */
const SUMMARY_SEARCH = 3000;

/**
 * One inspector panel: one instance on one connection. The page is rebuilt by
 * VS Code whenever it is shown again (no retainContextWhenHidden), and every
 * `ready` gets a full snapshot, so nothing needs replaying to a page.
 */
export class InspectorPanel extends PanelHost {
  private ready = false;
  private seq = 0;
  /** What was shown last, so a disconnect can be said without reading (and so reconnecting) again. */
  private lastSnapshot: InstanceSnapshot | undefined;
  private loading: Promise<void> | undefined;
  private reloadAgain = false;
  private summary: InstanceSummary | undefined;
  private summaryPending = false;
  machine: string | undefined;
  version: number | undefined;
  /** The webview's UI state as it last said (for the e2e and for restoring). */
  uiState: InspectorUiState | undefined;

  constructor(
    panel: vscode.WebviewPanel,
    readonly connection: ServerConnection,
    readonly instanceId: string,
    private readonly services: PanelServices,
    summary?: InstanceSummary,
  ) {
    super(panel, services.extensionUri, 'instance', services.log);
    this.summary = summary;
    this.disposables.push(
      panel.onDidChangeViewState(() => {
        // A hidden page is gone; the next one says ready and gets a snapshot.
        if (!panel.visible) this.ready = false;
      }),
    );
  }

  get key(): string {
    return panelKey(this.connection.name, this.instanceId);
  }

  get ref(): InstanceRef {
    return { connection: this.connection.name, instanceId: this.instanceId };
  }

  /** Something about the instance may have changed: re-read it if someone is looking. */
  changed(): void {
    if (!this.ready || !this.panel.visible) return;
    // The user disconnected: reading would connect again behind their back. Show the last snapshot as out of date.
    if (this.connection.status === 'disconnected') {
      if (this.lastSnapshot && this.lastSnapshot.connectionState !== 'disconnected') {
        this.lastSnapshot = { ...this.lastSnapshot, connectionState: 'disconnected' };
        this.post({ t: 'snapshot', seq: ++this.seq, snapshot: this.lastSnapshot });
      }
      return;
    }
    void this.reload();
  }

  reveal(preserveFocus = false): void {
    this.panel.reveal(undefined, preserveFocus);
  }

  /** Progress of the first WAL read, shown while history is loading. */
  progress(read: number, total: number): void {
    if (this.ready) this.post({ t: 'progress', read, total });
  }

  protected receive(m: WebviewMessage): void {
    if (m.t === 'ready') {
      this.ready = true;
      if (m.state) this.uiState = m.state;
      void this.reload();
      return;
    }
    void this.handle(m).then(
      (result) => this.post({ t: 'response', id: m.id, ok: true, result: result ?? null }),
      (err) => this.post({ t: 'response', id: m.id, ok: false, error: describeError(err) }),
    );
  }

  private async handle(m: Extract<WebviewMessage, { t: 'request' }>): Promise<unknown> {
    switch (m.op) {
      case 'applyEvent':
        await vscode.commands.executeCommand('rstmdb.applyEvent', { ...this.ref, ...(m.args.event ? { event: m.args.event } : {}) });
        await this.reload();
        return null;
      case 'refresh':
        this.connection.forgetDefinitions();
        this.summary = undefined;
        await this.services.historyOf(this.connection).catchUp();
        await this.reload();
        return null;
      case 'copy':
        await vscode.env.clipboard.writeText(m.args.text);
        vscode.window.setStatusBarMessage(`Copied ${m.args.what}`, 2000);
        return null;
      case 'openJson':
        await vscode.commands.executeCommand('rstmdb.openInstance', this.ref);
        return null;
      case 'delete':
        await vscode.commands.executeCommand('rstmdb.deleteInstance', this.ref);
        await this.services.historyOf(this.connection).catchUp();
        await this.reload();
        return null;
      case 'close':
        this.panel.dispose();
        return null;
      case 'historyEntry':
        return this.services.historyOf(this.connection).detail(this.instanceId, m.args.offset);
    }
  }

  /** Reads the instance again and sends a snapshot; calls during a read lead to one more read after it. */
  reload(): Promise<void> {
    if (this.loading) {
      this.reloadAgain = true;
      return this.loading;
    }
    const run = (async () => {
      do {
        this.reloadAgain = false;
        await this.load();
      } while (this.reloadAgain && !this.disposed);
    })().finally(() => (this.loading = undefined));
    this.loading = run;
    return run;
  }

  private connectionState(): ConnectionState {
    const s = this.connection.status;
    return s === 'ready' ? 'ready' : s;
  }

  private async load(): Promise<void> {
    const conn = this.connection;
    try {
      const client = await conn.ensureClient();
      const instance = await client.getInstance({ instance_id: this.instanceId });
      const { definition } = await conn.definition(instance.machine, instance.version);
      this.machine = instance.machine;
      this.version = instance.version;
      this.panel.title = panelTitle(this.instanceId, instance.machine, instance.version);
      const index = this.services.historyOf(conn);
      const first = this.services.historyLoading(conn);
      let history: HistoryView;
      let unavailable: string | undefined;
      if (!client.server.features.includes('wal_read')) unavailable = 'This server does not offer WAL reads, so history cannot be shown.';
      if (first && !unavailable) {
        // Show the instance now; history follows when the first read of the WAL ends.
        history = { rows: [], truncated: false, progress: { read: 0, total: 0 } };
        void first.then(() => this.changed(), () => this.changed());
      } else {
        history = { rows: unavailable ? [] : index.rows(this.instanceId), truncated: index.truncated(this.instanceId), ...(unavailable ? { unavailable } : {}) };
      }
      const deleted = index.deleted(this.instanceId);
      if (this.disposed) return;
      this.lastSnapshot = buildSnapshot({
        connection: conn.name,
        connectionState: this.connectionState(),
        readOnly: !!conn.config.readOnly,
        instanceId: this.instanceId,
        instance,
        definition,
        summary: this.summary,
        deleted,
        history,
      });
      this.post({ t: 'snapshot', seq: ++this.seq, snapshot: this.lastSnapshot });
      // The times come from a listing, which can be slow on a big state: the move is shown first, the times follow.
      if (!deleted && !this.summaryPending && (!this.summary || this.summary.last_wal_offset !== instance.last_wal_offset)) {
        this.summaryPending = true;
        void this.findSummary(instance.machine, instance.state, instance.last_wal_offset)
          .then((found) => {
            if (found && found !== this.summary) {
              this.summary = found;
              return this.reload();
            }
          })
          .catch(() => undefined)
          .finally(() => (this.summaryPending = false));
      }
    } catch (err) {
      const missing = err instanceof RcpError && (err.code === 'INSTANCE_NOT_FOUND' || err.code === 'NOT_FOUND');
      this.post({
        t: 'problem',
        seq: ++this.seq,
        problem: {
          connection: conn.name,
          instanceId: this.instanceId,
          message: missing ? `There is no instance '${this.instanceId}' on '${conn.name}'.` : `Could not read '${this.instanceId}' from '${conn.name}': ${describeError(err)}`,
          retry: !missing,
        },
      });
    }
  }

  /** Created and updated times come only from LIST_INSTANCES: the state is searched a page at a time, up to SUMMARY_SEARCH rows. */
  private async findSummary(machine: string, state: string, lastWalOffset: number): Promise<InstanceSummary | undefined> {
    const client = await this.connection.ensureClient();
    for (let offset = 0; offset < SUMMARY_SEARCH; offset += 1000) {
      const page = await client.listInstances({ machine, state, limit: 1000, offset });
      const hit = page.instances.find((i) => i.id === this.instanceId);
      if (hit) return hit.last_wal_offset >= lastWalOffset || !this.summary ? hit : this.summary;
      if (!page.has_more) break;
    }
    return undefined;
  }

}

export function panelKey(connection: string, instanceId: string): string {
  return `${connection}\u0000${instanceId}`;
}
