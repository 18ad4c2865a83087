import * as vscode from 'vscode';

/** Machine definition files: `<machine>.machine.json`, on disk or anywhere else a JSON document comes from. */
export const DEFINITION_FILES: vscode.DocumentSelector = [
  { language: 'json', pattern: '**/*.machine.json' },
  { language: 'jsonc', pattern: '**/*.machine.json' },
];

/** The definition files the user can deploy: on disk, in the workspace. */
export const DEPLOYABLE_FILES: vscode.DocumentSelector = [
  { scheme: 'file', language: 'json', pattern: '**/*.machine.json' },
  { scheme: 'file', language: 'jsonc', pattern: '**/*.machine.json' },
];

export function isDefinitionDocument(doc: vscode.TextDocument): boolean {
  return vscode.languages.match(DEFINITION_FILES, doc) > 0;
}

/** The machine a definition file is named for: `order.machine.json` defines `order`. */
export function machineNameOf(uri: vscode.Uri): string {
  const base = uri.path.slice(uri.path.lastIndexOf('/') + 1);
  return base.replace(/\.machine\.json$/i, '');
}
