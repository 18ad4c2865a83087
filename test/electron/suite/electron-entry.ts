/** Entry point @vscode/test-electron calls: activate the extension, then run the suite with its API. */
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import { run as runSuite } from './index';

export async function run(): Promise<void> {
  const ext = vscode.extensions.getExtension<ExtensionApi>('rstmdb.rstmdb-vscode');
  if (!ext) throw new Error('rstmdb.rstmdb-vscode is not loaded');
  await runSuite(await ext.activate());
}
