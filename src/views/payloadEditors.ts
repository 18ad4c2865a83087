import Ajv, { type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import * as vscode from 'vscode';
import { locateJson, spanOfError } from '../model/jsonLocate';
import type { ResolvedSchema } from '../model/payloadSchema';
import { PAYLOAD_SCHEME, payloadUri, PayloadFileSystem, SCHEMA_SLOTS, schemaSlotUri, SchemaSlots } from './payloadFileSystem';

/** What a send did: `done` closes the editor; `keep` leaves it open with its text (every failure). */
export type SendOutcome = 'done' | 'keep';

export interface PayloadEditorSpec {
  /** Where the text is remembered between attempts: the same key reopens with the last unsent text. */
  key: string;
  connection: string;
  /** The URI's folder and file name (`<instance>/<EVENT>.json`). */
  folder: string;
  name: string;
  /** "Send pay to order-1", on the CodeLens. */
  sendLabel: string;
  schema: ResolvedSchema;
  /** Said on the first line, e.g. that the instance's null context ignores payloads. */
  note?: string;
  /** Whether "Send without payload" is offered when the schema accepts an empty payload. */
  offerEmpty: boolean;
  /** Sends the payload (undefined: without one). Failures are reported by the callee; the editor keeps its text. */
  send(payload: unknown, session: PayloadSession): Promise<SendOutcome>;
}

/** One open payload editor. */
export interface PayloadSession {
  readonly uri: vscode.Uri;
  readonly spec: PayloadEditorSpec;
  readonly slot: number;
  /** Compiled schema, or why it could not be compiled. */
  validate: ValidateFunction | undefined;
  schemaError: string | undefined;
  sending: boolean;
  /** The text last sent and whether its outcome is unknown (a resend then reuses the same idempotency key). */
  lastAttempt?: { text: string; key: string; unknown: boolean };
}

/** ajv for the schema's dialect; formats are not checked (no ajv-formats), as VS Code's JSON support does not either. */
function compile(schema: unknown): ValidateFunction {
  const dialect = typeof schema === 'object' && schema !== null ? String((schema as { $schema?: unknown }).$schema ?? '') : '';
  const options = { allErrors: true, strict: false, validateFormats: false, logger: false as const };
  const ajv = dialect.includes('2020-12') ? new Ajv2020(options) : dialect.includes('2019-09') ? new Ajv2019(options) : new Ajv(options);
  return ajv.compile(schema as object);
}

/**
 * Payload and initial-context editors: JSON documents in memory, each with its
 * own schema (through one of the `jsonValidation` slots), a status CodeLens,
 * Send (CodeLens, title action, Ctrl/Cmd+Enter) checked with ajv first, and
 * no save prompt. Closing one cancels it; its text is kept for next time.
 */
export class PayloadEditors implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly fs = new PayloadFileSystem();
  private readonly slots = new SchemaSlots();
  private readonly sessions = new Map<string, PayloadSession>();
  /** Text not sent yet, by spec key: what the next editor for the same target starts from. */
  private readonly unsent = new Map<string, string>();
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('rstmdb payload');
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private readonly saveTimers = new Map<string, NodeJS.Timeout>();
  private readonly disposables: vscode.Disposable[] = [];

  register(): vscode.Disposable[] {
    return [
      // Registered before any payload document opens: a schema that fails to load once stays failed.
      vscode.workspace.registerFileSystemProvider(PAYLOAD_SCHEME, this.fs, { isCaseSensitive: true }),
      vscode.workspace.registerTextDocumentContentProvider('rstmdb-schema', this.slots),
      vscode.languages.registerCodeLensProvider({ scheme: PAYLOAD_SCHEME }, this),
      vscode.workspace.onDidChangeTextDocument((e) => this.edited(e)),
      vscode.window.tabGroups.onDidChangeTabs(() => this.closeGone()),
      vscode.commands.registerCommand('rstmdb.sendPayload', (uri?: vscode.Uri) => this.sendFrom(uri, true)),
      vscode.commands.registerCommand('rstmdb.sendWithoutPayload', (uri?: vscode.Uri) => this.sendFrom(uri, false)),
      vscode.commands.registerCommand('rstmdb.showPayloadSchema', (uri?: vscode.Uri) => this.showSchema(uri)),
    ];
  }

  /** Tabs left from an earlier window (their text lived in memory) cannot be restored: close them. */
  async closeRestored(): Promise<void> {
    const stale = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => t.input instanceof vscode.TabInputText && t.input.uri.scheme === PAYLOAD_SCHEME && !this.sessions.has(t.input.uri.toString()));
    if (stale.length) await vscode.window.tabGroups.close(stale);
  }

  /** Opens (or shows again) the editor for a target. */
  async open(spec: PayloadEditorSpec): Promise<PayloadSession | undefined> {
    const existing = [...this.sessions.values()].find((s) => s.spec.key === spec.key);
    if (existing) {
      // The same target again (after "Reload and choose again"): the new spec carries the state chosen now.
      this.attach(existing, spec);
      await vscode.window.showTextDocument(existing.uri, { preview: false });
      return existing;
    }
    const slot = this.freeSlot();
    if (slot === undefined) {
      void vscode.window.showWarningMessage(`${SCHEMA_SLOTS} payload editors are open: send or close one first.`);
      return undefined;
    }
    const uri = payloadUri(slot, spec.connection, spec.folder, spec.name);
    const session: PayloadSession = { uri, spec, slot, validate: undefined, schemaError: undefined, sending: false };
    this.attach(session, spec);
    this.sessions.set(uri.toString(), session);
    this.fs.put(uri, this.unsent.get(spec.key) ?? '{}\n');
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      if (doc.languageId !== 'json') await vscode.languages.setTextDocumentLanguage(doc, 'json');
      // Started from the inspector (a webview): open beside it, so it stays in view while the payload is typed.
      const fromWebview = vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputWebview;
      const editor = await vscode.window.showTextDocument(doc, { preview: false, viewColumn: fromWebview ? vscode.ViewColumn.Beside : undefined });
      // The cursor inside the braces, ready to type.
      const inside = doc.getText().indexOf('{') + 1;
      if (inside > 0) editor.selection = new vscode.Selection(doc.positionAt(inside), doc.positionAt(inside));
    } catch (err) {
      this.end(session);
      throw err;
    }
    this.lensesChanged.fire();
    return session;
  }

  /** Sets a session's spec and schema (its slot then serves that schema). */
  private attach(session: PayloadSession, spec: PayloadEditorSpec): void {
    (session as { spec: PayloadEditorSpec }).spec = spec;
    this.slots.set(session.slot, spec.schema.schema);
    try {
      session.validate = compile(spec.schema.schema);
      session.schemaError = undefined;
    } catch (err) {
      session.validate = undefined;
      session.schemaError = err instanceof Error ? err.message : String(err);
    }
    this.lensesChanged.fire();
  }

  private freeSlot(): number | undefined {
    const used = new Set([...this.sessions.values()].map((s) => s.slot));
    for (let n = 1; n <= SCHEMA_SLOTS; n++) if (!used.has(n)) return n;
    return undefined;
  }

  /** The session of an open payload document. */
  sessionFor(uri: vscode.Uri | undefined): PayloadSession | undefined {
    return uri ? this.sessions.get(uri.toString()) : undefined;
  }

  private edited(e: vscode.TextDocumentChangeEvent): void {
    const session = this.sessions.get(e.document.uri.toString());
    if (!session) return;
    this.unsent.set(session.spec.key, e.document.getText());
    // The send-time problems described the text before this edit.
    if (e.contentChanges.length) this.diagnostics.delete(e.document.uri);
    // Saved (into memory) shortly after each edit, so the document is never dirty and closing never asks.
    const key = e.document.uri.toString();
    clearTimeout(this.saveTimers.get(key));
    if (e.document.isDirty) {
      this.saveTimers.set(
        key,
        setTimeout(() => {
          this.saveTimers.delete(key);
          if (!e.document.isClosed && e.document.isDirty) void e.document.save();
        }, 300),
      );
    }
  }

  /** Sessions whose tab is gone were closed by the user: cancelled, their text kept for next time. */
  private closeGone(): void {
    const open = new Set(
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).flatMap((t) => (t.input instanceof vscode.TabInputText ? [t.input.uri.toString()] : [])),
    );
    for (const s of [...this.sessions.values()]) if (!open.has(s.uri.toString())) this.end(s);
  }

  private end(session: PayloadSession): void {
    this.sessions.delete(session.uri.toString());
    clearTimeout(this.saveTimers.get(session.uri.toString()));
    this.saveTimers.delete(session.uri.toString());
    this.diagnostics.delete(session.uri);
    this.fs.remove(session.uri);
    this.slots.set(session.slot, {});
    this.lensesChanged.fire();
  }

  /** Closes a session's editor after a successful send (its text is no longer unsent). */
  private async finish(session: PayloadSession): Promise<void> {
    this.unsent.delete(session.spec.key);
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === session.uri.toString());
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === session.uri.toString());
    if (doc?.isDirty) await doc.save();
    if (tabs.length) await vscode.window.tabGroups.close(tabs);
    this.end(session);
  }

  private async sendFrom(uri: vscode.Uri | undefined, withPayload: boolean): Promise<void> {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    const session = this.sessionFor(target);
    if (!session) {
      void vscode.window.showInformationMessage('Send works in an rstmdb payload editor (opened by Apply Event or Create Instance).');
      return;
    }
    if (session.sending) return;
    const doc = await vscode.workspace.openTextDocument(session.uri);
    const text = doc.getText();
    let payload: unknown;
    if (withPayload) {
      const checked = this.check(doc, session);
      if (!checked.ok) {
        vscode.window.setStatusBarMessage(`$(error) Not sent: ${checked.count} problem${checked.count === 1 ? '' : 's'} in the payload (underlined in the editor)`, 8000);
        return;
      }
      payload = checked.value;
    }
    session.sending = true;
    this.lensesChanged.fire();
    try {
      const outcome = await session.spec.send(payload, session);
      if (outcome === 'done') await this.finish(session);
      else this.unsent.set(session.spec.key, text);
    } finally {
      session.sending = false;
      this.lensesChanged.fire();
    }
  }

  /** Parses and validates the text; problems become diagnostics on the document. */
  private check(doc: vscode.TextDocument, session: PayloadSession): { ok: true; value: unknown } | { ok: false; count: number } {
    const text = doc.getText();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const at = Number(/position (\d+)/.exec(message)?.[1] ?? text.length);
      const pos = doc.positionAt(Math.min(at, text.length));
      this.diagnostics.set(doc.uri, [new vscode.Diagnostic(new vscode.Range(pos, pos.translate(0, 1)), `Not valid JSON: ${message}`, vscode.DiagnosticSeverity.Error)]);
      return { ok: false, count: 1 };
    }
    const problems: vscode.Diagnostic[] = [];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(new vscode.Diagnostic(new vscode.Range(0, 0, 0, 1), 'The payload must be a JSON object: the server merges its keys into the context.', vscode.DiagnosticSeverity.Error));
    } else if (session.validate && !session.validate(value)) {
      const spans = locateJson(text);
      for (const e of session.validate.errors ?? []) {
        const span = spanOfError(spans, e);
        const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'payload';
        const extra = e.keyword === 'additionalProperties' ? ` ('${String(e.params.additionalProperty)}')` : '';
        const d = new vscode.Diagnostic(new vscode.Range(doc.positionAt(span.start), doc.positionAt(span.end)), `${where} ${e.message ?? 'is not valid'}${extra}`, vscode.DiagnosticSeverity.Error);
        d.source = 'rstmdb (schema)';
        problems.push(d);
      }
    }
    if (problems.length) {
      this.diagnostics.set(doc.uri, problems);
      return { ok: false, count: problems.length };
    }
    this.diagnostics.delete(doc.uri);
    return { ok: true, value };
  }

  private async showSchema(uri: vscode.Uri | undefined): Promise<void> {
    const session = this.sessionFor(uri ?? vscode.window.activeTextEditor?.document.uri);
    if (!session) return;
    const doc = await vscode.workspace.openTextDocument(schemaSlotUri(session.slot));
    await vscode.languages.setTextDocumentLanguage(doc, 'json');
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const session = this.sessions.get(doc.uri.toString());
    if (!session) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const { spec } = session;
    const source = spec.schema.source === 'definition' ? 'from the definition' : spec.schema.source === 'settings' ? 'from settings' : 'inferred';
    const lenses = [
      new vscode.CodeLens(top, {
        title: session.sending ? '$(sync~spin) Sending…' : `$(send) ${spec.sendLabel}`,
        command: session.sending ? '' : 'rstmdb.sendPayload',
        arguments: [doc.uri],
        tooltip: 'Checks the payload against its schema, then sends it (Ctrl/Cmd+Enter)',
      }),
    ];
    if (spec.offerEmpty && !session.sending && (!session.validate || session.validate({}))) {
      lenses.push(new vscode.CodeLens(top, { title: 'Send without payload', command: 'rstmdb.sendWithoutPayload', arguments: [doc.uri], tooltip: 'Sends the event with no payload at all' }));
    }
    lenses.push(
      new vscode.CodeLens(top, {
        title: `$(json) Schema ${source}: ${spec.schema.origin}`,
        command: 'rstmdb.showPayloadSchema',
        arguments: [doc.uri],
        tooltip: 'Show the schema this payload is checked against',
      }),
    );
    if (spec.note) lenses.push(new vscode.CodeLens(top, { title: `$(info) ${spec.note}`, command: '' }));
    const problems = [...spec.schema.problems, ...(session.schemaError ? [`the schema cannot be used to check payloads: ${session.schemaError}`] : [])];
    if (problems.length) lenses.push(new vscode.CodeLens(top, { title: `$(warning) ${problems.join('; ')}`, command: '' }));
    return lenses;
  }

  dispose(): void {
    for (const t of this.saveTimers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
    this.diagnostics.dispose();
    this.lensesChanged.dispose();
    this.fs.dispose();
    this.slots.dispose();
  }
}
