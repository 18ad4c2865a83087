import * as vscode from 'vscode';
import type { ConnectionManager } from '../model/connectionManager';
import { describeError } from '../model/serverConnection';

export const INSTANCE_SCHEME = 'rstmdb-instance';

export function instanceUri(connection: string, id: string): vscode.Uri {
  return vscode.Uri.from({ scheme: INSTANCE_SCHEME, path: `/${encodeURIComponent(connection)}/${encodeURIComponent(id)}.json` });
}

/** Read-only JSON view of GET_INSTANCE, re-read each time the document is opened. */
export class InstanceDocumentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly manager: ConnectionManager) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const [, connName, file] = uri.path.split('/');
    const name = decodeURIComponent(connName ?? '');
    const id = decodeURIComponent((file ?? '').replace(/\.json$/, ''));
    const conn = this.manager.get(name);
    if (!conn) return `// The connection '${name}' is not configured.`;
    try {
      const client = await conn.ensureClient();
      const inst = await client.getInstance({ instance_id: id });
      return JSON.stringify({ instance_id: id, ...inst }, null, 2) + '\n';
    } catch (err) {
      return `// Could not read '${id}' from '${name}': ${describeError(err)}\n`;
    }
  }
}
