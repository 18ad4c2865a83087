import * as vscode from 'vscode';
import { definitionOfText } from '../editors/deployPlanning';
import { Coalescer } from '../model/coalescer';
import { planDeploy } from '../model/definitionFormat';
import type { Log } from '../model/log';
import { describeError, type ServerConnection } from '../model/serverConnection';
import type { WebviewMessage } from '../protocol/inspector';
import { validateDefinition } from '../rcp/definition';
import type { MachineDefinition } from '../rcp/types';
import { PanelHost } from './panelHost';
import { definitionView } from './snapshot';

export const DEFINITION_PREVIEW_TYPE = 'rstmdb.definitionPreview';

/**
 * The machine view drawing a definition file as it is in the editor (saved or
 * not), redrawn as it is edited. The version shown is the one a deploy would
 * create; the page's "Compare with" lists the versions on the server, so the
 * file can be compared with what is deployed before deploying it.
 */
export class DefinitionPreviewPanel extends PanelHost {
  private seq = 0;
  private compare: number | undefined;
  private readonly redraw = new Coalescer<string>(300, () => void this.load());

  constructor(
    panel: vscode.WebviewPanel,
    readonly document: vscode.TextDocument,
    private readonly machine: string,
    /** The connection whose versions are offered for comparison (when it is up), and the version a deploy would create. */
    private readonly target: () => { conn: ServerConnection | undefined; version: number | undefined },
    extensionUri: vscode.Uri,
    log: Log,
  ) {
    super(panel, extensionUri, 'machine', log);
    const uri = document.uri.toString();
    this.disposables.push(
      this.redraw,
      vscode.workspace.onDidChangeTextDocument((e) => e.document.uri.toString() === uri && this.redraw.add(uri)),
      vscode.workspace.onDidCloseTextDocument((d) => d.uri.toString() === uri && this.dispose()),
    );
  }

  /** Shown again (Preview diagram on a file already previewed). */
  reveal(): void {
    this.panel.reveal(undefined, false);
    void this.load();
  }

  protected receive(m: WebviewMessage): void {
    if (m.t === 'ready') {
      void this.load();
      return;
    }
    if (m.op === 'showVersion') {
      // The file is one version; only what it is compared with can change.
      this.compare = m.args.compare;
      void this.load().then(() => this.post({ t: 'response', id: m.id, ok: true, result: null }));
      return;
    }
    if (m.op === 'close') this.panel.dispose();
    this.post({ t: 'response', id: m.id, ok: true, result: null });
  }

  private problem(message: string): void {
    this.post({ t: 'problem', seq: ++this.seq, problem: { connection: this.target().conn?.name ?? '', instanceId: '', message, retry: false } });
  }

  private async load(): Promise<void> {
    const def = definitionOfText(this.document.getText());
    const name = this.document.uri.path.slice(this.document.uri.path.lastIndexOf('/') + 1);
    if (!def) return this.problem(`${name} is not a JSON object yet; the diagram is drawn once it is.`);
    const errors = validateDefinition(def);
    if (errors.length) return this.problem(`${name} cannot be drawn until it is sound: ${errors[0]}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}.`);
    const { conn, version: target } = this.target();
    let versions: number[] = [];
    let planned: number | undefined;
    let compare: { version: number; definition: MachineDefinition } | undefined;
    if (conn?.isReady) {
      try {
        versions = (await (await conn.ensureClient()).listMachines()).items.find((i) => i.machine === this.machine)?.versions ?? [];
        // The version the file is (when the latest is this very definition), or the one a deploy would create.
        const latest = versions.length ? (await conn.definition(this.machine, Math.max(...versions))).definition : undefined;
        planned = planDeploy(versions, latest, def).version;
        if (this.compare !== undefined && versions.includes(this.compare)) compare = { version: this.compare, definition: (await conn.definition(this.machine, this.compare)).definition };
      } catch (err) {
        this.log.warn(`[preview] could not read the versions of ${this.machine}: ${describeError(err)}`);
      }
    }
    const version = target ?? planned ?? (versions.length ? Math.max(...versions) + 1 : 1);
    this.panel.title = `Preview: ${name}${compare ? ` ↔ v${compare.version}` : ''}`;
    this.post({
      t: 'machine',
      seq: ++this.seq,
      snapshot: {
        connection: conn ? `${name} (file) · ${conn.name}` : `${name} (file)`,
        machine: this.machine,
        version,
        versions: [...new Set([...versions, version])].sort((a, b) => a - b),
        definition: definitionView(def),
        ...(compare ? { compare: { version: compare.version, definition: definitionView(compare.definition) } } : {}),
      },
    });
  }
}
