/** Entry point @vscode/test-electron calls: activate the extension, then run the suite with its API. */
import { existsSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import { run as runSuite } from './index';

export async function run(): Promise<void> {
  try {
    const ext = vscode.extensions.getExtension<ExtensionApi | undefined>('rstmdb.rstmdb-vscode');
    if (!ext) throw new Error('rstmdb.rstmdb-vscode is not loaded');
    // In test mode (@vscode/test-electron, or code-server with extensionTestsPath) the extension hands out its API.
    const api = await ext.activate();
    if (!api) throw new Error(`the extension did not return its test API (extension mode: not test; from ${ext.extensionPath})`);
    await runSuite(api);
  } catch (err) {
    // The driver reads results from a file: a suite that could not start says why there too.
    const out = process.env.RSTMDB_EXTENSION_TESTS_RESULT;
    if (out && !existsSync(out)) writeFileSync(out, JSON.stringify([{ name: 'start the suite', ok: false, error: String((err as Error)?.stack ?? err) }]));
    throw err;
  }
}
