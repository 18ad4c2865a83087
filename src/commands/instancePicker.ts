import * as vscode from 'vscode';
import type { ConnectionManager } from '../model/connectionManager';
import {
  describeFacts,
  idAtCursor,
  InstanceCatalog,
  listingFooter,
  pickRows,
  RecentInstances,
  type InstanceFacts,
  type PickRow,
  type RecentInstance,
  type Suggestion,
} from '../model/instancePick';
import { describeError, type ServerConnection } from '../model/serverConnection';
import { INSTANCE_SCHEME, parseInstanceUri } from '../views/instanceDocument';
import { InstanceNode } from '../views/nodes/instanceNode';
import type { ExplorerNode } from '../views/nodes/node';
import { pickConnection } from './prompts';

/** What a pick answers: the connection and id, with what is known of the instance. */
export interface ChosenInstance {
  conn: ServerConnection;
  id: string;
  facts?: Partial<InstanceFacts>;
}

export interface ChooseOptions {
  /** Offer the id under the text cursor (or selected) in the active editor first, once GET_INSTANCE knows it. */
  fromCursor?: boolean;
  /** Offer what the user is looking at first: the tree's selected instance, the active instance document or inspector. */
  fromContext?: boolean;
}

/** Where the picker finds the open inspector panels (the InspectorManager). */
export interface InspectorPanels {
  readonly openPanels: readonly { readonly connection: ServerConnection; readonly instanceId: string; readonly panel: vscode.WebviewPanel }[];
}

interface PickItem extends vscode.QuickPickItem {
  row?: PickRow;
  more?: true;
}

const RECENT_KEY = 'rstmdb.recentInstances';
/** How long the pick waits for the id under the cursor to be checked before it opens without it. */
const CURSOR_CHECK_MS = 1500;
/** Typing pauses this long before a typed id is looked up. */
const LOOKUP_DELAY_MS = 200;
/** Keyboard navigation this close to the end of the list loads the next page. */
const NEAR_END = 10;
/** While typing, at most this many listed rows are handed to the pick (it filters them further). */
const SHOWN_WHILE_TYPING = 1000;
/**
 * Enter this soon after typing means the id as typed: the rows for the new text
 * may not have reached the pick yet, and once they do, the typed id is first anyway.
 */
const JUST_TYPED_MS = 500;

/**
 * The one way commands ask for an instance: a quick pick of what the user is
 * looking at, recent instances and the server's listing (paged as the user
 * scrolls or types), that also takes any id typed in full.
 */
