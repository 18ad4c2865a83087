import * as vscode from 'vscode';
import type { ConnectionConfig } from './connectionConfig';
import { ConnectionStore } from './connectionStore';
import type { Log } from './log';
import { ServerConnection, type TokenResolver } from './serverConnection';

/** An active connection that stays unreachable (reconnecting) this long hands over to another connected one. */
export const ACTIVE_GRACE_MS = 10_000;

/** Why the active connection changed without the user asking: shown in the status bar. */
export interface ActiveHandover {
  from: string;
  to: string;
  reason: 'removed' | 'failed' | 'unreachable';
}

/** Every configured connection, kept in step with the settings, and which one is active. */
export class ConnectionManager implements vscode.Disposable {
  private readonly connections = new Map<string, ServerConnection>();
  private readonly perConnection = new Map<string, vscode.Disposable[]>();
  private activeName: string | undefined;
  /** The active connection has been ready since it became active (a failure after that hands over). */
  private activeWasReady = false;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** The last handover, until the user switches connection themselves. */
  handover: ActiveHandover | undefined;
  private following = true;
  private readonly disposables: vscode.Disposable[] = [];

  private readonly listChanged = new vscode.EventEmitter<void>();
  /** Connections were added, removed or edited. */
  readonly onDidChangeConnections = this.listChanged.event;
  private readonly statusChanged = new vscode.EventEmitter<ServerConnection>();
  readonly onDidChangeStatus = this.statusChanged.event;
  private readonly instanceChanged = new vscode.EventEmitter<{ connection: string; instanceId: string }>();
  /** An instance moved (live event) or was deleted (WAL), on any connection. */
  readonly onDidChangeInstance = this.instanceChanged.event;
  private readonly activeChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeActive = this.activeChanged.event;

  constructor(
    readonly store: ConnectionStore,
    private readonly log: Log,
    /** Also used by Test Connection, so it asks the same question before sending a token elsewhere. */
    readonly resolveToken: TokenResolver,
  ) {
    this.disposables.push(store.onDidChange(() => this.sync()));
    this.sync();
  }

  /** Problems last reported, so the same broken entry is not announced on every settings change. */
  private reportedProblems = '';

  private readonly warned = new Set<string>();

  /** A warning the log shows once per session, however often its cause repeats (reconnects). */
  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(message);
  }

  requestTimeoutMs(): number {
    return vscode.workspace.getConfiguration('rstmdb').get<number>('requestTimeoutMs') ?? 15_000;
  }

  private sync(): void {
    const { connections, problems } = this.store.read();
    for (const p of problems) this.log.warn(`settings: ${p}`);
    const summary = problems.join('\n');
    if (summary && summary !== this.reportedProblems) {
      const open = 'Open Settings';
      void vscode.window
        .showWarningMessage(`Skipped in settings — ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more; see the rstmdb log)` : ''}.`, open)
        .then((pick) => pick === open && vscode.commands.executeCommand('workbench.action.openSettingsJson'));
    }
    this.reportedProblems = summary;
    const wanted = new Map(connections.map((c) => [c.name, c]));
    for (const [name, conn] of this.connections) {
      const next = wanted.get(name);
      if (!next) {
        this.drop(name);
      } else if (JSON.stringify(next) !== JSON.stringify(conn.config)) {
        // Edited: reconnect with the new settings if it was connected.
        conn.config = next;
        void conn.reconnect();
      }
    }
    for (const c of connections) if (!this.connections.has(c.name)) this.add(c);
    if (this.activeName && !this.connections.has(this.activeName)) {
      const removed = this.activeName;
      this.activeName = undefined;
      this.handOver(removed, 'removed');
    }
    this.listChanged.fire();
    this.activeChanged.fire();
  }

  private add(config: ConnectionConfig): void {
    const conn = new ServerConnection(config, { token: this.resolveToken, keyPassphrase: (name) => this.store.keyPassphrase(name) }, this.log, () => this.requestTimeoutMs(), (key, message) => this.warnOnce(key, message));
    conn.setFollowing(this.following);
    this.connections.set(config.name, conn);
    this.perConnection.set(config.name, [
      conn,
      conn.changes.onChange((c) => (c.kind === 'moved' || c.kind === 'deleted') && this.instanceChanged.fire({ connection: conn.name, instanceId: c.instanceId })),
      conn.onDidChangeStatus((c) => {
        // The first connection up becomes active when none is; connecting never takes over from another.
        if (c.status === 'ready' && !this.activeName) this.setActive(c.name);
        if (c.name === this.activeName) this.watchActive(c);
        this.statusChanged.fire(c);
      }),
    ]);
  }

  private drop(name: string): void {
    for (const d of this.perConnection.get(name) ?? []) d.dispose();
    this.perConnection.delete(name);
    this.connections.delete(name);
  }

  all(): ServerConnection[] {
    return [...this.connections.values()];
  }

  get(name: string): ServerConnection | undefined {
    return this.connections.get(name);
  }

  get active(): ServerConnection | undefined {
    return this.activeName ? this.connections.get(this.activeName) : undefined;
  }

  /** Whether connections follow the WAL for creates and deletes (while the explorer is visible). */
  setFollowing(on: boolean): void {
    this.following = on;
    for (const c of this.connections.values()) c.setFollowing(on);
  }

  /** The user's choice (or the first connection up when none was active). */
  setActive(name: string): void {
    if (this.activeName === name) return;
    this.activeName = name;
    this.activeWasReady = this.connections.get(name)?.isReady ?? false;
    this.handover = undefined;
    this.clearGrace();
    this.activeChanged.fire();
  }

  /**
   * A working active connection that fails, or stays unreachable past a grace
   * period, hands over to another connected one. One the user just chose and
   * that never came up stays active: the status bar shows why it failed.
   */
  private watchActive(c: ServerConnection): void {
    if (c.status === 'ready') {
      this.activeWasReady = true;
      this.clearGrace();
    } else if (c.status === 'failed' && this.activeWasReady) {
      this.clearGrace();
      this.handOver(c.name, 'failed');
    } else if (c.status === 'reconnecting' && this.activeWasReady && !this.graceTimer) {
      this.graceTimer = setTimeout(() => {
        this.graceTimer = undefined;
        const now = this.active;
        if (now === c && !c.isReady && c.status !== 'disconnected') this.handOver(c.name, 'unreachable');
      }, ACTIVE_GRACE_MS);
    } else if (c.status === 'disconnected') {
      // The user disconnected it: that is their act, not a failure.
      this.clearGrace();
    }
  }

  private handOver(from: string, reason: ActiveHandover['reason']): void {
    const next = this.all().find((c) => c.name !== from && c.isReady);
    if (!next) return;
    this.activeName = next.name;
    this.activeWasReady = true;
    this.handover = { from, to: next.name, reason };
    this.log.info(`active connection: '${from}' ${reason === 'removed' ? 'was removed' : reason === 'failed' ? 'failed' : 'is unreachable'}, '${next.name}' is now active`);
    this.activeChanged.fire();
  }

  private clearGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  dispose(): void {
    this.clearGrace();
    for (const name of [...this.connections.keys()]) this.drop(name);
    for (const d of this.disposables) d.dispose();
    this.listChanged.dispose();
    this.statusChanged.dispose();
    this.instanceChanged.dispose();
    this.activeChanged.dispose();
  }
}
