import * as vscode from 'vscode';
import { themeColorId } from '../../model/connectionConfig';
import type { ServerConnection } from '../../model/serverConnection';

/**
 * How a connection row looks at rest (connected or disconnected, its icon not
 * busy with another warning): a lock when it is read-only, in the connection's
 * own colour when it has one (red for production, say). Connecting,
 * reconnecting and failed rows keep their status icon.
 */
export function restingLook(c: ServerConnection, item: vscode.TreeItem): void {
  const atRest = c.status === 'ready' || c.status === 'disconnected';
  const icon = item.iconPath instanceof vscode.ThemeIcon ? item.iconPath : undefined;
  if (!atRest || icon?.id !== 'database') return;
  const color = themeColorId(c.config.color);
  item.iconPath = new vscode.ThemeIcon(c.config.readOnly ? 'lock' : 'database', color ? new vscode.ThemeColor(color) : icon.color);
  if (c.config.readOnly && item.tooltip instanceof vscode.MarkdownString) {
    item.tooltip.appendMarkdown('\n\nRead-only: creating, applying events and deleting are refused');
  }
}
