import * as vscode from 'vscode';
import { parseConnections, type ConnectionConfig } from './connectionConfig';

const SECTION = 'rstmdb';
const secretKey = (name: string) => `rstmdb.token:${name}`;

/**
 * Connections live in the `rstmdb.connections` setting; their tokens live in
 * SecretStorage only, keyed by connection name.
 */
export class ConnectionStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.connections`)) this.changed.fire();
    });
  }

  read(): { connections: ConnectionConfig[]; problems: string[] } {
    return parseConnections(vscode.workspace.getConfiguration(SECTION).get('connections'));
  }

  get(name: string): ConnectionConfig | undefined {
    return this.read().connections.find((c) => c.name === name);
  }

  /**
   * The list the user sees and where it lives: workspace settings win over user
   * settings for an array, so edits go to the workspace when it defines the list.
   */
  private stored(): { list: ConnectionConfig[]; target: vscode.ConfigurationTarget } {
    const seen = vscode.workspace.getConfiguration(SECTION).inspect<unknown[]>('connections');
    const inWorkspace = seen?.workspaceValue !== undefined;
    const raw = inWorkspace ? seen?.workspaceValue : seen?.globalValue;
    return {
      list: (Array.isArray(raw) ? raw : []) as ConnectionConfig[],
      target: inWorkspace ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global,
    };
  }

  private async write(list: ConnectionConfig[] | undefined, target: vscode.ConfigurationTarget): Promise<void> {
    await vscode.workspace.getConfiguration(SECTION).update('connections', list, target);
  }

  /** Adds or replaces (by `previousName`) a connection; the token goes to SecretStorage. */
  async save(config: ConnectionConfig, token: string | undefined, previousName?: string): Promise<void> {
    const { list, target } = this.stored();
    const at = list.findIndex((c) => c?.name === (previousName ?? config.name));
    const next = [...list];
    if (at >= 0) next[at] = config;
    else next.push(config);
    if (previousName && previousName !== config.name) {
      const old = await this.secrets.get(secretKey(previousName));
      await this.secrets.delete(secretKey(previousName));
      if (token === undefined && old !== undefined) token = old;
    }
    if (token !== undefined) {
      if (token === '') await this.secrets.delete(secretKey(config.name));
      else await this.secrets.store(secretKey(config.name), token);
    }
    await this.write(next, target);
  }

  async remove(name: string): Promise<void> {
    const { list, target } = this.stored();
    const next = list.filter((c) => c?.name !== name);
    // An emptied workspace list is removed, so the user-level connections show again there.
    await this.write(next.length || target !== vscode.ConfigurationTarget.Workspace ? next : undefined, target);
    await this.secrets.delete(secretKey(name));
  }

  token(name: string): Thenable<string | undefined> {
    return this.secrets.get(secretKey(name));
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
