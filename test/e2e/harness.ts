/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * A real VS Code (code-server) with the packaged extension installed into a
 * fresh profile, driven by Debian's Chromium through playwright-core.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { ensureVsCode, type VsCodePieces } from './install';

export const repoRoot = join(__dirname, '..', '..', '..');
export const resultsDir = join(repoRoot, 'test-results');
const VSIX = join(repoRoot, 'dist', 'rstmdb-vscode.vsix');

/** Text as a pattern that matches exactly it. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return newest;
}

/** Builds the .vsix unless it is newer than every source it is made from. */
export function ensurePackaged(): string {
  const sources = Math.max(newestMtime(join(repoRoot, 'src')), newestMtime(join(repoRoot, 'media')), newestMtime(join(repoRoot, 'syntaxes')), statSync(join(repoRoot, 'package.json')).mtimeMs);
  if (existsSync(VSIX) && statSync(VSIX).mtimeMs > sources) return VSIX;
  const r = spawnSync('npm', ['run', 'package'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`npm run package failed${r.error ? ` (${r.error.message})` : ''}:\n${r.stdout}`);
  return VSIX;
}

let installedTemplate: string | undefined;

/** The folder code-server unpacked the extension into, inside an extensions dir. */
export function installedExtensionDir(extensionsDir: string): string {
  const name = readdirSync(extensionsDir).find((n) => n.startsWith('rstmdb.rstmdb-vscode'));
  if (!name) throw new Error(`the extension is not installed in ${extensionsDir}`);
  return join(extensionsDir, name);
}

/** The extension as installed from the freshly packaged .vsix (the folder every session copies). */
export function installedExtension(): string {
  return installedExtensionDir(extensionsTemplate(ensureVsCode(), ensurePackaged()));
}

/** Installs the .vsix once per test process; each session gets a copy of that extensions folder. */
function extensionsTemplate(pieces: VsCodePieces, vsix: string): string {
  if (installedTemplate) return installedTemplate;
  const dir = mkdtempSync(join(tmpdir(), 'rstmdb-ext-'));
  const udd = mkdtempSync(join(tmpdir(), 'rstmdb-udd-'));
  const r = spawnSync(pieces.node24, [pieces.codeServer, '--extensions-dir', dir, '--user-data-dir', udd, '--install-extension', vsix], {
    encoding: 'utf8',
    env: { ...process.env, XDG_CONFIG_HOME: udd },
    timeout: 180_000,
    killSignal: 'SIGKILL',
  });
  rmSync(udd, { recursive: true, force: true });
  if (r.status !== 0 || !readdirSync(dir).some((n) => n.startsWith('rstmdb.rstmdb-vscode'))) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`installing the .vsix into code-server failed:\n${r.stdout}\n${r.stderr}`);
  }
  installedTemplate = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForHttp(port: number, child: ChildProcess, log: () => string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}):\n${log()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer within ${ms} ms:\n${log()}`);
}

/** A code-server profile: user data (with settings), extensions and a workspace folder under `base`. */
export function writeProfile(base: string, settings: Record<string, unknown>, readme: string): { udd: string; ext: string; workspace: string } {
  const udd = join(base, 'user-data');
  const ext = join(base, 'extensions');
  const workspace = join(base, 'workspace');
  for (const d of [join(udd, 'User'), ext, workspace]) mkdirSync(d, { recursive: true });
  writeFileSync(join(workspace, 'README.md'), readme);
  writeFileSync(
    join(udd, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'telemetry.telemetryLevel': 'off',
        'security.workspace.trust.enabled': false,
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'update.mode': 'none',
        'window.commandCenter': false,
        'workbench.colorTheme': 'Default Dark Modern',
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'chat.disableAIFeatures': true,
        'chat.commandCenter.enabled': false,
        // The demo's workspace sits inside this repository; don't offer to open it.
        'git.openRepositoryInParentFolders': 'never',
        ...settings,
      },
      null,
      2,
    ),
  );
  writeFileSync(join(base, 'config.yaml'), 'auth: none\ncert: false\n');
  return { udd, ext, workspace };
}

/** code-server's command line for a profile made by writeProfile, listening on bind (host:port). */
export function codeServerArgs(pieces: VsCodePieces, base: string, bind: string, opts: { workspaceTrust?: boolean } = {}): string[] {
  const workspaceTrust = !!opts.workspaceTrust;
  return [
    pieces.codeServer,
    '--bind-addr', bind,
    '--auth', 'none',
    '--config', join(base, 'config.yaml'),
    '--disable-telemetry',
    '--disable-update-check',
    ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--user-data-dir', join(base, 'user-data'),
    '--extensions-dir', join(base, 'extensions'),
    join(base, 'workspace'),
  ];
}

export interface LaunchOptions {
  /** Written to User/settings.json before start. */
  settings: Record<string, unknown>;
  /** Extra environment for code-server and so the extension host. */
  env?: Record<string, string>;
  /** Name used for screenshots. */
  name: string;
  /** Extra code-server arguments, e.g. ['--log', 'trace'] for the extension's protocol trace. */
  args?: string[];
  /** Remove the packaged native CRC32C module, as on a platform it was not built for. */
  withoutNativeCrc?: boolean;
  /** Files written into the workspace folder before start (relative path → content). */
  files?: Record<string, string>;
  /** Written to the workspace's .vscode/settings.json before start. */
  workspaceSettings?: Record<string, unknown>;
  /**
   * 'untrusted': workspace trust is on and the workspace is left untrusted
   * (Restricted Mode, no startup prompt), as a freshly cloned repository opens.
   * By default trust is off (every workspace trusted).
   */
  workspaceTrust?: 'untrusted';
  /**
   * Runs the extension in test mode (ExtensionMode.Test): the installed copy is
   * loaded as the extension under development and VS Code itself runs this
   * module's `run()` in the extension host, as @vscode/test-electron does.
   * A built workbench takes `extensionDevelopmentPath` / `extensionTestsPath`
   * (the URL's payload) only with VS Code's smoke-test driver option on, which
   * code-server passes through with `--vscode-option`; that option also keeps
   * notifications from showing as toasts in that window.
   */
  extensionTests?: string;
}

export class VsCode {
  private constructor(
    readonly page: Page,
    private readonly browser: Browser,
    private readonly server: ChildProcess,
    readonly userDataDir: string,
    private readonly dirs: string[],
    private readonly name: string,
    readonly serverLog: () => string,
    /** The workspace folder on disk. */
    readonly workspace: string,
  ) {}

  static async launch(opts: LaunchOptions): Promise<VsCode> {
    const pieces = ensureVsCode();
    const vsix = ensurePackaged();
    const template = extensionsTemplate(pieces, vsix);
    const base = mkdtempSync(join(tmpdir(), 'rstmdb-vscode-e2e-'));
    const untrusted = opts.workspaceTrust === 'untrusted';
    const trustSettings = untrusted
      ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.emptyWindow': false }
      : {};
    const { udd, ext, workspace } = writeProfile(base, { 'workbench.startupEditor': 'none', ...trustSettings, ...opts.settings }, '# rstmdb e2e workspace\n');
    if (opts.workspaceSettings) {
      mkdirSync(join(workspace, '.vscode'), { recursive: true });
      writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify(opts.workspaceSettings, null, 2));
    }
    for (const [name, content] of Object.entries(opts.files ?? {})) writeFileSync(join(workspace, name), content);
    rmSync(ext, { recursive: true, force: true });
    cpSync(template, ext, { recursive: true });
    if (opts.withoutNativeCrc) rmSync(join(installedExtensionDir(ext), 'dist', 'node_modules'), { recursive: true, force: true });
    // In test mode the packaged extension is the one under development: moved out of the extensions folder, so only that copy loads.
    let developmentDir: string | undefined;
    if (opts.extensionTests) {
      developmentDir = join(base, 'development', 'rstmdb-vscode');
      mkdirSync(join(base, 'development'), { recursive: true });
      renameSync(installedExtensionDir(ext), developmentDir);
    }
    const port = await freePort();
    let output = '';
    const server = spawn(
      pieces.node24,
      [
        ...codeServerArgs(pieces, base, `127.0.0.1:${port}`, { workspaceTrust: untrusted }).slice(0, -1),
        ...(opts.args ?? []),
        ...(opts.extensionTests ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
        join(base, 'workspace'),
      ],
      { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout!.on('data', (d) => (output += d));
    server.stderr!.on('data', (d) => (output += d));
    let browser: Browser | undefined;
    try {
      await waitForHttp(port, server, () => output);
      browser = await chromium.launch({
        executablePath: pieces.chromium,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
      });
      // Clipboard access, so Copy Instance ID can be checked by reading what it copied.
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
      const page = await context.newPage();
      const remote = (path: string) => `vscode-remote://127.0.0.1:${port}${path}`;
      const payload = opts.extensionTests ? [['extensionDevelopmentPath', remote(developmentDir!)], ['extensionTestsPath', remote(opts.extensionTests)]] : undefined;
      await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(join(base, 'workspace'))}${payload ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : ''}`);
      await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
      return new VsCode(page, browser, server, udd, [base], opts.name, () => output, workspace);
    } catch (err) {
      await browser?.close().catch(() => undefined);
      server.kill('SIGKILL');
      rmSync(base, { recursive: true, force: true });
      throw err;
    }
  }

  async screenshot(step: string): Promise<string> {
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `${this.name}-${step}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Runs a scenario step; on failure leaves a screenshot of what the user would have seen. */
  async failureScreenshot<T>(step: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      await this.screenshot(`${step}-FAILED`).catch(() => undefined);
      try {
        writeFileSync(join(resultsDir, `${this.name}-${step}-FAILED.log`), this.extensionLog());
      } catch {
        // The screenshot is the main artifact; the log is a bonus.
      }
      throw err;
    }
  }

  /** What the extension wrote to its "rstmdb" output channel in this session. */
  extensionLog(): string {
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/rstmdb\.log$/.test(e.name)) found.push(p);
      }
    };
    walk(join(this.userDataDir, 'logs'));
    return found.map((f) => `== ${f}\n${readFileSync(f, 'utf8')}`).join('\n');
  }

  /** Runs a command from the palette by its title. */
  async runCommand(title: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    const rows = this.page.locator('.quick-input-list .monaco-list-row');
    // The row labelled exactly so when there is one ("rstmdb: Open Instance", not "… as JSON"); otherwise the
    // first row that matches (a title given without its "…").
    const exact = new RegExp(`^\\s*${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
    const exactRow = rows.filter({ has: this.page.locator('.label-name', { hasText: exact }) }).first();
    const anyRow = rows.filter({ hasText: title }).first();
    // The palette closes when it loses focus, and a webview that was just closed or opened can take the
    // focus right after F1: then the palette is opened again (a few times at most), never typed into blind.
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press('Escape');
      await this.page.keyboard.press('F1');
      try {
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        await input.fill(`>${title}`, { timeout: 5000 });
        await anyRow.waitFor({ state: 'visible', timeout: 15_000 });
        break;
      } catch (err) {
        // Also when it is there but inert (a dialog that just closed, or a webview that took the focus back).
        if (attempt >= 3) throw err;
      }
    }
    // Clicked, not Enter: Enter runs the first row, which can be another command that also matches
    // (recently used ones come first: ">rstmdb: Connect" also finds "rstmdb: Add Connection…").
    await ((await exactRow.count()) > 0 ? exactRow : anyRow).click();
  }

  /**
   * Answers the open input box (or quick pick) with text and Enter. With `title`,
   * first waits for the step whose title contains it, then for that step to be gone,
   * so a fast driver never types into the previous or next step.
   */
  async answer(text: string, title?: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    if (title) {
      await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 15_000 });
    }
    const input = widget.locator('.quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(text);
    // The input box validates as the value changes; Enter once it has the value.
    await this.page.waitForFunction((want) => (document.querySelector('.quick-input-widget .quick-input-box input') as HTMLInputElement | null)?.value === want, text, { timeout: 5000 });
    const before = await this.quickInputStep();
    await this.page.keyboard.press('Enter');
    if (title) {
      await this.page.waitForFunction(
        (t) => {
          const w = document.querySelector('.quick-input-widget') as HTMLElement | null;
          const visible = !!w && w.style.display !== 'none' && w.offsetParent !== null;
          return !visible || !(w.querySelector('.quick-input-title')?.textContent ?? '').includes(t);
        },
        title,
        { timeout: 15_000 },
      );
    } else {
      await this.quickInputMovedOn(before);
    }
  }

  /**
   * Answers the instance picker titled exactly `title` (the next step's title may start the same)
   * with an id: Enter once the picker's first row is that id, as a user sees it before pressing.
   * Before that the extension host may not have the typed text yet, and an Enter then is lost.
   */
  async answerInstance(id: string, title: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    await widget.locator('.quick-input-title').filter({ hasText: new RegExp(`^${literal(title)}$`) }).waitFor({ state: 'visible', timeout: 15_000 });
    await widget.locator('.quick-input-box input').fill(id);
    const first = widget.locator('.quick-input-list .monaco-list-row').first();
    await first.locator('.label-name', { hasText: new RegExp(`^${literal(id)}$`) }).waitFor({ state: 'visible', timeout: 15_000 });
    const before = await this.quickInputStep();
    await this.page.keyboard.press('Enter');
    await this.quickInputMovedOn(before);
  }

  /** What identifies the quick input's current step: visible, title, value and prompt. */
  private quickInputStep(): Promise<string> {
    return this.page.evaluate(() => {
      const w = document.querySelector('.quick-input-widget') as HTMLElement | null;
      const visible = !!w && w.style.display !== 'none' && w.offsetParent !== null;
      const input = w?.querySelector('.quick-input-box input') as HTMLInputElement | null;
      return JSON.stringify([visible, w?.querySelector('.quick-input-title')?.textContent ?? '', input?.value ?? '', w?.querySelector('.quick-input-message')?.textContent ?? '']);
    });
  }

  /**
   * Waits until the quick input leaves the step it was on (hidden, or another title,
   * value or prompt). A step that stays (its input refused with a message) is left
   * to the caller to check: after 5 s this returns without failing.
   */
  private async quickInputMovedOn(before: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (await this.quickInputStep()) === before) await new Promise((r) => setTimeout(r, 25));
  }

  /** Clicks a quick pick row: by text it contains, or by a pattern its label (without description) matches. */
  async pick(label: string | RegExp): Promise<void> {
    const rows = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    const row = (typeof label === 'string' ? rows.filter({ hasText: label }) : rows.filter({ has: this.page.locator('.label-name', { hasText: label }) })).first();
    await row.waitFor({ state: 'visible' });
    const before = await this.quickInputStep();
    await row.click();
    await this.quickInputMovedOn(before);
  }

  /** Runs an item of a tree row's context menu (right click), as a user picks it. */
  async contextMenuAction(row: string | RegExp, item: string): Promise<void> {
    await (await this.waitForRow(row)).click({ button: 'right' });
    const menu = this.page.locator('.context-view .monaco-menu');
    await menu.waitFor({ state: 'visible', timeout: 10_000 });
    const entry = menu.locator('.action-menu-item', { has: this.page.locator('.action-label', { hasText: new RegExp(`^${literal(item)}$`) }) }).first();
    // The menu focuses the item under the mouse; Enter runs it (a synthetic click can land before the menu takes clicks).
    await entry.hover();
    await this.page.waitForFunction(() => document.activeElement?.closest('.action-menu-item') !== null, undefined, { timeout: 5000 }).catch(() => undefined);
    await this.page.keyboard.press('Enter');
    await menu.waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /**
   * Edit Connection… from the palette, changing only the token ("-" removes it): the
   * field "Token", then the token. `pick` chooses the connection when several exist.
   * Returns once the wizard says it saved.
   */
  async editConnectionToken(name: string, token: string, pick = false): Promise<void> {
    const title = (n: number) => `Edit rstmdb Connection '${name}' (${n}/2)`;
    const literal = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await this.runCommand('Notifications: Clear All Notifications');
    await this.runCommand('rstmdb: Edit Connection…');
    if (pick) await this.pick(new RegExp(`^${literal(name)}$`));
    await this.page.locator('.quick-input-widget .quick-input-title', { hasText: title(1) }).waitFor({ state: 'visible', timeout: 15_000 });
    // By its label: a connection's name in another row's description may contain "token".
    await this.pick(/^Token$/);
    await this.answer(token, title(2));
    await this.waitForExactNotification(new RegExp(`Saved connection '${literal(name)}' \\(.*\\)\\.`));
  }

  /** Switches the colour theme the way a user does: Preferences: Color Theme, then the theme's row (e.g. /^(Default )?Light Modern$/). */
  async setColorTheme(filter: string, row: RegExp): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill('>Preferences: Color Theme');
    // Clicked by its exact name: Enter would run whichever command ranks first.
    await this.pick(/^Preferences: Color Theme$/);
    await input.waitFor({ state: 'visible' });
    await input.fill(filter);
    await this.pick(row);
  }

  /** Opens a workspace file in an editor through Quick Open, and waits for its tab. */
  async openFile(name: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(name);
    await this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await this.page.keyboard.press('Enter');
    await this.page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ state: 'visible', timeout: 15_000 });
  }

  /** Waits for the payload editor `<name>.json` (Apply Event, Create Instance) to be the active editor, its CodeLens drawn. */
  async waitForPayloadEditor(name: string): Promise<void> {
    await this.page.locator('.tabs-container .tab.active', { hasText: `${name}.json` }).waitFor({ state: 'visible', timeout: 15_000 });
    await this.page.locator('.codelens-decoration', { hasText: /Schema / }).first().waitFor({ state: 'visible', timeout: 15_000 });
  }

  /** Replaces the active editor's text, as typed. */
  async replaceEditorText(text: string): Promise<void> {
    await this.page.locator('.editor-instance .view-lines').first().click();
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Delete');
    await this.page.keyboard.insertText(text);
  }

  /** Types a payload into the payload editor `<name>.json` and sends it with Ctrl+Enter. */
  async sendPayload(name: string, text: string): Promise<void> {
    await this.waitForPayloadEditor(name);
    await this.replaceEditorText(text);
    await this.page.keyboard.press('Control+Enter');
  }

  /** The active editor's text, as shown. */
  async editorText(): Promise<string> {
    return this.page.evaluate(() => document.querySelector('.editor-instance .view-lines')?.textContent?.replace(/\u00a0/g, ' ') ?? '');
  }

  async openExplorer(): Promise<void> {
    const tab = this.page.locator('.activitybar [aria-label*="rstmdb"]').first();
    await tab.waitFor({ state: 'visible', timeout: 30_000 });
    const selected = await tab.getAttribute('aria-selected');
    const parentChecked = await tab.evaluate((el) => el.closest('[aria-selected="true"], .checked') !== null);
    if (selected !== 'true' && !parentChecked) await tab.click();
    await this.page.locator('.part.sidebar .title-label', { hasText: /rstmdb/i }).first().waitFor({ state: 'visible' });
  }

  /** The rows of the rstmdb tree as "label description" strings. */
  async treeRows(): Promise<string[]> {
    return this.page.locator('.part.sidebar .monaco-list-row').evaluateAll((rows) =>
      rows.map((r) => (r.getAttribute('aria-label') ?? r.textContent ?? '').trim()),
    );
  }

  /** The row showing `label`; an instance row also by its whole id (a long one is shown shortened). */
  treeRow(label: string | RegExp) {
    const rows = this.page.locator('.part.sidebar .monaco-list-row');
    const shown = rows.filter({ has: this.page.locator('.label-name', { hasText: label }) });
    if (typeof label !== 'string' || !/^[\w.@:-]+$/.test(label)) return shown.first();
    return shown.or(this.page.locator(`.part.sidebar .monaco-list-row[aria-label^="instance ${label} in "]`)).first();
  }

  /**
   * Waits until the clipboard holds exactly `text`, and fails naming what it holds. (Not
   * waitForFunction: it does not await a promise, and a pending one counts as true.)
   */
  async waitForClipboard(text: string, timeout = 10_000): Promise<void> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const held = await this.page.evaluate(() => navigator.clipboard.readText());
      if (held === text) return;
      if (Date.now() > deadline) throw new Error(`the clipboard holds ${JSON.stringify(held)}, not ${JSON.stringify(text)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until a tree row whose name matches is visible; returns it. */
  async waitForRow(label: string | RegExp, timeout = 20_000) {
    const row = this.treeRow(label);
    await row.waitFor({ state: 'visible', timeout });
    return row;
  }

  /**
   * Sets a row's expansion. The list recycles row elements as it re-renders,
   * so the row is looked up again after each click rather than held on to.
   */
  private async setExpanded(label: string | RegExp, expanded: boolean): Promise<void> {
    const want = expanded ? 'true' : 'false';
    for (let attempt = 0; attempt < 4; attempt++) {
      const row = await this.waitForRow(label);
      if ((await row.getAttribute('aria-expanded')) === want) return;
      await row.click();
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        if ((await this.treeRow(label).getAttribute('aria-expanded').catch(() => null)) === want) return;
        await this.page.waitForTimeout(100);
      }
    }
    throw new Error(`could not ${expanded ? 'expand' : 'collapse'} the tree row ${label}`);
  }

  async expand(label: string | RegExp): Promise<void> {
    await this.setExpanded(label, true);
  }

  async collapse(label: string | RegExp): Promise<void> {
    await this.setExpanded(label, false);
  }

  /** A row's accessible label: what a screen reader says, e.g. "state paid, 120". */
  async rowText(label: string | RegExp): Promise<string> {
    return ((await (await this.waitForRow(label)).getAttribute('aria-label')) ?? '').trim();
  }

  /** Waits until some tree row's accessible label matches. */
  async waitForRowLabel(pattern: RegExp, timeout = 20_000): Promise<void> {
    await this.page.waitForFunction(
      ([source, flags]) => {
        const re = new RegExp(source, flags);
        return [...document.querySelectorAll('.part.sidebar .monaco-list-row')].some((r) => re.test(r.getAttribute('aria-label') ?? ''));
      },
      [pattern.source, pattern.flags] as const,
      { timeout },
    );
  }

  /** Visible notification texts. */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-toast, .notification-list-item').allTextContents();
  }

  async waitForNotification(pattern: RegExp, timeout = 20_000): Promise<string> {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const hit = (await this.notifications()).find((t) => pattern.test(t));
      if (hit) return hit;
      await this.page.waitForTimeout(200);
    }
    throw new Error(`no notification matching ${pattern}; saw: ${JSON.stringify(await this.notifications())}`);
  }

  /**
   * Waits for a notification whose whole message (without its source and buttons) is
   * exactly `message`, or matches it from start to end; returns that message.
   */
  async waitForExactNotification(message: string | RegExp, timeout = 20_000): Promise<string> {
    const read = async () => (await this.page.locator('.notifications-toasts .notification-list-item-message').allTextContents()).map((t) => t.trim());
    const whole = typeof message === 'string' ? undefined : new RegExp(`^(?:${message.source})$`, message.flags);
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const hit = (await read()).find((t) => (whole ? whole.test(t) : t === message));
      if (hit !== undefined) return hit;
      await this.page.waitForTimeout(200);
    }
    throw new Error(`no notification saying exactly ${String(message)}; saw: ${JSON.stringify(await read())}`);
  }

  async statusBarText(): Promise<string> {
    const item = this.page.locator('.statusbar-item', { hasText: 'rstmdb' }).first();
    return ((await item.textContent()) ?? '').trim();
  }

  frames(): Frame[] {
    return this.page.frames();
  }

  readSettings(): string {
    return readFileSync(join(this.userDataDir, 'User', 'settings.json'), 'utf8');
  }

  /** Writes the workspace's .vscode/settings.json, as a pulled or cloned repository would. */
  writeWorkspaceSettings(settings: Record<string, unknown>): void {
    const dir = join(this.dirs[0], 'workspace', '.vscode');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings, null, 2));
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    this.server.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.server.kill('SIGKILL');
        resolve();
      }, 3000);
      this.server.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}
