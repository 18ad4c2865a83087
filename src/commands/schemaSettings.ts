import * as vscode from 'vscode';

/** The `rstmdb.payloadSchemas` entries (checked one by one by the resolver). */
export function schemaSettings(): unknown[] {
  const v = vscode.workspace.getConfiguration('rstmdb').get<unknown>('payloadSchemas');
  return Array.isArray(v) ? v : [];
}

/** A schema file named in the setting, relative to a workspace folder (the first that has it). */
export async function readSchemaFile(path: string): Promise<unknown> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (!folders.length) throw new Error('no workspace folder is open');
  let lastError: unknown;
  for (const f of folders) {
    try {
      const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(f.uri, path));
      return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError instanceof Error ? new Error(lastError.message) : new Error(String(lastError));
}
