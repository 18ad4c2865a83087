import * as vscode from 'vscode';
import { themeColorId } from '../model/connectionConfig';
import type { ActiveHandover, ConnectionManager } from '../model/connectionManager';

const ICON: Record<string, string> = {
  ready: '$(database)',
  connecting: '$(loading~spin)',
  reconnecting: '$(sync~spin)',
  failed: '$(error)',
  disconnected: '$(debug-disconnect)',
};

/** Shows the active connection and its state; a click switches connection. */
export class ConnectionStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('rstmdb.connection', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly manager: ConnectionManager) {
    this.item.name = 'rstmdb connection';
    this.item.command = 'rstmdb.switchConnection';
    this.disposables = [
      manager.onDidChangeActive(() => {
        this.update();
        this.announceHandover();
      }),
      manager.onDidChangeStatus(() => this.update()),
      manager.onDidChangeConnections(() => this.update()),
    ];
    this.update();
  }

  private update(): void {
    const all = this.manager.all();
    if (!all.length) {
      this.item.hide();
      return;
    }
    const c = this.manager.active;
    if (!c) {
      this.item.text = '$(database) rstmdb';
      this.item.tooltip = 'rstmdb: no active connection — click to choose one';
      this.item.backgroundColor = undefined;
    } else {
      // A refused session is not retried: say why, where the state would be.
      const label = c.status === 'ready' ? 'connected' : c.status === 'failed' && c.refusal ? `failed: ${c.refusal}` : c.status;
      const ro = c.config.readOnly;
      const icon = ro && c.status === 'ready' ? '$(lock)' : ICON[c.status];
      const notes = [c.status === 'ready' ? '' : label, ro ? 'read-only' : ''].filter(Boolean).join(', ');
      this.item.text = `${icon} rstmdb: ${c.name}${notes ? ` (${notes})` : ''}`;
      const h = this.manager.handover;
      const why = h && h.to === c.name ? `\nActive since '${h.from}' ${handoverReason(h.reason)}` : '';
      this.item.tooltip = `rstmdb: ${c.name} — ${c.config.host}:${c.config.port} — ${label}${ro ? ' — read-only' : ''}${c.lastError ? `\n${c.lastError}` : ''}${why}\nClick to switch connection`;
      // The connection's own colour (say, red for production), as on its icon in the tree.
      const color = themeColorId(c.config.color);
      this.item.color = color ? new vscode.ThemeColor(color) : undefined;
      this.item.backgroundColor =
        c.status === 'failed'
          ? new vscode.ThemeColor('statusBarItem.errorBackground')
          : c.status === 'reconnecting'
            ? new vscode.ThemeColor('statusBarItem.warningBackground')
            : undefined;
    }
    this.item.show();
  }

  /** The active connection changed without the user asking: say which one is active now, and why. */
  private announced: ActiveHandover | undefined;
  private announceHandover(): void {
    const h = this.manager.handover;
    if (!h || h === this.announced) return;
    this.announced = h;
    void vscode.window.showInformationMessage(`rstmdb: '${h.from}' ${handoverReason(h.reason)}; '${h.to}' is now the active connection.`);
  }

  dispose(): void {
    this.item.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function handoverReason(reason: ActiveHandover['reason']): string {
  return reason === 'removed' ? 'was removed' : reason === 'failed' ? 'failed' : 'is unreachable';
}
