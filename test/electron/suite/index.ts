/**
 * Integration suite that runs inside the extension host with the real `vscode`
 * API: under @vscode/test-electron (`npm run test:electron`, where VS Code can be
 * downloaded) or inside code-server through the e2e harness. Results go to the
 * file named by RSTMDB_EXTENSION_TESTS_RESULT as JSON.
 */
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';

type Case = [name: string, fn: (api: ExtensionApi) => Promise<void>];

const cases: Case[] = [
  [
    'every command in the manifest is registered',
    async () => {
      const ext = vscode.extensions.getExtension('rstmdb.rstmdb-vscode');
      assert.ok(ext, 'the extension is installed');
      const declared = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
      const registered = new Set(await vscode.commands.getCommands(true));
      const missing = declared.filter((c) => !registered.has(c));
      assert.deepEqual(missing, []);
    },
  ],
  [
    'the configured connection is in the tree and connects',
    async (api) => {
      const roots = (await api.explorer.getChildren()) as { connection?: { name: string } }[];
      assert.deepEqual(roots.map((r) => r.connection?.name), ['Suite server']);
      const conn = api.manager.get('Suite server')!;
      const client = await conn.ensureClient();
      assert.equal(conn.status, 'ready');
      assert.equal(client.server.protocol_version, 1);
      const machines = (await api.explorer.getChildren(roots[0] as never)) as { name?: string }[];
      assert.deepEqual(machines.map((m) => m.name), ['approval', 'order', 'task']);
    },
  ],
  [
    'an open instance document follows the instance when it moves',
    async (api) => {
      const { instanceUri } = await import('../../../src/views/instanceDocument');
      const conn = api.manager.get('Suite server')!;
      const client = await conn.ensureClient();
      const { instances } = await client.listInstances({ machine: 'order', state: 'created', limit: 1 });
      const id = instances[0].id;
      const doc = await vscode.workspace.openTextDocument(instanceUri('Suite server', id));
      assert.match(doc.getText(), /"state": "created"/);
      await client.applyEvent({ instance_id: id, event: 'cancel', payload: { reason: 'suite' } });
      const deadline = Date.now() + 5000;
      while (!/"state": "cancelled"/.test(doc.getText()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(doc.getText(), /"state": "cancelled"/);
      assert.match(doc.getText(), /"reason": "suite"/);
    },
  ],
  [
    'Disconnect while a connect is under way wins: no client is left behind and the status stays disconnected',
    async (api) => {
      const conn = api.manager.get('Suite server')!;
      await conn.disconnect();
      const connecting = conn.ensureClient();
      await conn.disconnect();
      await assert.rejects(connecting, /disconnected while connecting/);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(conn.status, 'disconnected');
      assert.equal(conn.isReady, false);
      await conn.ensureClient();
      assert.equal(conn.status, 'ready');
    },
  ],
  [
    'a token saved with a connection goes to SecretStorage, not to settings',
    async (api) => {
      const token = 'suite-token-d41d8cd98f';
      const config = { name: 'Secret test', host: '127.0.0.1', port: 1 };
      await api.manager.store.save(config, token);
      assert.deepEqual(await api.manager.store.lookupToken(config), { kind: 'bound', token });
      const inSettings = JSON.stringify(vscode.workspace.getConfiguration('rstmdb').get('connections'));
      assert.ok(inSettings.includes('Secret test') && !inSettings.includes(token));
      await api.manager.store.remove('Secret test');
      assert.deepEqual(await api.manager.store.lookupToken(config), { kind: 'none' });
    },
  ],
  [
    'a token that went out without TLS to another machine: an open lock on the row and a warning in its tooltip',
    async (api) => {
      const { ConnectionNode } = await import('../../../src/views/nodes/connectionNode');
      const conn = api.manager.get('Suite server')!;
      await conn.ensureClient();
      const plain = new ConnectionNode(conn, api.explorer.ctx).treeItem();
      assert.equal((plain.iconPath as vscode.ThemeIcon).id, 'database');
      assert.doesNotMatch((plain.tooltip as vscode.MarkdownString).value, /without TLS/);
      conn.tokenSentInClear = true;
      try {
        const warned = new ConnectionNode(conn, api.explorer.ctx).treeItem();
        assert.equal((warned.iconPath as vscode.ThemeIcon).id, 'unlock');
        assert.match((warned.tooltip as vscode.MarkdownString).value, /⚠ The token is sent without TLS: anyone on the network path can read it/);
      } finally {
        conn.tokenSentInClear = false;
      }
    },
  ],
  [
    'a read-only connection refuses writes with a clear message',
    async (api) => {
      await api.manager.store.save({ name: 'RO', host: '127.0.0.1', port: 1, readOnly: true }, undefined);
      const conn = api.manager.get('RO');
      assert.ok(conn?.config.readOnly);
      const { refuseIfReadOnly } = await import('../../../src/commands/prompts');
      assert.equal(refuseIfReadOnly(conn as never, 'applying an event'), true);
      await api.manager.store.remove('RO');
    },
  ],
  [
    'connections defined in workspace settings are added to and removed from there, not copied to user settings',
    async (api) => {
      const config = () => vscode.workspace.getConfiguration('rstmdb');
      const userBefore = JSON.stringify(config().inspect('connections')?.globalValue);
      await config().update('connections', [{ name: 'Team server', host: '127.0.0.1', port: 1 }], vscode.ConfigurationTarget.Workspace);
      try {
        await api.manager.store.save({ name: 'Mine', host: '127.0.0.1', port: 2 }, undefined);
        assert.deepEqual((config().inspect('connections')?.workspaceValue as { name: string }[]).map((c) => c.name), ['Team server', 'Mine']);
        await api.manager.store.remove('Team server');
        assert.deepEqual((config().inspect('connections')?.workspaceValue as { name: string }[]).map((c) => c.name), ['Mine']);
        assert.equal(JSON.stringify(config().inspect('connections')?.globalValue), userBefore, 'user settings untouched');
      } finally {
        await config().update('connections', undefined, vscode.ConfigurationTarget.Workspace);
      }
    },
  ],
];

export async function run(api: ExtensionApi): Promise<void> {
  const results: { name: string; ok: boolean; error?: string }[] = [];
  for (const [name, fn] of cases) {
    try {
      await fn(api);
      results.push({ name, ok: true });
    } catch (err) {
      results.push({ name, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    }
  }
  const out = process.env.RSTMDB_EXTENSION_TESTS_RESULT;
  if (out) writeFileSync(out, JSON.stringify(results, null, 2));
  const failed = results.filter((r) => !r.ok);
  if (failed.length) throw new Error(`${failed.length} of ${results.length} extension-host tests failed`);
}
