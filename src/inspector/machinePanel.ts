import * as vscode from 'vscode';
import type { Log } from '../model/log';
import { describeError, type ServerConnection } from '../model/serverConnection';
import type { HostMessage } from '../protocol/inspector';
import { validWebviewMessage } from '../protocol/validate';
import { setPageHtml, webviewOptions } from './inspectorPanel';
import { definitionView } from './snapshot';

/** One machine view panel: a machine on a connection, showing one version (and maybe comparing another). */
export class MachinePanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private seq = 0;
  private disposed = false;
  private readonly disposedEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposedEmitter.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly connection: ServerConnection,
    readonly machine: string,
    public version: number,
    public compare: number | undefined,
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
  ) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'rstmdb.svg');
    setPageHtml(panel.webview, extensionUri, 'machine');
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  get key(): string {
    return machineKey(this.connection.name, this.machine);
  }

  show(version: number, compare?: number): void {
    this.version = version;
    this.compare = compare;
    this.panel.reveal(undefined, false);
    void this.load();
  }

  private post(m: HostMessage): void {
    if (!this.disposed) void this.panel.webview.postMessage(m).then(undefined, () => undefined);
  }

  private receive(raw: unknown): void {
    const m = validWebviewMessage(raw);
    if (!m) {
      this.log.warn(`[machine view] dropped a malformed message from the webview of '${this.machine}'`);
      return;
    }
    if (m.t === 'ready') {
      void this.load();
      return;
    }
    if (m.op === 'showVersion') {
      this.version = m.args.version;
      this.compare = m.args.compare;
      void this.load().then(() => this.post({ t: 'response', id: m.id, ok: true, result: null }));
      return;
    }
    if (m.op === 'close') this.panel.dispose();
    this.post({ t: 'response', id: m.id, ok: true, result: null });
  }

  private async load(): Promise<void> {
    const conn = this.connection;
    try {
      const client = await conn.ensureClient();
      const versions = (await client.listMachines()).items.find((i) => i.machine === this.machine)?.versions ?? [this.version];
      const { definition } = await conn.definition(this.machine, this.version);
      const compare = this.compare !== undefined && this.compare !== this.version ? (await conn.definition(this.machine, this.compare)).definition : undefined;
      this.panel.title = `${this.machine} v${this.version}${compare ? ` ↔ v${this.compare}` : ''}`;
      this.post({
        t: 'machine',
        seq: ++this.seq,
        snapshot: {
          connection: conn.name,
          machine: this.machine,
          version: this.version,
          versions: [...versions].sort((a, b) => a - b),
          definition: definitionView(definition),
          ...(compare ? { compare: { version: this.compare!, definition: definitionView(compare) } } : {}),
        },
      });
    } catch (err) {
      this.post({ t: 'problem', seq: ++this.seq, problem: { connection: conn.name, instanceId: '', message: `Could not read ${this.machine} v${this.version} from '${conn.name}': ${describeError(err)}`, retry: true } });
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

export function machineKey(connection: string, machine: string): string {
  return `${connection}\u0000${machine}`;
}
