import * as vscode from 'vscode';
import { describeEndpoint } from '../../model/connectionConfig';
import { describeError, type ServerConnection } from '../../model/serverConnection';
import { MachineNode } from './machineNode';
import { MessageNode } from './messageNode';
import { ExplorerNode, type ExplorerContext } from './node';

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

  constructor(
    readonly connection: ServerConnection,
    private readonly ctx: ExplorerContext,
  ) {
    super();
  }

  treeItem(): vscode.TreeItem {
    const c = this.connection;
    const item = new vscode.TreeItem(c.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `connection:${c.name}`;
    const status = c.status === 'ready' ? 'connected' : c.status;
    item.description = `${status} · ${c.config.host}:${c.config.port}${c.config.readOnly ? ' · read-only' : ''}`;
    const [icon, color] = STATUS_ICON[c.status];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    const on = c.status === 'ready' || c.status === 'reconnecting' || c.status === 'connecting';
    item.contextValue = `connection.${on ? 'connected' : 'disconnected'}${c.config.readOnly ? '.readonly' : ''}`;
    const md = new vscode.MarkdownString(`**${c.name}** — ${describeEndpoint(c.config)}\n\n`);
    md.appendMarkdown(`Status: ${status}\n\n`);
    if (c.server) md.appendMarkdown(`Server: ${c.server.server_name} ${c.server.server_version} (${c.server.wire_mode})\n\n`);
    if (c.config.tls?.enabled && c.config.tls.rejectUnauthorized === false) md.appendMarkdown('⚠ TLS certificate verification is off\n\n');
    if (c.lastError) md.appendMarkdown(`Last error: ${c.lastError}`);
    item.tooltip = md;
    item.accessibilityInformation = { label: `connection ${c.name}, ${item.description}` };
    return item;
  }

  machine(name: string): MachineNode | undefined {
    return this.machines.get(name);
  }

  override async getChildren(): Promise<ExplorerNode[]> {
    const conn = this.connection;
    if (!this.loaded) {
      try {
        const client = await conn.ensureClient();
        const list = await client.listMachines();
        const seen = new Set<string>();
        for (const m of list.items) {
          seen.add(m.machine);
          const existing = this.machines.get(m.machine);
          if (existing) existing.versions = m.versions;
          else this.machines.set(m.machine, new MachineNode(this, m.machine, m.versions, this.ctx));
        }
        for (const name of [...this.machines.keys()]) if (!seen.has(name)) this.machines.delete(name);
        this.loaded = true;
        this.error = undefined;
      } catch (err) {
        this.error = describeError(err);
      }
    }
    if (this.error) {
      return [new MessageNode(this, this.error, 'error', { command: 'rstmdb.connect', title: 'Retry', arguments: [this] }, `${this.error}\n\nClick to try again.`)];
    }
    if (this.machines.size === 0) return [new MessageNode(this, 'No machines on this server yet')];
    return [...this.machines.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Forget everything loaded; the next expansion fetches again. */
  reset(): void {
    this.loaded = false;
    this.error = undefined;
    for (const m of this.machines.values()) for (const v of m.versionNodes.values()) v.reset();
  }
}
