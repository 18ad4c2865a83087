import * as vscode from 'vscode';
import { parseConnections, type ConnectionConfig } from './connectionConfig';
import { endpointOf, TokenVault, type TokenLookup } from './tokenBinding';

const SECTION = 'rstmdb';
const passphraseKey = (name: string) => `rstmdb.keyPassphrase:${name}`;

/** Where the connection list in effect comes from. */
export type ConnectionSource = 'user' | 'workspace';

/**
 * Connections live in the `rstmdb.connections` setting; their tokens live in
 * SecretStorage only, bound to the endpoint they were saved for (tokenBinding.ts).
 * In an untrusted workspace the workspace's own list is not used at all: it
 * could point a connection the user knows by name at another server.
 */
export class ConnectionStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];
  readonly tokens: TokenVault;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.tokens = new TokenVault(secrets);
    this.subscriptions = [
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.connections`)) this.changed.fire();
      }),
      // Trusting the workspace brings its connections in.
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
    ];
  }

  private inspect() {
    return vscode.workspace.getConfiguration(SECTION).inspect<unknown[]>('connections');
  }

  /** The workspace (or a folder of it) defines connections, whether or not they are used. */
  private workspaceList(): unknown[] | undefined {
    const seen = this.inspect();
    const raw = seen?.workspaceFolderValue ?? seen?.workspaceValue;
    return raw === undefined ? undefined : Array.isArray(raw) ? raw : [];
  }

  /** Where the list in effect comes from: a workspace list replaces the user's (settings do not merge arrays). */
  get source(): ConnectionSource {
    return vscode.workspace.isTrusted && this.workspaceList() !== undefined ? 'workspace' : 'user';
  }

  /**
   * Whether this untrusted workspace defines connections that are left out.
   * VS Code hides a restricted setting's workspace value while untrusted (as
   * it should), so its settings files are looked at directly, only to say why
   * the connections are missing: nothing in them is used.
   */
  async ignoresWorkspaceConnections(): Promise<boolean> {
    if (vscode.workspace.isTrusted) return false;
    if (this.workspaceList()?.length) return true;
    const files = (vscode.workspace.workspaceFolders ?? []).map((f) => vscode.Uri.joinPath(f.uri, '.vscode', 'settings.json'));
    if (vscode.workspace.workspaceFile) files.push(vscode.workspace.workspaceFile);
    for (const file of files) {
      try {
        if (/"rstmdb\.connections"\s*:/.test(new TextDecoder().decode(await vscode.workspace.fs.readFile(file)))) return true;
      } catch {
        // No such file (or an untitled workspace): nothing defined there.
      }
    }
    return false;
  }

  read(): { connections: ConnectionConfig[]; problems: string[] } {
    // Read explicitly from user settings when untrusted: never rely on the restricted-setting filter alone.
    const raw = this.source === 'workspace' ? vscode.workspace.getConfiguration(SECTION).get('connections') : this.inspect()?.globalValue;
    return parseConnections(raw);
  }

  get(name: string): ConnectionConfig | undefined {
    return this.read().connections.find((c) => c.name === name);
  }

  /** The user's own definition of a connection (user settings), whatever the workspace says. */
  private userDefinition(name: string): ConnectionConfig | undefined {
    return parseConnections(this.inspect()?.globalValue).connections.find((c) => c.name === name);
  }

  /**
   * The list the user sees and where it lives: edits go to the workspace when
   * it defines the list in effect, otherwise to user settings.
   */
  private stored(): { list: ConnectionConfig[]; target: vscode.ConfigurationTarget } {
    const inWorkspace = this.source === 'workspace';
    const seen = this.inspect();
    const raw = inWorkspace ? (seen?.workspaceValue ?? seen?.workspaceFolderValue) : seen?.globalValue;
    return {
      list: (Array.isArray(raw) ? raw : []) as ConnectionConfig[],
      target: inWorkspace ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global,
    };
  }

  private async write(list: ConnectionConfig[] | undefined, target: vscode.ConfigurationTarget): Promise<void> {
    await vscode.workspace.getConfiguration(SECTION).update('connections', list, target);
  }

  /**
   * Adds or replaces (`previous`) a connection. `token`: a new token for the
   * connection's endpoint, '' to delete its tokens, undefined to keep what is
   * saved — including across an endpoint the user changed in this edit.
   */
  async save(config: ConnectionConfig, token: string | undefined, previous?: ConnectionConfig): Promise<void> {
    const { list, target } = this.stored();
    const at = list.findIndex((c) => c?.name === (previous?.name ?? config.name));
    const next = [...list];
    if (at >= 0) next[at] = config;
    else next.push(config);
    if (previous && previous.name !== config.name) {
      await this.tokens.rename(previous.name, config.name);
      const passphrase = await this.keyPassphrase(previous.name);
      await this.secrets.delete(passphraseKey(previous.name));
      // One just entered for the new name (saved before this) wins over the old one.
      if (passphrase !== undefined && (await this.keyPassphrase(config.name)) === undefined) await this.secrets.store(passphraseKey(config.name), passphrase);
    }
    if (token === '') {
      await this.tokens.forget(config.name);
    } else if (token !== undefined) {
      await this.tokens.bind(config.name, endpointOf(config), token);
    } else if (previous) {
      // The user moved the connection in the edit flow and kept the token: it goes with the connection.
      const kept = await this.tokens.tokenFor(config.name, endpointOf(previous));
      if (kept !== undefined) await this.tokens.bind(config.name, endpointOf(config), kept);
    }
    await this.write(next, target);
  }

  /** Passphrase of the connection's encrypted client key, if one was entered. */
  keyPassphrase(name: string): Thenable<string | undefined> {
    return this.secrets.get(passphraseKey(name));
  }

  /** '' forgets it. */
  async saveKeyPassphrase(name: string, passphrase: string): Promise<void> {
    if (passphrase) await this.secrets.store(passphraseKey(name), passphrase);
    else await this.secrets.delete(passphraseKey(name));
  }

  async remove(name: string): Promise<void> {
    const { list, target } = this.stored();
    const next = list.filter((c) => c?.name !== name);
    // An emptied workspace list is removed, so the user-level connections show again there.
    await this.write(next.length || target !== vscode.ConfigurationTarget.Workspace ? next : undefined, target);
    await this.tokens.forget(name);
    await this.secrets.delete(passphraseKey(name));
  }

  /**
   * The token for a connection as configured now. A token stored the old way
   * (by name only) is bound on first use to the user's own definition of the
   * connection; a workspace's definition never claims it silently.
   */
  lookupToken(config: ConnectionConfig): Promise<TokenLookup> {
    const own = this.userDefinition(config.name);
    return this.tokens.lookup(config.name, endpointOf(config), own ? endpointOf(own) : undefined);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
