import * as vscode from 'vscode';
import { guardAtOffset } from '../model/definitionCheck';
import { summarizeGuard } from '../model/guardSummary';
import { DEFINITION_FILES } from './definitionFiles';

const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

/** Hovering a transition's guard shows how the server reads it: the paths it reads and its operators. */
export class GuardHoverProvider implements vscode.HoverProvider {
  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const found = guardAtOffset(doc.getText(), doc.offsetAt(position));
    if (!found) return undefined;
    const s = summarizeGuard(found.guard);
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**Guard** of transition ${found.transition + 1}\n\n`);
    if (!s.ok) {
      md.appendMarkdown(`$(error) Does not parse: ${s.error}.\n\n`);
    } else {
      md.appendMarkdown(`Reads as ${code(s.grouped)}\n\n`);
      md.appendMarkdown(`- Paths read: ${s.paths.map(code).join(', ')}\n`);
      md.appendMarkdown(`- Operators: ${s.operators.length ? s.operators.map(code).join(' ') : 'none (a field alone is true when it is truthy)'}\n`);
      if (s.ignored) md.appendMarkdown(`\n$(warning) The server ignores ${code(s.ignored)} without an error.\n`);
      md.appendMarkdown('\nEvaluated against the context *before* the event\'s payload is merged; a missing path reads as `null`.');
    }
    return new vscode.Hover(md, new vscode.Range(doc.positionAt(found.start), doc.positionAt(found.end)));
  }
}

export function registerGuardHover(): vscode.Disposable {
  return vscode.languages.registerHoverProvider(DEFINITION_FILES, new GuardHoverProvider());
}
