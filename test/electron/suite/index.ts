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
import { RcpClient } from '../../../src/rcp';

type Case = [name: string, fn: (api: ExtensionApi) => Promise<void>, timeoutMs?: number];

/** A tree node as the explorer hands it out (each kind has one of these). */
type Node = { connection?: { name: string }; name?: string; version?: number; state?: string; id?: string };

const SUITE = 'Suite server';

async function children(api: ExtensionApi, node?: Node): Promise<Node[]> {
  return ((await api.explorer.getChildren(node as never)) ?? []) as Node[];
}

/** Walks the tree as a user expanding rows would: connection → machine → version → state. */
async function stateRow(api: ExtensionApi, connection: string, machine: string, version: number, state: string): Promise<Node> {
  const conn = (await children(api)).find((n) => n.connection?.name === connection);
  assert.ok(conn, `connection row ${connection}`);
  const m = (await children(api, conn)).find((n) => n.name === machine);
  assert.ok(m, `machine row ${machine}`);
  const v = (await children(api, m)).find((n) => n.version === version);
  assert.ok(v, `version row v${version}`);
  const s = (await children(api, v)).find((n) => n.state === state);
  assert.ok(s, `state row ${state}`);
  return s;
}

async function listedIds(api: ExtensionApi, state: Node): Promise<string[]> {
  return (await children(api, state)).map((n) => n.id).filter((id): id is string => typeof id === 'string');
}

