import * as vscode from 'vscode';
import type { ConnectionManager } from '../model/connectionManager';
import { definitionOfText, currentPlan, deployConnection } from './deployPlanning';
import { DEPLOYABLE_FILES, machineNameOf } from './definitionFiles';

/**
 * The lenses over a `*.machine.json` on disk: Deploy (to the active connection,
 * as the next version, or "deployed" when the latest version is this very
 * definition), Diff with deployed, and Preview diagram. The server is asked
 * only over a connection that is already up: opening a file never connects.
 */
export class DefinitionCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly disposables: vscode.Disposable[];

  /** A version stored by anyone (another client, Studio) changes what Deploy would do: one listener per connection. */
  private readonly machineWatches = new Map<string, vscode.Disposable>();

  constructor(private readonly manager: ConnectionManager) {
    const refresh = () => this.changed.fire();
    this.disposables = [
      manager.onDidChangeStatus(refresh),
      manager.onDidChangeActive(refresh),
      manager.onDidChangeConnections(() => {
        this.watchMachines();
        refresh();
      }),
      this.changed,
    ];
    this.watchMachines();
  }

  private watchMachines(): void {
    const live = new Map(this.manager.all().map((c) => [c.name, c]));
    for (const [name, d] of this.machineWatches) {
      if (!live.has(name)) {
        d.dispose();
        this.machineWatches.delete(name);
      }
    }
    for (const [name, conn] of live) {
      this.machineWatches.get(name)?.dispose();
      this.machineWatches.set(name, conn.changes.onChange((c) => c.kind === 'machine' && this.changed.fire()));
    }
  }

  /** Ask for the lenses again (after a deploy, or a version stored by someone else). */
  refresh(): void {
    this.changed.fire();
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const top = new vscode.Range(0, 0, 0, 0);
    const machine = machineNameOf(doc.uri);
    const conn = deployConnection(this.manager);
    const lens = (title: string, command: string, tooltip: string) => new vscode.CodeLens(top, { title, command, arguments: [doc.uri], tooltip });
    const def = definitionOfText(doc.getText());
    let deploy = conn ? `$(cloud-upload) Deploy to ${conn.name} as ${machine}` : `$(cloud-upload) Deploy ${machine}…`;
    let deployed = false;
    if (conn?.isReady && def) {
      try {
        const { plan, versions } = await currentPlan(conn, machine, def);
        deployed = versions.length > 0;
        deploy = plan.kind === 'deployed' ? `$(check) Deployed to ${conn.name} as ${machine} v${plan.version}` : `$(cloud-upload) Deploy to ${conn.name} as ${machine} v${plan.version}`;
      } catch {
        // The lens stays general; deploying says what is wrong.
      }
    }
    const lenses = [lens(deploy, 'rstmdb.deployDefinition', `PUT_MACHINE: store this file's definition as a new version of '${machine}'`)];
    if (deployed || !conn?.isReady) lenses.push(lens('$(diff) Diff with deployed', 'rstmdb.diffDefinition', `Compare this file with the latest version of '${machine}' on the server`));
    lenses.push(lens('$(type-hierarchy) Preview diagram', 'rstmdb.previewDefinition', 'Draw this file\'s machine'));
    return lenses;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const d of this.machineWatches.values()) d.dispose();
  }
}

export function registerDefinitionCodeLens(provider: DefinitionCodeLensProvider): vscode.Disposable {
  return vscode.languages.registerCodeLensProvider(DEPLOYABLE_FILES, provider);
}
