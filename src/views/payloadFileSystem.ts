import * as vscode from 'vscode';

/** Payload and initial-context editors: documents that live only in memory. */
export const PAYLOAD_SCHEME = 'rstmdb-payload';
/** Their schemas, served to VS Code's JSON support (see `jsonValidation` in package.json). */
export const SCHEMA_SCHEME = 'rstmdb-schema';
/** As many `jsonValidation` entries as package.json declares: one per payload editor open at a time. */
export const SCHEMA_SLOTS = 8;

export function schemaSlotUri(slot: number): vscode.Uri {
  return vscode.Uri.parse(`${SCHEMA_SCHEME}://slot/${slot}.json`);
}

/**
 * One path segment, as the user named it where possible: the tab, breadcrumbs and
 * Problems show it ("Local demo", not "Local_demo"). Only what would split the path or
 * read as a glob (`/ \ * ? [ ] { }`) and control characters become `_`. The schema globs
 * match on the slot alone, and the editor's session keeps the real names; the URI only
 * has to be unique (the slot) and legible.
 */
export function safeSegment(s: string): string {
  const out = s.replace(/[\u0000-\u001f\u007f/\\*?[\]{}]/g, '_').slice(0, 80);
  return out.trim() === '' || out === '.' || out === '..' ? '_' : out;
}

/** `rstmdb-payload://<slot>/<connection>/<instance>/<EVENT>.json`: the slot first, as the schema glob matches it. */
export function payloadUri(slot: number, connection: string, instance: string, name: string): vscode.Uri {
  return vscode.Uri.from({ scheme: PAYLOAD_SCHEME, authority: String(slot), path: `/${safeSegment(connection)}/${safeSegment(instance)}/${safeSegment(name)}.json` });
}

/**
 * The in-memory file system behind payload editors. It is a file system (not a
 * content provider) so the documents are editable with completion; "saving"
 * only stores the text here, so closing an editor never asks to save.
 */
export class PayloadFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly files = new Map<string, { data: Uint8Array; mtime: number }>();
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;
  private readonly written = new vscode.EventEmitter<{ uri: vscode.Uri; text: string }>();
  /** The editor saved (our debounced save after each edit): the text the user has now. */
  readonly onDidWrite = this.written.event;

  /** Puts text at `uri` for the editor to open (or reload, when it is open and clean). */
  put(uri: vscode.Uri, text: string): void {
    const existed = this.files.has(uri.toString());
    this.files.set(uri.toString(), { data: Buffer.from(text, 'utf8'), mtime: Date.now() });
    this.changed.fire([{ type: existed ? vscode.FileChangeType.Changed : vscode.FileChangeType.Created, uri }]);
  }

  remove(uri: vscode.Uri): void {
    if (this.files.delete(uri.toString())) this.changed.fire([{ type: vscode.FileChangeType.Deleted, uri }]);
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  stat(uri: vscode.Uri): vscode.FileStat {
    const f = this.files.get(uri.toString());
    if (f) return { type: vscode.FileType.File, ctime: f.mtime, mtime: f.mtime, size: f.data.byteLength };
    // The folders on the way to a payload exist as long as something is open under them.
    const prefix = `${uri.toString().replace(/\/$/, '')}/`;
    if ([...this.files.keys()].some((k) => k.startsWith(prefix)) || uri.path === '/' || uri.path === '') {
      return { type: vscode.FileType.Directory, ctime: 0, mtime: 0, size: 0 };
    }
    throw vscode.FileSystemError.FileNotFound(uri);
  }

  readDirectory(): [string, vscode.FileType][] {
    return [];
  }

  readFile(uri: vscode.Uri): Uint8Array {
    const f = this.files.get(uri.toString());
    if (!f) throw vscode.FileSystemError.FileNotFound(uri);
    return f.data;
  }

  writeFile(uri: vscode.Uri, content: Uint8Array): void {
    // Only payloads we opened can be written: "Save As" elsewhere in this scheme has nowhere to go.
    if (!this.files.has(uri.toString())) throw vscode.FileSystemError.NoPermissions('payload editors hold only the payloads rstmdb opened');
    this.files.set(uri.toString(), { data: content, mtime: Date.now() });
    this.written.fire({ uri, text: Buffer.from(content).toString('utf8') });
  }

  createDirectory(): void {
    throw vscode.FileSystemError.NoPermissions('payload editors hold only the payloads rstmdb opened');
  }

  delete(uri: vscode.Uri): void {
    this.remove(uri);
  }

  rename(): void {
    throw vscode.FileSystemError.NoPermissions('payload editors cannot be renamed');
  }

  dispose(): void {
    this.changed.dispose();
    this.written.dispose();
  }
}

/**
 * Serves each slot's schema. It never fails: an unknown slot is `{}` (a failed
 * schema load sticks in VS Code's JSON support until the window reloads), and
 * a slot's new schema reaches open documents through onDidChange.
 */
export class SchemaSlots implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly schemas = new Map<number, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(slot: number, schema: unknown): void {
    this.schemas.set(slot, JSON.stringify(schema, null, 2));
    this.changed.fire(schemaSlotUri(slot));
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const slot = Number(/^\/(\d+)\.json$/.exec(uri.path)?.[1]);
    return this.schemas.get(slot) ?? '{}';
  }

  dispose(): void {
    this.changed.dispose();
  }
}