/** Waits for a condition (polled every 20 ms); fails with `what` after ms. */
async function waitFor(what: string, ms: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Another client of the same server, as an application under development would be. */
function elsewhere(api: ExtensionApi): Promise<RcpClient> {
  const { host, port } = api.manager.get(SUITE)!.config;
  return RcpClient.connect({ host, port, clientName: 'suite-elsewhere' });
}

/** A command that must return by itself: one that opens a prompt instead never does. */
async function commandReturns(ms: number, command: string, ...args: unknown[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${command} did not return within ${ms} ms (it asked for something?)`)), ms);
  });
  try {
    await Promise.race([vscode.commands.executeCommand(command, ...args), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

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
      const roots = await children(api);
      assert.deepEqual(roots.map((r) => r.connection?.name), [SUITE]);
      await vscode.commands.executeCommand('rstmdb.connect', SUITE);
      const conn = api.manager.get(SUITE)!;
      assert.equal(conn.status, 'ready');
      assert.equal(conn.server?.protocol_version, 1);
      const machines = await children(api, roots[0]);
      assert.deepEqual(machines.map((m) => m.name), ['approval', 'order', 'task']);
    },
  ],
  [
    'an open instance document follows the instance when it moves',
    async (api) => {
      const other = await elsewhere(api);
      try {
        await other.createInstance({ machine: 'order', version: 1, instance_id: 'suite-doc', initial_ctx: { customer: 'ada' } });
        const created = await stateRow(api, SUITE, 'order', 1, 'created');
        await vscode.commands.executeCommand('rstmdb.refresh', created);
        const row = (await children(api, created)).find((n) => n.id === 'suite-doc');
        assert.ok(row, 'listed under created');
        await vscode.commands.executeCommand('rstmdb.openInstance', row);
        const doc = vscode.workspace.textDocuments.find((d) => d.uri.path.includes('suite-doc'));
        assert.ok(doc, 'Open Instance opened a document for it');
        assert.match(doc.getText(), /"state": "created"/);
        await other.applyEvent({ instance_id: 'suite-doc', event: 'cancel', payload: { reason: 'suite' } });
        await waitFor('the document to show the new state', 5000, () => /"state": "cancelled"/.test(doc.getText()));
        assert.match(doc.getText(), /"reason": "suite"/);
      } finally {
        await other.close();
      }
    },
  ],
  [
    'Disconnect while a connect is under way wins: no client is left behind and the status stays disconnected',
    async (api) => {
      const conn = api.manager.get(SUITE)!;
      await vscode.commands.executeCommand('rstmdb.disconnect', SUITE);
      // Mid-connect has no command of its own: the connection is asked directly, then Disconnect runs as the user would.
      const connecting = conn.ensureClient();
      await vscode.commands.executeCommand('rstmdb.disconnect', SUITE);
      await assert.rejects(connecting, /disconnected while connecting/);
      // A positive marker: a later connect through the command completes, and only then is the status read again.
      assert.equal(conn.status, 'disconnected');
      assert.equal(conn.isReady, false);
      await vscode.commands.executeCommand('rstmdb.connect', SUITE);
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
    'a read-only connection refuses Create, Apply and Delete run from its rows; the server is unchanged',
    async (api) => {
      const { host, port } = api.manager.get(SUITE)!.config;
      await api.manager.store.save({ name: 'Suite read-only', host, port, readOnly: true }, undefined);
      const other = await elsewhere(api);
      try {
        await other.createInstance({ machine: 'order', version: 1, instance_id: 'suite-ro', initial_ctx: { amount: 5 } });
        await waitFor('the read-only connection to be listed', 5000, async () => (await children(api)).some((n) => n.connection?.name === 'Suite read-only'));
        await vscode.commands.executeCommand('rstmdb.connect', 'Suite read-only');
        const created = await stateRow(api, 'Suite read-only', 'order', 1, 'created');
        const row = (await children(api, created)).find((n) => n.id === 'suite-ro');
        assert.ok(row, 'the instance is listed under created');
        const before = await other.listInstances({ machine: 'order', state: 'created', limit: 1 });
        // Each is refused before it asks anything: a command that prompts would not return.
        await commandReturns(3000, 'rstmdb.createInstance', created);
        await commandReturns(3000, 'rstmdb.applyEvent', row);
        await commandReturns(3000, 'rstmdb.deleteInstance', row);
        const inst = await other.getInstance({ instance_id: 'suite-ro' });
        assert.equal(inst.state, 'created');
        assert.equal((await other.listInstances({ machine: 'order', state: 'created', limit: 1 })).total, before.total);
      } finally {
        await other.close();
        await api.manager.store.remove('Suite read-only');
      }
    },
  ],
  [
    'Live: with the WAL tail stalled, an event applied elsewhere moves its row within 1 s',
    async (api) => {
      const other = await elsewhere(api);
      api.testing.stallWalTail(true);
      try {
        await other.createInstance({ machine: 'order', version: 1, instance_id: 'suite-live', initial_ctx: { amount: 5 } });
        const created = await stateRow(api, SUITE, 'order', 1, 'created');
        // The WAL is not followed now: Refresh re-reads the state so the new instance is listed.
        await vscode.commands.executeCommand('rstmdb.refresh', created);
        assert.ok((await listedIds(api, created)).includes('suite-live'), 'listed under created after Refresh');
        const paid = await stateRow(api, SUITE, 'order', 1, 'paid');
        assert.ok(!(await listedIds(api, paid)).includes('suite-live'));
        const sent = Date.now();
        await other.applyEvent({ instance_id: 'suite-live', event: 'pay' });
        await waitFor('the row to move from created to paid', 1000 - (Date.now() - sent), async () => (await listedIds(api, paid)).includes('suite-live') && !(await listedIds(api, created)).includes('suite-live'));
        assert.ok(Date.now() - sent <= 1000, `moved after ${Date.now() - sent} ms`);
      } finally {
        api.testing.stallWalTail(false);
        await other.close();
      }
    },
  ],
  [
    'a burst of 1,000 live events causes at most 10 redraws a second, and the tree ends where the server is',
    async (api) => {
      const other = await elsewhere(api);
      const ids = Array.from({ length: 10 }, (_, i) => `suite-burst-${i}`);
      try {
        for (const id of ids) {
          await other.createInstance({ machine: 'task', version: 1, instance_id: id, initial_ctx: { assignee: 'suite' } });
          await other.applyEvent({ instance_id: id, event: 'start' });
        }
        // The rows the burst moves are shown, so every event has something to redraw.
        const inProgress = await stateRow(api, SUITE, 'task', 1, 'in_progress');
        await vscode.commands.executeCommand('rstmdb.refresh', inProgress);
        await waitFor('the burst instances to be listed', 5000, async () => (await listedIds(api, inProgress)).filter((id) => ids.includes(id)).length === ids.length);
        await stateRow(api, SUITE, 'task', 1, 'blocked').then((n) => children(api, n));
        const events0 = api.testing.liveEvents;
        const redraws0 = api.testing.redraws;
        const started = Date.now();
        // 10 instances × 100 events (block, unblock, …), the instances in parallel.
        await Promise.all(
          ids.map(async (id) => {
            for (let k = 0; k < 50; k++) {
              await other.applyEvent({ instance_id: id, event: 'block' });
              await other.applyEvent({ instance_id: id, event: 'unblock' });
            }
          }),
        );
        await waitFor('the 1,000 events to arrive', 30_000, () => api.testing.liveEvents - events0 >= 1000);
        const seconds = (Date.now() - started) / 1000;
        const redraws = api.testing.redraws - redraws0;
        assert.ok(redraws <= Math.ceil(seconds * 10) + 1, `${redraws} redraws in ${seconds.toFixed(2)} s (at most 10 a second)`);
        await waitFor('every burst instance back in in_progress', 5000, async () => (await listedIds(api, inProgress)).filter((id) => ids.includes(id)).length === ids.length);
      } finally {
        await other.close();
      }
    },
    60_000,
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

/** Every case has a timeout: a broken one goes red instead of holding up the rest. */
async function withTimeout(name: string, ms: number, fn: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`'${name}' did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function run(api: ExtensionApi): Promise<void> {
  const results: { name: string; ok: boolean; error?: string }[] = [];
  for (const [name, fn, timeoutMs = 15_000] of cases) {
    try {
      await withTimeout(name, timeoutMs, () => fn(api));
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
