import * as vscode from 'vscode';
import { Coalescer } from '../model/coalescer';
import type { ConnectionManager } from '../model/connectionManager';
import { HistoryIndex } from '../model/historyIndex';
import type { Log } from '../model/log';
import { describeError, type ServerConnection } from '../model/serverConnection';
import { INSPECTOR_VIEW_TYPE, MACHINE_VIEW_TYPE, WAL_VIEW_TYPE } from '../protocol/inspector';
import { validMachineState, validUiState } from '../protocol/validate';
import type { InstanceSummary } from '../rcp/types';
import { InspectorPanel, panelKey, type PanelServices } from './inspectorPanel';
import { setPageHtml, webviewOptions } from './panelHost';
import { MachinePanel, machineKey } from './machinePanel';
import { WalPanel } from './walPanel';

/** While an inspector is visible its connection's WAL is read this often, so a move shows within a second. */
const POLL_MS = 500;

/**
 * The inspector panels (one per instance), the per-connection history
 * indexes they share, and the live wiring: a live event or a WAL record
 * about an instance re-reads its panel, coalesced per instance.
 */
export class InspectorManager implements vscode.Disposable {
  private readonly panels = new Map<string, InspectorPanel>();
  private readonly machinePanels = new Map<string, MachinePanel>();
  private readonly walPanels = new Map<string, WalPanel>();
  private readonly indexes = new Map<string, HistoryIndex>();
  private readonly firstReads = new Map<string, Promise<void>>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changes: Coalescer<string>;
  private poller: NodeJS.Timeout | undefined;
  private readonly services: PanelServices;

  constructor(
    private readonly manager: ConnectionManager,
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
  ) {
    this.services = {
      extensionUri,
      log,
      historyOf: (conn) => this.historyOf(conn),
      historyLoading: (conn) => this.firstReads.get(conn.name),
    };
    this.changes = new Coalescer<string>(150, (keys) => {
      for (const key of keys) this.panels.get(key)?.changed();
    });
    this.disposables.push(
      manager.onDidChangeInstance(({ connection, instanceId }) => {
        // The event is a hint: the WAL says what happened, history included.
        const conn = manager.get(connection);
        if (conn && this.panels.has(panelKey(connection, instanceId))) void this.indexes.get(connection)?.catchUp().catch(() => undefined);
        this.changes.add(panelKey(connection, instanceId));
      }),
      manager.onDidChangeStatus((conn) => {
        if (conn.status === 'disconnected') this.dropIndex(conn.name);
        for (const p of this.panels.values()) if (p.connection === conn) this.changes.add(p.key);
      }),
      manager.onDidChangeConnections(() => {
        for (const p of [...this.panels.values()]) if (!manager.get(p.connection.name)) p.dispose();
      }),
    );
  }

