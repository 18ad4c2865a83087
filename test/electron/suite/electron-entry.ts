/** Entry point @vscode/test-electron calls: activate the extension, then run the suite with its API. */
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import { run as runSuite } from './index';

export async function run(): Promise<void> {
  const ext = vscode.extensions.getExtension<ExtensionApi | undefined>('rstmdb.rstmdb-vscode');
  if (!ext) throw new Error('rstmdb.rstmdb-vscode is not loaded');
  // Under @vscode/test-electron the extension runs in test mode and hands out its API.
  const api = await ext.activate();
  if (!api) throw new Error('the extension did not return its test API');
  await runSuite(api);
}
