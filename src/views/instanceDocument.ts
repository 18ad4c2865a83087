import * as vscode from 'vscode';
import type { ConnectionManager } from '../model/connectionManager';
import { Coalescer } from '../model/coalescer';
import { describeError } from '../model/serverConnection';

export const INSTANCE_SCHEME = 'rstmdb-instance';

/**
 * Only `%` and `/` are escaped in a path segment: VS Code shows the path as it is
 * (tab, breadcrumbs, Problems), so "Local demo" must not become "Local%20demo".
 */
function segment(text: string): string {
  return text.replace(/[%/]/g, (c) => (c === '%' ? '%25' : '%2F'));
}

export function instanceUri(connection: string, id: string): vscode.Uri {
  return vscode.Uri.from({ scheme: INSTANCE_SCHEME, path: `/${segment(connection)}/${segment(id)}.json` });
}

/** The document is JSON (no comments), so what it says about itself are fields. */
function note(fields: Record<string, unknown>): string {
  return JSON.stringify(fields, null, 2) + '\n';
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
    const ref = parseInstanceUri(uri);
    const name = ref?.connection ?? '';
    const id = ref?.instanceId ?? '';
    const conn = this.manager.get(name);
    if (!conn) return note({ instance_id: id, connection: name, error: `The connection '${name}' is not configured.` });
    try {
      const client = await conn.ensureClient();
      const inst = await client.getInstance({ instance_id: id });
      // The server deletes softly and keeps answering GET: only the WAL tells, and the document says so.
      if (!conn.changes.isDeleted(id)) return note({ instance_id: id, ...inst });
      return note({
        instance_id: id,
        deleted: true,
        note: `The WAL records that '${id}' was deleted. The server still returns it (deletes are soft); it is no longer listed.`,
        ...inst,
      });
    } catch (err) {
      const deleted = conn.changes.isDeleted(id);
      return note({
        instance_id: id,
        connection: name,
        ...(deleted ? { deleted: true } : {}),
        error: `Could not read '${id}' from '${name}': ${describeError(err)}${deleted ? ' (the WAL records that it was deleted)' : ''}`,
      });
    }
  }
}
