import * as vscode from 'vscode';
import type { ConnectionManager } from '../model/connectionManager';
import { Coalescer } from '../model/coalescer';
import { describeError } from '../model/serverConnection';

export const INSTANCE_SCHEME = 'rstmdb-instance';

export function instanceUri(connection: string, id: string): vscode.Uri {
  return vscode.Uri.from({ scheme: INSTANCE_SCHEME, path: `/${encodeURIComponent(connection)}/${encodeURIComponent(id)}.json` });
}

/** The connection and instance of an instance document's URI (see instanceUri). */
export function parseInstanceUri(uri: vscode.Uri): { connection: string; instanceId: string } | undefined {
  if (uri.scheme !== INSTANCE_SCHEME) return undefined;
  const m = /^\/([^/]*)\/([^/]*)\.json$/.exec(uri.path);
  if (!m) return undefined;
  try {
    return { connection: decodeURIComponent(m[1]), instanceId: decodeURIComponent(m[2]) };
  } catch {
    return undefined;
  }
}

/** Read-only JSON view of GET_INSTANCE, re-read when the instance moves or is deleted while it is open. */
export class InstanceDocumentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  /** A burst of events for one instance becomes one re-read. */
  private readonly rereads = new Coalescer<string>(200, (keys) => {
    for (const key of keys) {
      const [connection, uri] = key.split('\u0000');
      // A re-read connects if needed: only for connections still up.
      if (this.manager.get(connection)?.isReady) this.changed.fire(vscode.Uri.parse(uri));
    }
  });
  private readonly subscription: vscode.Disposable;

  constructor(private readonly manager: ConnectionManager) {
    this.subscription = manager.onDidChangeInstance(({ connection, instanceId }) => {
      const uri = instanceUri(connection, instanceId).toString();
      if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri)) this.rereads.add(`${connection}\u0000${uri}`);
    });
  }

  /** Re-read an open document now (Open Instance on one already open). */
  refresh(uri: vscode.Uri): void {
    this.changed.fire(uri);
  }

  dispose(): void {
    this.subscription.dispose();
    this.rereads.dispose();
    this.changed.dispose();
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const [, connName, file] = uri.path.split('/');
    const name = decodeURIComponent(connName ?? '');
    const id = decodeURIComponent((file ?? '').replace(/\.json$/, ''));
    const conn = this.manager.get(name);
    if (!conn) return `// The connection '${name}' is not configured.`;
    try {
      const client = await conn.ensureClient();
      const inst = await client.getInstance({ instance_id: id });
      const body = JSON.stringify({ instance_id: id, ...inst }, null, 2) + '\n';
      // The server deletes softly and keeps answering GET: only the WAL tells, and the document says so.
      if (!conn.changes.isDeleted(id)) return body;
      return `// Deleted: the WAL records that '${id}' was deleted. The server still returns it (deletes are soft); it is no longer listed.\n${body}`;
    } catch (err) {
      const deleted = conn.changes.isDeleted(id) ? ' (the WAL records that it was deleted)' : '';
      return `// Could not read '${id}' from '${name}': ${describeError(err)}${deleted}\n`;
    }
  }
}
