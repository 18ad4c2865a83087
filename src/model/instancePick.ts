/**
 * What the instance picker knows and shows, without VS Code: the instances the
 * user saw recently, the server's LIST_INSTANCES pages loaded as the user
 * scrolls or types (held up to a cap, so a server with millions of instances
 * never fills memory or stalls the pick), and which rows a query shows.
 * src/commands/instancePicker.ts turns these rows into a QuickPick.
 */
import type { InstanceSummary, ListInstancesResult } from '../rcp/types';

/** What the picker says about an instance besides its id. */
export interface InstanceFacts {
  machine: string;
  version: number;
  state: string;
}

export interface RecentInstance extends Partial<InstanceFacts> {
  id: string;
  /** Unix milliseconds of the last time the user acted on it. */
  seenAt: number;
}

/** Where recent instances are kept between sessions (workspace state in VS Code, a plain object in tests). */
export interface RecentStore {
  get(): Record<string, RecentInstance[]> | undefined;
  set(value: Record<string, RecentInstance[]>): void;
}

/** Recent instances kept per connection. */
export const RECENT_PER_CONNECTION = 20;
/** Connections remembered (a renamed or removed connection's list ages out). */
export const RECENT_CONNECTIONS = 20;
/** Instance ids longer than this are not ids the server accepts (the request id limit is the same order). */
export const MAX_ID_LENGTH = 256;

/** The instances the user acted on lately, per connection, most recent first. */
export class RecentInstances {
  constructor(
    private readonly store: RecentStore,
    private readonly perConnection = RECENT_PER_CONNECTION,
    private readonly now: () => number = Date.now,
  ) {}

  list(connection: string): RecentInstance[] {
    const all = this.read();
    return Array.isArray(all[connection]) ? all[connection].filter(isRecent) : [];
  }

  /** The user acted on this instance: it goes to the top (facts kept from before when none are given). */
  add(connection: string, id: string, facts?: Partial<InstanceFacts>): void {
    if (!id || id.length > MAX_ID_LENGTH) return;
    const all = this.read();
    const before = this.list(connection);
    const old = before.find((r) => r.id === id);
    const entry: RecentInstance = { ...old, ...definedFacts(facts), id, seenAt: this.now() };
    const next = [entry, ...before.filter((r) => r.id !== id)].slice(0, this.perConnection);
    const rest = Object.entries(all).filter(([name]) => name !== connection);
    // The connection just used goes first, so the oldest connections are the ones dropped.
    this.store.set(Object.fromEntries([[connection, next], ...rest].slice(0, RECENT_CONNECTIONS)));
  }

  /** New facts (a state seen moving) for an instance already in the list; no reordering. */
  update(connection: string, id: string, facts: Partial<InstanceFacts>): void {
    const all = this.read();
    const list = this.list(connection);
    const i = list.findIndex((r) => r.id === id);
    if (i < 0) return;
    list[i] = { ...list[i], ...definedFacts(facts) };
    this.store.set({ ...all, [connection]: list });
  }

  forget(connection: string, id: string): void {
    const all = this.read();
    const list = this.list(connection);
    if (!list.some((r) => r.id === id)) return;
    this.store.set({ ...all, [connection]: list.filter((r) => r.id !== id) });
  }

  private read(): Record<string, RecentInstance[]> {
    const v = this.store.get();
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  }
}

function isRecent(r: unknown): r is RecentInstance {
  return typeof r === 'object' && r !== null && typeof (r as RecentInstance).id === 'string' && (r as RecentInstance).id.length > 0;
}

function definedFacts(f: Partial<InstanceFacts> | undefined): Partial<InstanceFacts> {
  const out: Partial<InstanceFacts> = {};
  if (!f) return out;
  if (typeof f.machine === 'string') out.machine = f.machine;
  if (typeof f.version === 'number') out.version = f.version;
  if (typeof f.state === 'string') out.state = f.state;
  return out;
}

/** Rows per LIST_INSTANCES page the picker asks for. */
export const PICK_PAGE_SIZE = 200;
/** The most listed instances one pick holds; past it, a typed id is still looked up. */
export const PICK_MAX_HELD = 5000;
/** While typing, pages are loaded in the background until this many listed rows match (a screenful). */
export const PICK_WANTED_MATCHES = 20;

/**
 * LIST_INSTANCES read page by page. The server lists in hash order and a
 * create or delete between pages can shift what an offset points at, so rows
 * are de-duplicated by id; instances the WAL says were deleted are left out
 * (the server still answers for them, see rcp-notes).
 */
