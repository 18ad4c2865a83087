/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * What a first-time user trips over (issue #12): a deleted instance's document,
 * focus after a click, counts that agree with the rows, and actions offered only
 * where they can work.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { observeWire } from '../rcp/wire-observer';
import { resultsDir, VsCode } from './harness';

describe('first use: the details a new user trips over, in a real VS Code', () => {
  let demo: EmulatorProcess;
  let client: RcpClient;
  let vs: VsCode;

  before(async () => {
    demo = await startEmulator({ seed: 'demo' });
    client = await RcpClient.connect({ host: demo.host, port: demo.port });
    vs = await VsCode.launch({
      name: 'first-use',
      settings: {
        'rstmdb.instancesPageSize': 100,
        'rstmdb.connections': [
          { name: 'Local demo', host: '127.0.0.1', port: demo.port },
          { name: 'Prod', host: '127.0.0.1', port: demo.port, readOnly: true, color: 'red' },
        ],
      },
    });
    await vs.openExplorer();
    await vs.expand('Local demo');
    await vs.waitForRow('order');
  });

  after(async () => {
    // What the extension host said (a tree provider's error lands there, not in the tree).
    if (vs) {
      const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
      const lines = walk(join(vs.userDataDir, 'logs'))
        .filter((f) => /exthost\.log$/.test(f))
        .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => /\[error\]|rstmdb/i.test(l)));
      mkdirSync(resultsDir, { recursive: true });
      writeFileSync(join(resultsDir, 'first-use-exthost.log'), lines.join('\n'));
    }
    await vs?.close();
    await client?.close();
    await demo?.stop();
  });

  /** The text of the active editor, as shown: Monaco positions line elements (not in order) and renders spaces as no-break spaces. */
  async function editorText(): Promise<string> {
    return vs.page.evaluate(() => {
      const lines = [...document.querySelectorAll('.editor-group-container.active .monaco-editor .view-lines .view-line')] as HTMLElement[];
      return lines
        .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
        .map((l) => (l.textContent ?? '').replace(/\u00a0/g, ' '))
        .join('\n');
    });
  }

  /** Every test starts from the same view: no editors, the tree collapsed but for the connection. */
  async function fresh(): Promise<void> {
    // The keyboard back in the workbench (a webview that has it keeps the palette from opening).
    await vs.page.locator('.part.sidebar .title-label').first().click();
    await vs.page.keyboard.press('Escape');
    await vs.runCommand('View: Close All Editors');
    await vs.page.keyboard.press('Escape');
    await vs.page.locator('.part.sidebar .title-actions .action-label[aria-label="Collapse All"]').first().click();
    await vs.expand('Local demo');
    await vs.waitForRow(/^order$/);
  }

  /** Waits until the active editor holds JSON for which `check` is true; returns it. */
  async function waitForJson(check: (doc: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 15_000;
    let last = '';
    while (Date.now() < deadline) {
      last = await editorText().catch(() => '');
      try {
        const doc = JSON.parse(last) as Record<string, unknown>;
        if (check(doc)) return doc;
      } catch {
        // Not (yet) JSON: keep waiting; the last text is reported below.
      }
      await vs.page.waitForTimeout(200);
    }
    throw new Error(`the document never showed ${what} as valid JSON; it shows:\n${last}`);
  }

  async function openAsJson(id: string): Promise<void> {
    await vs.runCommand('rstmdb: Open Instance as JSON');
    await vs.answer(id, 'Open Instance as JSON');
  }

  /** Hovers an element until VS Code's hover shows `contains`; returns the hover's text. */
  async function hoverText(target: import('playwright-core').Locator, contains: string): Promise<string> {
    const hover = vs.page.locator('.monaco-hover, .workbench-hover', { hasText: contains }).first();
    for (let attempt = 0; ; attempt++) {
      await vs.page.mouse.move(0, 0);
      await target.hover();
      try {
        await hover.waitFor({ state: 'visible', timeout: 4000 });
        return (await hover.innerText()).replace(/\u00a0/g, ' ');
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  }

  /** Is the keyboard focus inside the side bar (the tree)? */
  const focusInSideBar = () => vs.page.evaluate(() => !!document.activeElement?.closest('.part.sidebar'));

  test('a deleted instance\'s open document says so in valid JSON, and an unknown id too; paths show "Local demo"', async () => {
    await vs.failureScreenshot('deleted-doc', async () => {
      await fresh();
      const { instances } = await client.listInstances({ machine: 'task', state: 'done', limit: 1 });
      const id = instances[0].id;
      await openAsJson(id);
      await waitForJson((d) => d.instance_id === id && d.state === 'done', `the instance ${id}`);
      // The path is shown decoded (the tab's hover, Problems), never "Local%20demo".
      const path = await hoverText(vs.page.locator('.tab.active').first(), `${id}.json`);
      assert.match(path, /Local demo/);
      assert.doesNotMatch(path, /%20/);
      await vs.page.mouse.move(0, 0);

      // Deleted elsewhere: the WAL tells the open document, which says so as a field.
      await client.deleteInstance({ instance_id: id });
      const doc = await waitForJson((d) => d.deleted === true, `that ${id} was deleted`);
      assert.equal(doc.instance_id, id);
      assert.match(String(doc.note), /deleted/);
      await vs.screenshot('deleted-doc');

      // An id the server does not know: the error, still in valid JSON.
      await openAsJson('no-such-instance');
      const missing = await waitForJson((d) => typeof d.error === 'string', 'the error');
      assert.match(String(missing.error), /INSTANCE_NOT_FOUND/);
      assert.equal(missing.connection, 'Local demo');
      // Valid JSON leaves nothing for the JSON checker to complain about.
      const problems = await vs.page.locator('#status\\.problems').first().getAttribute('aria-label');
      assert.doesNotMatch(problems ?? '', /[1-9]\d* Error|Errors?: [1-9]/, `Problems: ${problems}`);
      await vs.page.keyboard.press('Escape');
      await vs.runCommand('View: Close All Editors');
    });
  });

  test('a click on an instance shows it while the keyboard stays in the tree; Enter and a double-click move focus to it', async () => {
    await vs.failureScreenshot('focus', async () => {
      await fresh();
      await vs.expand(/^task$/);
      await vs.expand(/^v1$/);
      await vs.expand(/^review$/);
      const { instances } = await client.listInstances({ machine: 'task', state: 'review', limit: 100 });
      assert.ok(instances.length >= 3, 'the demo has instances in review');
      await vs.waitForRowLabel(/^instance \S+ in review/);
      const rows = await vs.treeRows();
      const at = rows.findIndex((r) => r.startsWith('state review'));
      const first = rows[at + 1].match(/^instance (\S+) in review/)![1];
      const second = rows[at + 2].match(/^instance (\S+) in review/)![1];

      await (await vs.waitForRow(first)).click();
      // The inspector opens as a tab…
      await vs.page.locator('.tab', { hasText: first }).first().waitFor({ state: 'visible', timeout: 15_000 });
      // …and the keyboard is still in the tree: arrow keys move through the rows, not an editor.
      assert.ok(await focusInSideBar(), 'focus stays in the tree after a click');
      await vs.page.keyboard.press('ArrowDown');
      await vs.page.waitForFunction(
        (want) => (document.querySelector('.part.sidebar .monaco-list-row.focused')?.getAttribute('aria-label') ?? '').startsWith(want),
        `instance ${second} in review`,
        { timeout: 5000 },
      );
      assert.ok(await focusInSideBar(), 'still in the tree after an arrow key');
      await vs.screenshot('click-keeps-focus');

      // Enter opens the focused row and moves the keyboard there.
      await vs.page.keyboard.press('Enter');
      await vs.page.locator('.tab.active', { hasText: second }).first().waitFor({ state: 'visible', timeout: 15_000 });
      await vs.page.waitForFunction(() => !document.activeElement?.closest('.part.sidebar'), undefined, { timeout: 5000 });

      // A double-click does the same.
      await (await vs.waitForRow(first)).dblclick();
      await vs.page.locator('.tab.active', { hasText: first }).first().waitFor({ state: 'visible', timeout: 15_000 });
      await vs.page.waitForFunction(() => !document.activeElement?.closest('.part.sidebar'), undefined, { timeout: 5000 });
    });
  });

  test('a state of a several-version machine says what was counted, and agrees with the rows listed; the machine row carries the total', async () => {
    await vs.failureScreenshot('counts', async () => {
      await fresh();
      const { total: draftAll, instances } = await client.listInstances({ machine: 'approval', state: 'draft', limit: 1000 });
      const inV1 = instances.filter((i) => i.version === 1).length;
      assert.ok(inV1 > 0 && inV1 < draftAll, 'the demo has drafts in both versions');
      const { total: machineAll } = await client.listInstances({ machine: 'approval', limit: 1 });

      await vs.expand(/^approval$/);
      await vs.waitForRowLabel(new RegExp(`^machine approval, 2 versions · ${machineAll} instances`));
      await vs.expand(/^v1$/);
      await vs.waitForRowLabel(new RegExp(`^state draft, ${draftAll} across v1, v2 · initial`));
      await vs.expand(/^draft$/);
      await vs.waitForRowLabel(new RegExp(`^state draft, ${inV1} here · ${draftAll} across v1, v2 · initial`));
      const rows = await vs.treeRows();
      const listed = rows.filter((r) => /^instance \S+ in draft/.test(r)).length;
      assert.equal(listed, inV1, 'the number shown is the number of rows listed');
      await vs.screenshot('counts');
      await vs.collapse(/^draft$/);
      await vs.collapse(/^approval$/);
    });
  });

  test('no dead ends: final-state instances offer no Apply Event, and Create Instance is offered only on the initial state', async () => {
    await vs.failureScreenshot('dead-ends', async () => {
      await fresh();
      await vs.expand(/^order$/);
      await vs.expand(/^v1$/);
      await vs.waitForRow(/^cancelled$/);
      const inline = (label: RegExp | string, action: string) =>
        vs.treeRow(label).locator(`.actions .action-label[aria-label^="${action}"]`).count();
      assert.equal(await inline(/^created$/, 'Create Instance'), 1, 'the initial state offers Create Instance');
      for (const state of ['paid', 'shipped', 'cancelled', 'refunded']) {
        assert.equal(await inline(new RegExp(`^${state}$`), 'Create Instance'), 0, `${state} offers no Create Instance`);
      }
      await vs.expand(/^cancelled$/);
      const { instances: cancelled } = await client.listInstances({ machine: 'order', state: 'cancelled', limit: 1 });
      await vs.waitForRow(cancelled[0].id);
      assert.equal(await inline(cancelled[0].id, 'Apply Event'), 0, 'a cancelled order takes no event');
      assert.equal(await inline(cancelled[0].id, 'Open Inspector'), 1, 'its inspector is still offered');
      await vs.collapse(/^cancelled$/);
      await vs.expand(/^paid$/);
      const { instances: paid } = await client.listInstances({ machine: 'order', state: 'paid', limit: 1 });
      await vs.waitForRow(paid[0].id);
      assert.equal(await inline(paid[0].id, 'Apply Event'), 1, 'a paid order takes events');
      await vs.screenshot('dead-ends');
      await vs.collapse(/^paid$/);
      await vs.collapse(/^order$/);
    });
  });
  /** Clicks a row's inline action (shown on hover). */
  async function inlineAction(label: string | RegExp, action: string): Promise<void> {
    const row = await vs.waitForRow(label);
    await row.hover();
    await row.locator(`.actions .action-label[aria-label^="${action}"]`).first().click();
  }

  test('after Refresh, an instance that arrived live keeps its place on top', async () => {
    await vs.failureScreenshot('refresh-order', async () => {
      await fresh();
      await vs.expand(/^task$/);
      await vs.expand(/^v1$/);
      await vs.expand(/^todo$/);
      await client.createInstance({ machine: 'task', version: 1, instance_id: 'task-live-arrival', initial_ctx: { title: 'live' } });
      await vs.waitForRowLabel(/^instance task-live-arrival in todo/, 10_000);
      const firstUnderTodo = async () => {
        const rows = await vs.treeRows();
        return rows[rows.findIndex((r) => r.startsWith('state todo')) + 1] ?? '';
      };
      assert.match(await firstUnderTodo(), /^instance task-live-arrival /);
      await vs.runCommand('rstmdb: Refresh');
      // Refreshed: the rows are read again from the server, which lists the new one in its own order.
      await vs.page.waitForFunction(() => [...document.querySelectorAll('.part.sidebar .monaco-list-row')].some((r) => /^instance task-live-arrival /.test(r.getAttribute('aria-label') ?? '')), undefined, { timeout: 15_000 });
      assert.match(await firstUnderTodo(), /^instance task-live-arrival /, 'still first after Refresh');
      await vs.screenshot('refresh-keeps-place');
    });
  });

  test('a long id is shortened in the middle at the default sidebar width, so "updated … ago" stays in view', async () => {
    await vs.failureScreenshot('long-id', async () => {
      await fresh();
      await vs.expand(/^task$/);
      await vs.expand(/^v1$/);
      await vs.expand(/^todo$/);
      const id = 'task-2026-11-27-nightly-import-batch-000042-retry-0001';
      await client.createInstance({ machine: 'task', version: 1, instance_id: id, initial_ctx: { title: 'long' } });
      await vs.waitForRowLabel(new RegExp(`^instance ${id} in todo`), 10_000);
      const row = vs.page.locator(`.part.sidebar .monaco-list-row[aria-label^="instance ${id} in todo"]`).first();
      const label = ((await row.locator('.label-name').textContent()) ?? '').trim();
      assert.ok(label.includes('…') && label.startsWith('task-20') && label.endsWith('0001') && label.length < id.length / 2, `shortened in the middle: ${label}`);
      const description = row.locator('.label-description');
      assert.match(((await description.textContent()) ?? '').trim(), /^(just now|\d+[smh] ago)$/);
      // Nothing of the label and time is cut off (the row clips with an ellipsis: what is hidden overflows its container).
      const clipped = await row.locator('.monaco-icon-label-container').evaluate((c) => c.scrollWidth - c.clientWidth);
      assert.ok(clipped <= 0, `the time is in view (${clipped} px cut off)`);
      await vs.screenshot('long-id');
      await vs.collapse(/^task$/);
    });
  });

  test('Disconnect and Connect keep the tree\'s expansion', async () => {
    await vs.failureScreenshot('expansion', async () => {
      await fresh();
      await vs.expand(/^task$/);
      await vs.expand(/^v1$/);
      await vs.expand(/^todo$/);
      await vs.waitForRowLabel(/^instance task-live-arrival in todo/);
      await inlineAction(/^Local demo$/, 'Disconnect');
      await vs.waitForRowLabel(/^connection Local demo, disconnected/, 10_000);
      await inlineAction(/^Local demo$/, 'Connect');
      await vs.waitForRowLabel(/^connection Local demo, connected/, 15_000);
      // Machines, the version, the state and its rows come back open, as they were.
      await vs.waitForRowLabel(/^instance task-live-arrival in todo/, 15_000);
      await vs.screenshot('expansion-kept');
      await vs.collapse(/^todo$/);
      await vs.collapse(/^task$/);
    });
  });

  test('a state\'s rows sort by id from its context menu', async () => {
    await vs.failureScreenshot('sort', async () => {
      await fresh();
      await vs.expand(/^task$/);
      await vs.expand(/^v1$/);
      const state = await vs.waitForRow(/^blocked$/);
      await state.click({ button: 'right' });
      // Context menu items act on Enter once hovered (a synthetic click can land before the menu listens).
      await vs.page.locator('.context-view .action-label', { hasText: 'Sort Instances: By ID' }).first().hover();
      await vs.page.keyboard.press('Enter');
      await vs.page.locator('.context-view .action-label').first().waitFor({ state: 'hidden', timeout: 5000 });
      await vs.expand(/^blocked$/);
      const { instances } = await client.listInstances({ machine: 'task', state: 'blocked', limit: 1000 });
      const want = instances.map((i) => i.id).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
      await vs.page.waitForFunction(
        (first) => {
          const rows = [...document.querySelectorAll('.part.sidebar .monaco-list-row')].map((r) => r.getAttribute('aria-label') ?? '');
          return (rows[rows.findIndex((r) => r.startsWith('state blocked')) + 1] ?? '').startsWith(`instance ${first} `);
        },
        want[0],
        { timeout: 10_000 },
      );
      const rows = (await vs.treeRows()).filter((r) => / in blocked/.test(r)).map((r) => r.split(' ')[1]);
      assert.deepEqual(rows, want.slice(0, rows.length));
      await vs.collapse(/^task$/);
    });
  });

  test('a read-only connection shows a lock in its colour and says read-only; a machine\'s tooltip has its description', async () => {
    await vs.failureScreenshot('read-only', async () => {
      await fresh();
      const prod = await vs.waitForRow(/^Prod$/);
      const icon = prod.locator('.custom-view-tree-node-item-icon').first();
      assert.match((await icon.getAttribute('class')) ?? '', /codicon-lock/);
      // charts.red of the theme (Dark Modern: #f14c4c), as VS Code resolves it.
      assert.match((await icon.getAttribute('style')) ?? '', /charts-red|rgb\(241, 76, 76\)/);
      assert.match(await vs.rowText(/^Prod$/), /read-only/);
      await hoverText(await vs.waitForRow(/^order$/), 'E-commerce order lifecycle');
      await vs.screenshot('machine-tooltip');
      await vs.page.mouse.move(0, 0);
    });
  });

  test('writes are logged at Info: connection, instance and outcome', async () => {
    await vs.failureScreenshot('audit', async () => {
      await fresh();
      await client.createInstance({ machine: 'order', version: 1, instance_id: 'audit-me', initial_ctx: { amount: 3, card: 'secret-card-4111' } });
      await vs.runCommand('rstmdb: Delete Instance');
      await vs.answer('audit-me', 'Delete Instance');
      const dialog = vs.page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible' });
      await dialog.locator('.monaco-button', { hasText: /^Delete$/ }).click();
      await vs.waitForNotification(/Deleted audit-me/);
      const deadline = Date.now() + 10_000;
      while (!/\[info\] \[Local demo\] delete instance "audit-me": ok/.test(vs.extensionLog()) && Date.now() < deadline) await vs.page.waitForTimeout(200);
      assert.match(vs.extensionLog(), /\[info\] \[Local demo\] delete instance "audit-me": ok, WAL offset \d+/);
      assert.ok(!vs.extensionLog().includes('secret-card-4111'), 'no context in the log');
    });
  });

  test('Add Connection from an rstmdb:// address in two steps, with Back; its token only in the secret store, used, and moved with an edited address', { timeout: 120_000 }, async () => {
    const token = 'tok-SeCrEt-9731';
    // A server that requires this token: connecting proves the token was kept, and kept for this server.
    const locked = await startEmulator({ token, seed: 'demo' });
    const relay = await observeWire({ host: locked.host, port: locked.port }).catch(async (err: unknown) => {
      await locked.stop();
      throw err;
    });
    try {
      await vs.failureScreenshot('add-by-address', async () => {
        await fresh();
        const name = `127.0.0.1:${locked.port}`;
        const literal = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        const title = vs.page.locator('.quick-input-widget .quick-input-title');
        const input = vs.page.locator('.quick-input-widget .quick-input-box input').first();
        await vs.runCommand('rstmdb: Add Connection…');
        await title.filter({ hasText: 'Add rstmdb Connection (1/7)' }).waitFor({ state: 'visible', timeout: 10_000 });
        // A token about to go in the clear to another machine is said while it is typed.
        await input.fill('rstmdb://abc@db.example.com:7401');
        await vs.page.locator('.quick-input-widget .quick-input-message', { hasText: 'Without TLS, db.example.com receives the token in the clear: rstmdbs:// uses TLS.' }).waitFor({ state: 'visible', timeout: 10_000 });
        await vs.screenshot('add-by-address-clear-warning');
        await vs.answer(`rstmdb://${token}@${name}`, 'Add rstmdb Connection (1/7)');
        // Host, port, transport and token came from the address: only the access is left, then "connect now?".
        await title.filter({ hasText: 'Add rstmdb Connection (2/3)' }).waitFor({ state: 'visible', timeout: 10_000 });
        await vs.screenshot('add-by-address-access');
        // Back: the first step again, with what was typed (its token masked).
        await vs.page.locator('.quick-input-widget .quick-input-left-action-bar .action-label, .quick-input-widget .codicon-quick-input-back').first().click();
        await title.filter({ hasText: 'Add rstmdb Connection (1/3)' }).waitFor({ state: 'visible', timeout: 10_000 });
        assert.equal(await input.inputValue(), `rstmdb://•••@${name}`);
        await vs.screenshot('add-by-address-back');
        await vs.page.keyboard.press('Enter');
        await vs.answer('Read-only', 'Add rstmdb Connection (2/3)');
        const saved = await vs.waitForExactNotification(`Saved connection '${name}' (${name}). Step 3/3: connect now?`);
        assert.ok(!(await vs.notifications()).some((m) => m.includes(token)), `the token is never shown: ${saved}`);
        const settings = vs.readSettings();
        assert.match(settings, new RegExp(`"name": "${literal(name)}"`));
        assert.match(settings, /"readOnly": true/);
        assert.ok(!settings.includes(token), 'the token is not in settings.json');
        await vs.page.locator('.notifications-toasts .notification-toast .monaco-button', { hasText: /^Connect$/ }).first().click();
        await vs.waitForRowLabel(new RegExp(`^connection ${literal(name)}, connected`), 20_000);
        assert.ok(!vs.extensionLog().includes(token), 'nor in the log');

        // Edit: choose the field, change only that; Back from a field returns to the choice.
        await vs.runCommand('rstmdb: Edit Connection…');
        await vs.pick(new RegExp(`^${literal(name)}$`));
        const edit = (n: number) => `Edit rstmdb Connection '${name}' (${n}/2)`;
        await title.filter({ hasText: edit(1) }).waitFor({ state: 'visible', timeout: 10_000 });
        const rows = vs.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
        const fields = await rows.evaluateAll((els) => els.map((r) => `${r.querySelector('.label-name')?.textContent?.trim()}: ${r.querySelector('.label-description')?.textContent?.trim()}`));
        assert.deepEqual(fields, [`Name: ${name}`, `Address: ${name}`, 'Transport security: No TLS', 'Token: kept in the secret store', 'Access: read-only', 'Colour: none']);
        await vs.screenshot('edit-which-field');
        await vs.pick(/^Address$/);
        await title.filter({ hasText: edit(2) }).waitFor({ state: 'visible', timeout: 10_000 });
        await vs.page.locator('.quick-input-widget .quick-input-left-action-bar .action-label, .quick-input-widget .codicon-quick-input-back').first().click();
        await title.filter({ hasText: edit(1) }).waitFor({ state: 'visible', timeout: 10_000 });
        await vs.pick(/^Colour$/);
        await title.filter({ hasText: edit(2) }).waitFor({ state: 'visible', timeout: 10_000 });
        await vs.screenshot('edit-colour');
        await vs.pick(/purple$/);
        await vs.waitForExactNotification(`Saved connection '${name}' (${name}).`);
        assert.match(vs.readSettings(), /"color": "purple"/);
        assert.match(vs.readSettings(), /"readOnly": true/, 'the other fields are kept');
        assert.match(vs.readSettings(), new RegExp(`"port": ${locked.port}`), 'the address was not changed by the field left with Back');
        // Still connected afterwards, with the token it kept (a changed setting reconnects).
        await vs.waitForRowLabel(new RegExp(`^connection ${literal(name)}, connected`), 20_000);

        // Address: the user moved the connection (here to a relay in front of the same server), and its token
        // goes with it — no question, and the new address hears AUTH and answers ok.
        await vs.runCommand('rstmdb: Edit Connection…');
        await vs.pick(new RegExp(`^${literal(name)}$`));
        await title.filter({ hasText: edit(1) }).waitFor({ state: 'visible', timeout: 10_000 });
        await vs.pick(/^Address$/);
        await vs.answer(`127.0.0.1:${relay.port}`, edit(2));
        await vs.waitForExactNotification(`Saved connection '${name}' (127.0.0.1:${relay.port}).`);
        await vs.waitForRowLabel(new RegExp(`^connection ${literal(name)}, connected · 127\\.0\\.0\\.1:${relay.port}`), 20_000);
        assert.ok(relay.connections.flat().includes('<AUTH ok'), JSON.stringify(relay.connections));
        assert.equal(await vs.page.locator('.monaco-dialog-box').count(), 0, 'no question: the user moved it');
        assert.ok(!vs.readSettings().includes(token) && !vs.extensionLog().includes(token), 'the token is still only a secret');
      });
    } finally {
      await relay.close();
      await locked.stop();
    }
  });
});
