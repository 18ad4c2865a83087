import * as vscode from 'vscode';
import type { ConnectionManager } from '../model/connectionManager';
import { formatDefinition } from '../model/definitionFormat';
import { describeError } from '../model/serverConnection';

export const DEFINITION_SCHEME = 'rstmdb-definition';

/**
 * The server's copy of a machine version as a read-only document. The name ends
 * in `.machine.json`, so the schema, the checks and the guard hover apply to it too.
 */
export function definitionUri(connection: string, machine: string, version: number): vscode.Uri {
  return vscode.Uri.from({ scheme: DEFINITION_SCHEME, path: `/${encodeURIComponent(connection)}/${encodeURIComponent(machine)}.v${version}.machine.json` });
}

export function parseDefinitionUri(uri: vscode.Uri): { connection: string; machine: string; version: number } | undefined {
  const m = /^\/([^/]*)\/([^/]*)\.v(\d+)\.machine\.json$/.exec(uri.path);
  if (!m) return undefined;
  try {
    return { connection: decodeURIComponent(m[1]), machine: decodeURIComponent(m[2]), version: Number(m[3]) };
  } catch {
    return undefined;
  }
}

/** Serves GET_MACHINE as JSON, formatted as Save as File writes it (so versions and files diff line by line). */
export class DefinitionDocumentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly manager: ConnectionManager) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const where = parseDefinitionUri(uri);
    if (!where) return `// Not a machine definition address: ${uri.toString()}\n`;
    const conn = this.manager.get(where.connection);
    if (!conn) return `// The connection '${where.connection}' is not configured.\n`;
    try {
      return formatDefinition((await conn.definition(where.machine, where.version)).definition);
    } catch (err) {
      return `// Could not read ${where.machine} v${where.version} from '${where.connection}': ${describeError(err)}\n`;
    }
  }
}