export class InstanceCatalog {
  private readonly byId = new Map<string, InstanceSummary>();
  private nextOffset = 0;
  private more = true;
  private loading: Promise<void> | undefined;
  /** The server's count of listed instances, once a page has answered. */
  total: number | undefined;
  /** The last failure to load a page (loading stops; a retry may be asked for). */
  error: unknown;

  constructor(
    private readonly listPage: (offset: number, limit: number) => Promise<ListInstancesResult>,
    private readonly isDeleted: (id: string) => boolean = () => false,
    private readonly pageSize = PICK_PAGE_SIZE,
    private readonly maxHeld = PICK_MAX_HELD,
  ) {}

  get rows(): InstanceSummary[] {
    return [...this.byId.values()].filter((r) => !this.isDeleted(r.id));
  }

  get held(): number {
    return this.byId.size;
  }

  /** Every page was read. */
  get exhausted(): boolean {
    return !this.more;
  }

  /** Holding as many as it may; the rest is reached by typing a full id. */
  get full(): boolean {
    return this.byId.size >= this.maxHeld;
  }

  get canLoadMore(): boolean {
    return this.more && !this.full && this.error === undefined;
  }

  get isLoading(): boolean {
    return this.loading !== undefined;
  }

  get(id: string): InstanceSummary | undefined {
    return this.isDeleted(id) ? undefined : this.byId.get(id);
  }

  /** Loads the next page (one at a time: a call while one loads waits for it). Resolves false when nothing more can come. */
  async loadMore(): Promise<boolean> {
    if (this.loading) {
      await this.loading;
      return this.canLoadMore;
    }
    if (!this.canLoadMore) return false;
    const limit = Math.min(this.pageSize, this.maxHeld - this.byId.size);
    this.loading = (async () => {
      try {
        const page = await this.listPage(this.nextOffset, limit);
        const items = Array.isArray(page.instances) ? page.instances : [];
        this.nextOffset += items.length;
        this.total = typeof page.total === 'number' ? page.total : this.total;
        for (const s of items) if (s && typeof s.id === 'string' && this.byId.size < this.maxHeld) this.byId.set(s.id, s);
        // An empty page ends the listing whatever has_more says (never loop on a server that claims more forever).
        this.more = page.has_more === true && items.length > 0;
      } catch (err) {
        this.error = err;
      } finally {
        this.loading = undefined;
      }
    })();
    await this.loading;
    return this.canLoadMore;
  }

  /** Forget a failed page so the next loadMore tries again. */
  retry(): void {
    this.error = undefined;
  }

  /** Instances that match what was typed (see `matches`). */
  matching(query: string): InstanceSummary[] {
    return this.rows.filter((r) => matches(r.id, facts(r), query));
  }

  /**
   * Whether to load another page for what the user typed: too few rows match
   * yet and more can come. An empty query loads as the user scrolls instead.
   */
  wantsMoreFor(query: string, wanted = PICK_WANTED_MATCHES): boolean {
    if (!query.trim() || !this.canLoadMore) return false;
    return this.matching(query).length < wanted;
  }
}

export function facts(s: InstanceFacts): InstanceFacts {
  return { machine: s.machine, version: s.version, state: s.state };
}

/** The description the picker shows: `order v1 · paid`. */
export function describeFacts(f: Partial<InstanceFacts> | undefined): string {
  if (!f || f.machine === undefined) return '';
  return `${f.machine}${f.version !== undefined ? ` v${f.version}` : ''}${f.state !== undefined ? ` · ${f.state}` : ''}`;
}

/**
 * Whether a row matches a query the way the quick pick filters it (close
 * enough to decide when to load more): every space-separated word is found,
 * case-insensitively, in the id or in `machine v1 · state`.
 */
export function matches(id: string, f: Partial<InstanceFacts> | undefined, query: string): boolean {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const text = `${id} ${describeFacts(f)}`.toLowerCase();
  return words.every((w) => text.includes(w));
}

/** An id the user typed, as it would be sent: trimmed; undefined when it cannot be an id. */
export function typedId(value: string): string | undefined {
  const v = value.trim();
  return v && v.length <= MAX_ID_LENGTH && !/[\r\n]/.test(v) ? v : undefined;
}

export type PickRowKind = 'suggested' | 'recent' | 'listed' | 'typed';

export interface PickRow {
  kind: PickRowKind;
  id: string;
  facts?: Partial<InstanceFacts>;
  /** For suggested rows: where the suggestion comes from ("selected in the tree"). */
  why?: string;
  /** For suggested rows on another connection than the pick's. */
  connection?: string;
}

