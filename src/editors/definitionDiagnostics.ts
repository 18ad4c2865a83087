import * as vscode from 'vscode';
import { Coalescer } from '../model/coalescer';
import { checkDefinitionText } from '../model/definitionCheck';
import { isDefinitionDocument } from './definitionFiles';

/**
 * Problems the JSON Schema cannot express (states that do not exist, clashing
 * transitions, guard syntax, unreachable states, dead ends), kept up to date
 * in the Problems view for every open `*.machine.json`.
 */
export class DefinitionDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('rstmdb-definition');
  private readonly disposables: vscode.Disposable[] = [];
  /** Typing re-checks a document at most every 250 ms (the check parses the whole file). */
  private readonly pending = new Coalescer<vscode.TextDocument>(250, (docs) => {
    for (const doc of docs) if (!doc.isClosed) this.check(doc);
  });

  constructor() {
    this.disposables.push(
      this.collection,
      vscode.workspace.onDidOpenTextDocument((doc) => this.check(doc)),
      vscode.workspace.onDidChangeTextDocument((e) => isDefinitionDocument(e.document) && this.pending.add(e.document)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.collection.delete(doc.uri)),
    );
    for (const doc of vscode.workspace.textDocuments) this.check(doc);
  }

  private check(doc: vscode.TextDocument): void {
    if (!isDefinitionDocument(doc)) return;
    const text = doc.getText();
    const range = (start: number, end: number) => new vscode.Range(doc.positionAt(start), doc.positionAt(end));
    const diagnostics = checkDefinitionText(text).map((d) => {
      const diag = new vscode.Diagnostic(range(d.start, d.end), d.message, d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
      diag.source = 'rstmdb';
      diag.code = d.code;
      if (d.related) diag.relatedInformation = [new vscode.DiagnosticRelatedInformation(new vscode.Location(doc.uri, range(d.related.start, d.related.end)), d.related.message)];
      if (d.code === 'unreachable-state') diag.tags = [vscode.DiagnosticTag.Unnecessary];
      return diag;
    });
    this.collection.set(doc.uri, diagnostics);
  }

  /** The problems currently shown for a document (for commands that refuse to deploy a broken file). */
  problems(uri: vscode.Uri): readonly vscode.Diagnostic[] {
    return this.collection.get(uri) ?? [];
  }

  dispose(): void {
    this.pending.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
