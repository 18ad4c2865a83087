import * as vscode from 'vscode';
import { describeEndpoint } from '../../model/connectionConfig';
import { describeError, type ServerConnection } from '../../model/serverConnection';
import { escapeMarkdown } from '../markdown';
import { restingLook } from './connectionLook';
import { MachineNode } from './machineNode';
import { MessageNode } from './messageNode';
import { ExplorerNode, type ExplorerContext } from './node';
import { treeId } from './treeId';

const STATUS_ICON: Record<ServerConnection['status'], [string, string | undefined]> = {
  disconnected: ['database', undefined],
  connecting: ['loading~spin', undefined],
  ready: ['database', 'charts.green'],
  reconnecting: ['sync~spin', 'charts.yellow'],
  failed: ['error', 'errorForeground'],
};

export class ConnectionNode extends ExplorerNode {
  readonly parent = undefined;
  readonly machines = new Map<string, MachineNode>();
  private loaded = false;
  private error: string | undefined;
  /**
   * Expanding connects, until the user disconnects or a connect fails: from then
   * on only an explicit Connect (or the retry row) does, so an open row neither
   * undoes Disconnect nor retries a failing server in a loop.
   */
  private connectOnExpand = true;
  /** Bumped by reset(), so a machine list asked for before it is dropped. */
  private epoch = 0;

  constructor(
    readonly connection: ServerConnection,
    private readonly ctx: ExplorerContext,
  ) {
    super();
  }

  treeItem(): vscode.TreeItem {
    const c = this.connection;
    const item = new vscode.TreeItem(c.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = treeId('connection', c.name);
    // A refused session is not retried: the row says why instead of just "failed".
    const status = c.status === 'ready' ? 'connected' : c.status === 'failed' && c.refusal ? `failed: ${c.refusal}` : c.status;
    item.description = `${status} · ${c.config.host}:${c.config.port}${c.config.readOnly ? ' · read-only' : ''}`;
    // A token that went out in the clear is marked on the row itself, not only in the tooltip.
    const [icon, color] = c.tokenSentInClear && (c.status === 'ready' || c.status === 'disconnected') ? ['unlock', 'list.warningForeground'] : STATUS_ICON[c.status];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    const on = c.status === 'ready' || c.status === 'reconnecting' || c.status === 'connecting';
    item.contextValue = `connection.${on ? 'connected' : 'disconnected'}${c.config.readOnly ? '.readonly' : ''}`;
    const md = new vscode.MarkdownString(`**${escapeMarkdown(c.name)}** — ${escapeMarkdown(describeEndpoint(c.config))}\n\n`);
    md.appendMarkdown(`Status: ${escapeMarkdown(status)}\n\n`);
    if (c.server) md.appendMarkdown(`Server: ${escapeMarkdown(`${c.server.server_name} ${c.server.server_version} (${c.server.wire_mode})`)}\n\n`);
    if (c.tokenSentInClear) md.appendMarkdown('⚠ The token is sent without TLS: anyone on the network path can read it\n\n');
    if (c.config.tls?.enabled && c.config.tls.rejectUnauthorized === false) md.appendMarkdown('⚠ TLS certificate verification is off\n\n');
    if (c.lastError) md.appendMarkdown(`Last error: ${escapeMarkdown(c.lastError)}`);
    item.tooltip = md;
    item.accessibilityInformation = { label: `connection ${c.name}, ${item.description}` };
    restingLook(c, item);
    return item;
  }

  machine(name: string): MachineNode | undefined {
    return this.machines.get(name);
  }

  override async getChildren(): Promise<ExplorerNode[]> {
    const conn = this.connection;
    if (!this.loaded && !conn.isReady && !this.connectOnExpand) {
      const failed = conn.status === 'failed';
      const text = failed ? `Could not connect: ${conn.lastError ?? 'unknown error'}` : 'Disconnected — click to connect';
      return [new MessageNode(this, text, failed ? 'error' : 'info', { command: 'rstmdb.connect', title: 'Connect', arguments: [this] }, failed ? `${text}\n\nClick to try again.` : undefined)];
    }
    if (!this.loaded) {
      const epoch = this.epoch;
      try {
        const client = await conn.ensureClient();
        const list = await client.listMachines();
        // Reset meanwhile (disconnected, edited): this answer belongs to what is gone.
        if (epoch !== this.epoch) return this.getChildren();
        const seen = new Set<string>();
        for (const m of list.items) {
          seen.add(m.machine);
          const existing = this.machines.get(m.machine);
          if (existing) existing.versions = m.versions;
          else this.machines.set(m.machine, new MachineNode(this, m.machine, m.versions, this.ctx));
        }
        for (const name of [...this.machines.keys()]) if (!seen.has(name)) this.machines.delete(name);
        // Each machine row shows its all-versions total from the start (one pipelined count per machine).
        await Promise.all(
          [...this.machines.values()].map((m) =>
            client.listInstances({ machine: m.name, limit: 1 }).then(
              (r) => (m.listedTotal = r.total),
              () => (m.listedTotal = undefined),
            ),
          ),
        );
        if (epoch !== this.epoch) return this.getChildren();
        this.loaded = true;
        this.error = undefined;
      } catch (err) {
        if (epoch !== this.epoch) return this.getChildren();
        this.error = describeError(err);
      }
    }
    if (this.error) {
      // Connected but the list failed: retrying means reading it again, not connecting.
      const retry = conn.isReady ? 'rstmdb.refresh' : 'rstmdb.connect';
      return [new MessageNode(this, this.error, 'error', { command: retry, title: 'Retry', arguments: [this] }, `${this.error}\n\nClick to try again.`)];
    }
    if (this.machines.size === 0) return [new MessageNode(this, 'No machines on this server yet')];
    return [...this.machines.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A machine version was stored: list it if the machines are shown. Returns whether anything changed. */
  machinePut(machine: string, version: number): boolean {
    if (!this.loaded) return false;
    const existing = this.machines.get(machine);
    if (!existing) {
      this.machines.set(machine, new MachineNode(this, machine, [version], this.ctx));
      return true;
    }
    if (existing.versions.includes(version)) return false;
    existing.versions = [...existing.versions, version].sort((a, b) => a - b);
    return true;
  }

  /** The connection was closed or failed: forget what was loaded and wait for an explicit connect. */
  connectionLost(): void {
    this.connectOnExpand = false;
    this.reset();
  }

  /** Someone asked to connect (or it is connected): expanding may connect again. */
  connectionWanted(): void {
    this.connectOnExpand = true;
  }

  /** Forget everything loaded; the next expansion fetches again. */
  reset(): void {
    this.epoch++;
    this.loaded = false;
    this.error = undefined;
    for (const m of this.machines.values()) for (const v of m.versionNodes.values()) v.reset();
  }
}