export interface Suggestion {
  id: string;
  connection: string;
  why: string;
  facts?: Partial<InstanceFacts>;
}

/**
 * The rows of the pick, in order: suggestions (what the user is looking at),
 * recent instances, then listed ones; each id once. The typed row comes first
 * when what was typed names none of them exactly, so Enter takes the id as typed.
 */
export function pickRows(input: {
  connection: string;
  suggestions: readonly Suggestion[];
  recent: readonly RecentInstance[];
  listed: readonly InstanceSummary[];
  query: string;
  isDeleted?: (id: string) => boolean;
}): PickRow[] {
  const deleted = input.isDeleted ?? (() => false);
  const seen = new Set<string>();
  const rows: PickRow[] = [];
  for (const s of input.suggestions) {
    const key = `${s.connection}\u0000${s.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ kind: 'suggested', id: s.id, facts: s.facts, why: s.why, ...(s.connection !== input.connection ? { connection: s.connection } : {}) });
  }
  const here = (id: string) => `${input.connection}\u0000${id}`;
  for (const r of input.recent) {
    if (seen.has(here(r.id)) || deleted(r.id)) continue;
    seen.add(here(r.id));
    rows.push({ kind: 'recent', id: r.id, facts: r });
  }
  for (const s of input.listed) {
    if (seen.has(here(s.id)) || deleted(s.id)) continue;
    seen.add(here(s.id));
    rows.push({ kind: 'listed', id: s.id, facts: facts(s) });
  }
  const typed = typedId(input.query);
  if (typed && !rows.some((r) => r.id === typed && !r.connection)) rows.unshift({ kind: 'typed', id: typed });
  return rows;
}

/** The footer line under the listed rows: what was loaded, and how to reach the rest. */
export function listingFooter(c: { held: number; total: number | undefined; exhausted: boolean; full: boolean; error?: string }): string {
  const of = c.total !== undefined ? ` of ${c.total.toLocaleString('en-US')}` : '';
  if (c.error) return `Could not list instances: ${c.error}. Type an id to look it up.`;
  if (c.exhausted) return `All ${c.held.toLocaleString('en-US')} listed instances loaded.`;
  if (c.full) return `Showing ${c.held.toLocaleString('en-US')}${of} instances; type a full id to look up any other.`;
  return `${c.held.toLocaleString('en-US')}${of} instances loaded; scroll or type to load more.`;
}

/**
 * The instance id under the cursor in any text: the selection when there is
 * one (one line, quotes around it dropped), else the string literal the
 * cursor is in ("…", '…' or `…`), else the id-like word under the cursor.
 * Undefined when there is nothing that could be an id.
 */
export function idAtCursor(line: string, character: number, selection?: string): string | undefined {
  if (selection !== undefined && selection.trim()) {
    if (/[\r\n]/.test(selection.trim())) return undefined;
    return typedId(unquote(selection.trim()));
  }
  const literal = literalAt(line, character);
  if (literal !== undefined) return typedId(literal);
  // A bare word (logs, plain text): letters, digits and the separators ids usually carry.
  const isIdChar = (ch: string | undefined) => ch !== undefined && /[A-Za-z0-9_.:\-]/.test(ch);
  let start = Math.min(character, line.length);
  let end = start;
  while (start > 0 && isIdChar(line[start - 1])) start--;
  while (end < line.length && isIdChar(line[end])) end++;
  const word = line.slice(start, end).replace(/^[.:]+|[.:]+$/g, '');
  return word ? typedId(word) : undefined;
}

function unquote(s: string): string {
  const m = /^(["'`])([\s\S]*)\1$/.exec(s);
  return m ? m[2] : s;
}

/** The contents of the string literal around `character`, backslash escapes of quotes and backslashes undone. */
function literalAt(line: string, character: number): string | undefined {
  let i = 0;
  while (i < line.length) {
    const q = line[i];
    if (q !== '"' && q !== "'" && q !== '`') {
      i++;
      continue;
    }
    let j = i + 1;
    let text = '';
    while (j < line.length && line[j] !== q) {
      if (line[j] === '\\' && j + 1 < line.length) {
        text += line[j + 1];
        j += 2;
      } else text += line[j++];
    }
    if (j >= line.length) return undefined; // unterminated: not a literal
    // The cursor anywhere from the opening quote to just after the closing one.
    if (character >= i && character <= j + 1) return text;
    i = j + 1;
  }
  return undefined;
}