export class InstancePicker implements vscode.Disposable {
  readonly recent: RecentInstances;
  private treeTouchedAt = 0;
  private editorTouchedAt = 0;
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly manager: ConnectionManager,
    private readonly view: vscode.TreeView<ExplorerNode>,
    private readonly inspectors: InspectorPanels,
    memento: vscode.Memento,
  ) {
    this.recent = new RecentInstances({
      get: () => memento.get<Record<string, RecentInstance[]>>(RECENT_KEY),
      set: (v) => void memento.update(RECENT_KEY, v),
    });
    // Which of the tree and the editor the user touched last decides which suggestion comes first.
    const editor = () => (this.editorTouchedAt = Date.now());
    this.disposables = [
      view.onDidChangeSelection(() => (this.treeTouchedAt = Date.now())),
      vscode.window.onDidChangeActiveTextEditor(editor),
      vscode.window.tabGroups.onDidChangeTabs(editor),
      // Deleted or moved: the recent list stays true to the server.
      manager.onDidChangeInstance(({ connection, instanceId }) => {
        const conn = manager.get(connection);
        if (!conn) return;
        if (conn.changes.isDeleted(instanceId)) this.recent.forget(connection, instanceId);
        else {
          const k = conn.changes.instance(instanceId);
          if (k?.state) this.recent.update(connection, instanceId, { machine: k.machine, version: k.version, state: k.state });
        }
      }),
    ];
  }

  /** The user acted on this instance: it heads the recent list of its connection. */
  seen(conn: ServerConnection, id: string, facts?: Partial<InstanceFacts>): void {
    this.recent.add(conn.name, id, facts);
  }

  forget(conn: ServerConnection, id: string): void {
    this.recent.forget(conn.name, id);
  }

  /** Asks for an instance; undefined when the user cancels. */
  async choose(title: string, options: ChooseOptions = {}): Promise<ChosenInstance | undefined> {
    const conn = await pickConnection(this.manager, title);
    if (!conn) return undefined;
    const context = options.fromContext ? this.contextSuggestions() : [];
    // The id under the cursor is offered only once the server knows it; a slow check does not hold the pick for long.
    const cursor = options.fromCursor ? this.cursorSuggestion(conn) : undefined;
    const early = cursor ? await Promise.race([cursor, new Promise<undefined>((r) => setTimeout(() => r(undefined), CURSOR_CHECK_MS))]) : undefined;
    const chosen = await this.show(title, conn, [...(early ? [early] : []), ...context], early ? undefined : cursor);
    if (chosen) this.seen(chosen.conn, chosen.id, chosen.facts);
    return chosen;
  }

  /** The tree's selected instance, and the instance shown in the active editor (document or inspector), latest touched first. */
  private contextSuggestions(): Suggestion[] {
    const out: { s: Suggestion; at: number }[] = [];
    const selected = this.view.selection.find((n): n is InstanceNode => n instanceof InstanceNode);
    if (selected) {
      const s = selected.summary;
      out.push({ s: { id: s.id, connection: selected.connectionName, why: 'selected in the tree', facts: { machine: s.machine, version: s.version, state: s.state } }, at: this.treeTouchedAt });
    }
    const panel = this.inspectors.openPanels.find((p) => p.panel.active);
    if (panel) out.push({ s: { id: panel.instanceId, connection: panel.connection.name, why: 'open in the inspector' }, at: this.editorTouchedAt });
    else {
      const uri = vscode.window.activeTextEditor?.document.uri;
      const ref = uri?.scheme === INSTANCE_SCHEME ? parseInstanceUri(uri) : undefined;
      if (ref) out.push({ s: { id: ref.instanceId, connection: ref.connection, why: 'shown in the active editor' }, at: this.editorTouchedAt });
    }
    return out
      .filter(({ s }) => {
        const c = this.manager.get(s.connection);
        return c !== undefined && !c.changes.isDeleted(s.id);
      })
      .sort((a, b) => b.at - a.at)
      .map(({ s }, _, all) => {
        // The same instance from two places (its row selected, its inspector open): what either knows.
        const k = this.manager.get(s.connection)?.changes.instance(s.id);
        const known = k?.state ? { machine: k.machine, version: k.version, state: k.state } : all.find((o) => o.s.id === s.id && o.s.connection === s.connection && o.s.facts)?.s.facts;
        return known ? { ...s, facts: known } : s;
      });
  }

  /** The id under the cursor in a text editor, if GET_INSTANCE on this connection knows it. */
  private async cursorSuggestion(conn: ServerConnection): Promise<Suggestion | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme === INSTANCE_SCHEME) return undefined;
    const sel = editor.selection;
    const id = idAtCursor(editor.document.lineAt(sel.active.line).text, sel.active.character, sel.isEmpty ? undefined : editor.document.getText(sel));
    if (!id || conn.changes.isDeleted(id)) return undefined;
    try {
      const inst = await (await conn.ensureClient()).getInstance({ instance_id: id });
      return { id, connection: conn.name, why: 'under the cursor', facts: { machine: inst.machine, version: inst.version, state: inst.state } };
    } catch {
      return undefined; // not an instance here: the normal pick
    }
  }

  private async show(title: string, conn: ServerConnection, suggestions: Suggestion[], lateSuggestion?: Promise<Suggestion | undefined>): Promise<ChosenInstance | undefined> {
    const qp = vscode.window.createQuickPick<PickItem>();
    qp.title = title;
    qp.placeholder = `Instance on '${conn.name}': pick one, or type an id`;
    qp.matchOnDescription = true;
    qp.keepScrollPosition = true;
    qp.ignoreFocusOut = true;
    const catalog = new InstanceCatalog(
      async (offset, limit) => (await conn.ensureClient()).listInstances({ limit, offset }),
      (id) => conn.changes.isDeleted(id),
    );
    let recent = this.recent.list(conn.name);
    const lookups = new Map<string, Promise<Partial<InstanceFacts> | string>>();
    const resolved = new Map<string, Partial<InstanceFacts> | string>();
    let lookupTimer: ReturnType<typeof setTimeout> | undefined;
    let closed = false;
    let shownQuery = '';
    let typedAt = 0;
    const disposables: vscode.Disposable[] = [qp];

    const lookup = (id: string) => {
      let p = lookups.get(id);
      if (!p) {
        p = conn
          .ensureClient()
          .then((c) => c.getInstance({ instance_id: id }))
          .then(
            (i): Partial<InstanceFacts> | string => ({ machine: i.machine, version: i.version, state: i.state }),
            (err) => describeError(err),
          );
        p.then((r) => {
          resolved.set(id, r);
          if (!closed) render();
        });
        lookups.set(id, p);
      }
      return p;
    };

    const describe = (row: PickRow): string => {
      const f = describeFacts(row.facts);
      switch (row.kind) {
        case 'suggested':
          return `$(target) ${row.why}${row.connection ? ` on '${row.connection}'` : ''}${f ? ` · ${f}` : ''}`;
        case 'recent':
          return `$(history) ${f || 'recently used'}`;
        case 'listed':
          return f;
        case 'typed': {
          const r = resolved.get(row.id);
          if (r === undefined) return '$(search) not listed here: looking it up…';
          if (typeof r === 'string') return `$(warning) ${r}`;
          return `${conn.changes.isDeleted(row.id) ? '$(trash) deleted (the server still answers for it) · ' : '$(search) found by id · '}${describeFacts(r)}`;
        }
      }
    };

    const render = () => {
      const query = qp.value;
      const typing = query.trim() !== '';
      // While typing, only rows that can match are handed over: a long listing is not re-sent on every keystroke.
      const listed = typing ? catalog.matching(query).slice(0, SHOWN_WHILE_TYPING) : catalog.rows;
      const rows = pickRows({ connection: conn.name, suggestions, recent, listed, query, isDeleted: (id) => conn.changes.isDeleted(id) });
      const items: PickItem[] = [];
      let section: PickRow['kind'] | undefined;
      for (const row of rows) {
        if (row.kind !== section && row.kind !== 'typed') {
          section = row.kind;
          const label = row.kind === 'recent' ? 'recent' : row.kind === 'listed' ? `on '${conn.name}'` : '';
          if (label) items.push({ label, kind: vscode.QuickPickItemKind.Separator });
        }
        items.push({ label: row.id, description: describe(row), row, alwaysShow: row.kind === 'typed' || row.kind === 'suggested' });
      }
      const footer = listingFooter({ held: catalog.held, total: catalog.total, exhausted: catalog.exhausted, full: catalog.full, error: catalog.error === undefined ? undefined : describeError(catalog.error) });
      if (catalog.canLoadMore) items.push({ label: '$(ellipsis) Load more instances', description: footer, more: true, alwaysShow: true });
      else if (catalog.error !== undefined) items.push({ label: '$(refresh) Try listing again', description: footer, more: true, alwaysShow: true });
      else items.push({ label: footer, kind: vscode.QuickPickItemKind.Separator });
      // Keep the user's place when new rows arrive, unless what was typed changed; from "Load more", on to the first new row.
      const active = qp.activeItems[0];
      const at = active ? qp.items.indexOf(active) : -1;
      const key = (i: PickItem | undefined) => i?.row && `${i.row.kind}\u0000${i.row.id}`;
      const keep = query === shownQuery && active !== undefined;
      qp.items = items;
      shownQuery = query;
      if (keep) {
        const again = active.more ? items[at] : items.find((i) => i.row && key(i) === key(active));
        if (again && again.kind !== vscode.QuickPickItemKind.Separator) qp.activeItems = [again];
      }
    };

    /** Loads pages while what was typed still matches too few rows (or once, for a scroll). */
    let pumping = false;
    const pump = async (once: boolean) => {
      if (pumping) return;
      pumping = true;
      qp.busy = true;
      try {
        do {
          const more = await catalog.loadMore();
          if (closed) return;
          render();
          if (!more) break;
        } while (!once && catalog.wantsMoreFor(qp.value));
      } finally {
        pumping = false;
        if (!closed) qp.busy = false;
      }
    };

    try {
      return await new Promise<ChosenInstance | undefined>((resolve) => {
        const finish = (row: PickRow) => {
          const r = resolved.get(row.id);
          const facts = row.facts ?? (typeof r === 'object' ? r : undefined);
          const target = row.connection ? this.manager.get(row.connection) : conn;
          resolve(target ? { conn: target, id: row.id, ...(facts ? { facts } : {}) } : undefined);
        };
        disposables.push(
          qp.onDidChangeValue((value) => {
            typedAt = Date.now();
            render();
            if (lookupTimer) clearTimeout(lookupTimer);
            const typed = qp.items.find((i) => i.row?.kind === 'typed');
            if (typed?.row) {
              const id = typed.row.id;
              lookupTimer = setTimeout(() => void lookup(id), LOOKUP_DELAY_MS);
            }
            if (catalog.wantsMoreFor(value)) void pump(false);
          }),
          qp.onDidChangeActive((active) => {
            // Scrolling with the keyboard towards the end loads the next page before it is reached.
            const item = active[0];
            if (!item || !catalog.canLoadMore) return;
            const at = qp.items.indexOf(item);
            if (item.more || at >= qp.items.length - NEAR_END) void pump(true);
          }),
          qp.onDidAccept(() => {
            const item = qp.activeItems[0];
            const typed = pickRows({ connection: conn.name, suggestions: [], recent: [], listed: [], query: qp.value }).find((r) => r.kind === 'typed');
            const justTyped = typed && Date.now() - typedAt < JUST_TYPED_MS && item?.row?.id !== typed.id;
            // "Load more" active under a fresh id is the pick's filter ahead of the rows for it (an id not
            // listed yet leaves only that row): the user meant the id.
            if (item?.more && !justTyped) {
              catalog.retry();
              void pump(true);
              return;
            }
            const exact = typed && qp.items.find((i) => i.row && !i.row.connection && i.row.id === typed.id)?.row;
            const row = justTyped ? (exact ?? typed) : (item?.row ?? typed);
            if (row) finish(row);
          }),
          qp.onDidHide(() => resolve(undefined)),
        );
        render();
        qp.show();
        void pump(true);
        // Recent instances are checked against the server: gone ones leave, states are brought up to date.
        if (recent.length) {
          void conn
            .lookup(recent.map((r) => r.id))
            .then((found) => {
              recent = recent.filter((r) => found.has(r.id)).map((r) => ({ ...r, ...found.get(r.id) }));
              for (const r of this.recent.list(conn.name)) {
                const f = found.get(r.id);
                if (f) this.recent.update(conn.name, r.id, f);
                else this.recent.forget(conn.name, r.id);
              }
              if (!closed) render();
            })
            .catch(() => undefined);
        }
        void lateSuggestion?.then((s) => {
          if (!s || closed) return;
          suggestions = [s, ...suggestions];
          const untouched = qp.value === '' && qp.activeItems[0] === qp.items.find((i) => i.row);
          render();
          if (untouched) {
            const first = qp.items.find((i) => i.row);
            if (first) qp.activeItems = [first];
          }
        });
      });
    } finally {
      closed = true;
      if (lookupTimer) clearTimeout(lookupTimer);
      for (const d of disposables) d.dispose();
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