  /** The serializers that bring panels back after a window reload. */
  register(): vscode.Disposable {
    const machines = vscode.window.registerWebviewPanelSerializer(MACHINE_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, raw) => {
        const state = validMachineState(raw);
        const conn = state && this.manager.get(state.connection);
        if (!state || !conn || this.machinePanels.has(machineKey(conn.name, state.machine))) {
          panel.dispose();
          return;
        }
        this.adoptMachine(panel, conn, state.machine, state.version, state.compare);
      },
    });
    const wal = vscode.window.registerWebviewPanelSerializer(WAL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, raw) => {
        const name = typeof raw === 'object' && raw !== null ? (raw as { connection?: unknown }).connection : undefined;
        const conn = typeof name === 'string' ? this.manager.get(name) : undefined;
        if (!conn || this.walPanels.has(conn.name)) {
          panel.dispose();
          return;
        }
        this.adoptWal(panel, conn);
      },
    });
    return vscode.Disposable.from(machines, wal, this.registerInspectors());
  }

  /** Opens (or shows) the WAL explorer of a connection. */
  openWal(conn: ServerConnection): void {
    const existing = this.walPanels.get(conn.name);
    if (existing) {
      existing.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(WAL_VIEW_TYPE, `WAL · ${conn.name}`, vscode.ViewColumn.Active, { ...webviewOptions(this.extensionUri), enableFindWidget: true });
    this.adoptWal(panel, conn);
  }

  private adoptWal(panel: vscode.WebviewPanel, conn: ServerConnection): void {
    const p = new WalPanel(panel, conn, this.extensionUri, this.log, {
      openInstance: (c, id) => this.open(c, id),
      openMachine: (c, machine, version) => this.openMachine(c, machine, version),
    });
    this.walPanels.set(conn.name, p);
    const sub = p.onDidDispose(() => {
      sub.dispose();
      if (this.walPanels.get(conn.name) === p) this.walPanels.delete(conn.name);
    });
  }

  /** Opens (or shows) the machine view of a machine, at a version. */
  openMachine(conn: ServerConnection, machine: string, version: number): void {
    const existing = this.machinePanels.get(machineKey(conn.name, machine));
    if (existing) {
      existing.show(version, existing.compare);
      return;
    }
    const panel = vscode.window.createWebviewPanel(MACHINE_VIEW_TYPE, `${machine} v${version}`, vscode.ViewColumn.Active, { ...webviewOptions(this.extensionUri), enableFindWidget: true });
    this.adoptMachine(panel, conn, machine, version, undefined);
  }

  private adoptMachine(panel: vscode.WebviewPanel, conn: ServerConnection, machine: string, version: number, compare: number | undefined): void {
    const p = new MachinePanel(panel, conn, machine, version, compare, this.extensionUri, this.log);
    this.machinePanels.set(p.key, p);
    const sub = p.onDidDispose(() => {
      sub.dispose();
      if (this.machinePanels.get(p.key) === p) this.machinePanels.delete(p.key);
    });
  }

  private registerInspectors(): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(INSPECTOR_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, raw) => {
        const state = validUiState(raw);
        const conn = state && this.manager.get(state.connection);
        if (!state || !conn || this.panels.has(panelKey(conn.name, state.instanceId))) {
          // Nothing to restore into: say so on the page rather than leaving it blank.
          panel.webview.options = webviewOptions(this.extensionUri);
          setPageHtml(panel.webview, this.extensionUri, 'instance');
          const gone = panel.webview.onDidReceiveMessage(() => {
            gone.dispose();
            void panel.webview.postMessage({
              t: 'problem',
              seq: 1,
              problem: { connection: state?.connection ?? '', instanceId: state?.instanceId ?? '', message: state ? `The connection '${state.connection}' is no longer configured.` : 'This inspector could not be restored.', retry: false },
            });
          });
          panel.onDidDispose(() => gone.dispose());
          return;
        }
        this.adopt(panel, conn, state.instanceId);
      },
    });
  }

  get openPanels(): InspectorPanel[] {
    return [...this.panels.values()];
  }

  /**
   * Opens (or shows) the inspector of one instance. With preserveFocus the
   * keyboard stays where it was (a click in the tree, as VS Code's Explorer).
   */
  open(conn: ServerConnection, instanceId: string, summary?: InstanceSummary, preserveFocus = false): InspectorPanel {
    const existing = this.panels.get(panelKey(conn.name, instanceId));
    if (existing) {
      existing.reveal(preserveFocus);
      existing.changed();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      INSPECTOR_VIEW_TYPE,
      instanceId,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus },
      { ...webviewOptions(this.extensionUri), enableFindWidget: true },
    );
    return this.adopt(panel, conn, instanceId, summary);
  }

  private adopt(panel: vscode.WebviewPanel, conn: ServerConnection, instanceId: string, summary?: InstanceSummary): InspectorPanel {
    const p = new InspectorPanel(panel, conn, instanceId, this.services, summary);
    this.panels.set(p.key, p);
    const sub = p.onDidDispose(() => {
      sub.dispose();
      if (this.panels.get(p.key) === p) this.panels.delete(p.key);
      this.updatePolling();
    });
    this.historyOf(conn);
    this.updatePolling();
    return p;
  }

  historyOf(conn: ServerConnection): HistoryIndex {
    let index = this.indexes.get(conn.name);
    if (!index) {
      const name = conn.name;
      index = new HistoryIndex(() => conn.ensureClient(), {
        onProgress: (read, total) => {
          for (const p of this.panels.values()) if (p.connection.name === name) p.progress(read, total);
        },
        onChanged: (ids) => {
          for (const id of ids) if (this.panels.has(panelKey(name, id))) this.changes.add(panelKey(name, id));
        },
      });
      this.indexes.set(name, index);
      // The change stream's own WAL reading extends the index (no second read of the same records).
      const fed = index;
      this.disposables.push(conn.changes.onWalPage((records) => this.indexes.get(name) === fed && fed.ingest(records)));
      const first = index.catchUp().catch((err) => this.log.warn(`[${name}] reading the WAL for history failed: ${describeError(err)}`));
      const done = first.finally(() => {
        if (this.firstReads.get(name) === done) this.firstReads.delete(name);
      });
      this.firstReads.set(name, done);
    }
    return index;
  }

  private dropIndex(name: string): void {
    this.indexes.delete(name);
    this.firstReads.delete(name);
  }

  /** Reads the WAL of each connection with a visible inspector, so moves and deletes show without the explorer. */
  private updatePolling(): void {
    const want = this.panels.size > 0;
    if (want && !this.poller) {
      this.poller = setInterval(() => {
        const names = new Set<string>();
        for (const p of this.panels.values()) if (p.panel.visible && p.connection.isReady) names.add(p.connection.name);
        for (const name of names) {
          if (this.firstReads.has(name)) continue;
          void this.indexes.get(name)?.catchUp().catch(() => undefined);
        }
      }, POLL_MS);
    } else if (!want && this.poller) {
      clearInterval(this.poller);
      this.poller = undefined;
    }
  }

  dispose(): void {
    if (this.poller) clearInterval(this.poller);
    this.changes.dispose();
    for (const p of [...this.panels.values()]) p.dispose();
    for (const p of [...this.machinePanels.values()]) p.dispose();
    for (const p of [...this.walPanels.values()]) p.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
