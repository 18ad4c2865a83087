/**
 * `npm run test:electron`: the in-extension-host suite under @vscode/test-electron,
 * for machines that can download a VS Code build (this project's CI machines cannot;
 * there the same suite runs in code-server through test/e2e/extension-host.test.ts).
 */
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = join(__dirname, '..', '..', '..');
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(__dirname, 'suite', 'electron-entry.js'),
    launchArgs: ['--disable-extensions'],
  });
}

main().catch((err) => {
  console.error(`test:electron failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
