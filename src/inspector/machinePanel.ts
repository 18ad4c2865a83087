import * as vscode from 'vscode';
import type { Log } from '../model/log';
import { describeError, type ServerConnection } from '../model/serverConnection';
import type { WebviewMessage } from '../protocol/inspector';
import { PanelHost } from './panelHost';
import { definitionView } from './snapshot';

/** One machine view panel: a machine on a connection, showing one version (and maybe comparing another). */
export class MachinePanel extends PanelHost {
  private seq = 0;

  constructor(
    panel: vscode.WebviewPanel,
    readonly connection: ServerConnection,
    readonly machine: string,
    public version: number,
    public compare: number | undefined,
    extensionUri: vscode.Uri,
    log: Log,
  ) {
    super(panel, extensionUri, 'machine', log);
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

  protected receive(m: WebviewMessage): void {
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
}

export function machineKey(connection: string, machine: string): string {
  return `${connection}\u0000${machine}`;
}
