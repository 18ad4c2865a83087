/**
 * The context as a collapsible tree (vscode-tree), with search, copy value and
 * copy path. Keys and values are set as text; an item's path is kept in a Map,
 * never in a selector or an id.
 */
import { copyText, formatPath, preview, valueKind } from './jsonPath';

type Path = (string | number)[];

/** Children shown per object or array before a "more" row. */
const PAGE = 100;

export interface ContextTreeCallbacks {
  copy(text: string, what: string): void;
  expandedChanged(paths: string[]): void;
}

export class ContextTree {
  readonly element: HTMLElement;
  private readonly search: HTMLInputElement & { value: string };
  private readonly tree: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly paths = new Map<Element, Path>();
  private expanded = new Set<string>();
  private ctx: Record<string, unknown> = {};
  private query = '';
  private lastJson = '';

  constructor(private readonly callbacks: ContextTreeCallbacks, expanded: string[] = [], query = '') {
    this.expanded = new Set(expanded);
    this.query = query;
    this.element = document.createElement('div');
    this.element.className = 'context';
    this.search = document.createElement('vscode-textfield') as unknown as HTMLInputElement & { value: string };
    this.search.setAttribute('placeholder', 'Search keys and values');
    this.search.setAttribute('aria-label', 'Search the context');
    this.search.className = 'context-search';
    this.search.value = query;
    const icon = document.createElement('vscode-icon');
    icon.setAttribute('name', 'search');
    icon.setAttribute('slot', 'content-before');
    this.search.appendChild(icon);
    this.search.addEventListener('input', () => {
      this.query = this.search.value;
      this.render();
    });
    this.tree = document.createElement('vscode-tree');
    this.tree.setAttribute('aria-label', 'Context');
    this.tree.setAttribute('indent-guides', 'onHover');
    this.empty = document.createElement('div');
    this.empty.className = 'muted empty';
    this.element.append(this.search, this.tree, this.empty);
    new MutationObserver((records) => {
      let changed = false;
      for (const r of records) {
        const path = this.paths.get(r.target as Element);
        if (!path || this.query) continue;
        const key = JSON.stringify(path);
        if ((r.target as Element).hasAttribute('open')) this.expanded.add(key);
        else this.expanded.delete(key);
        changed = true;
      }
      if (changed) this.callbacks.expandedChanged([...this.expanded].slice(0, 500));
    }).observe(this.tree, { attributes: true, attributeFilter: ['open'], subtree: true });
  }

  get searchText(): string {
    return this.query;
  }

  setContext(ctx: Record<string, unknown>): void {
    const json = JSON.stringify(ctx);
    if (json === this.lastJson) return;
    this.lastJson = json;
    this.ctx = ctx;
    this.render();
  }

  /** Paths (as JSON) of every node whose key or value matches, and of their ancestors. */
  private matches(): Set<string> | undefined {
    const q = this.query.trim().toLowerCase();
    if (!q) return undefined;
    const hits = new Set<string>();
    const walk = (v: unknown, path: Path): boolean => {
      let any = false;
      const last = path[path.length - 1];
      if (path.length && String(last).toLowerCase().includes(q)) any = true;
      if (v !== null && typeof v === 'object') {
        for (const [k, child] of Array.isArray(v) ? v.map((c, i) => [i, c] as const) : Object.entries(v)) {
          if (walk(child, [...path, k])) any = true;
        }
      } else if (path.length && JSON.stringify(v ?? null).toLowerCase().includes(q)) any = true;
      if (any) hits.add(JSON.stringify(path));
      return any;
    };
    walk(this.ctx, []);
    return hits;
  }

  private render(): void {
    this.paths.clear();
    this.tree.replaceChildren();
    const hits = this.matches();
    const keys = Object.keys(this.ctx);
    this.empty.textContent = keys.length === 0 ? 'The context is empty.' : hits && hits.size === 0 ? 'Nothing in the context matches.' : '';
    this.addChildren(this.tree, this.ctx, [], hits);
    // vscode-tree leaves room for the arrow before leaves only once some branch has rendered children, and ours
    // are made on first open: tell it now, so leaf keys line up with branch keys.
    const tree = this.tree as HTMLElement & { updateComplete?: Promise<unknown>; updateHasBranchItemFlag?: () => void };
    void tree.updateComplete?.then(() => tree.updateHasBranchItemFlag?.());
  }

  private addChildren(parent: Element, value: unknown, path: Path, hits: Set<string> | undefined, start = 0): void {
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value as Record<string, unknown>);
    const end = hits ? entries.length : Math.min(entries.length, start + PAGE);
    for (let i = start; i < end; i++) {
      const [k, v] = entries[i];
      const p = [...path, k];
      if (hits && !hits.has(JSON.stringify(p))) continue;
      parent.appendChild(this.item(k, v, p, hits));
    }
    if (end < entries.length) {
      const more = document.createElement('vscode-tree-item');
      more.className = 'more';
      more.textContent = `Show ${Math.min(PAGE, entries.length - end)} more of ${entries.length - end}…`;
      more.addEventListener('click', (e) => {
        e.stopPropagation();
        more.remove();
        this.addChildren(parent, value, path, hits, end);
      });
      parent.appendChild(more);
    }
  }

  private item(key: string | number, value: unknown, path: Path, hits: Set<string> | undefined): HTMLElement {
    const item = document.createElement('vscode-tree-item');
    this.paths.set(item, path);
    const pathText = formatPath(path);
    item.setAttribute('data-path', pathText);
    const label = document.createElement('span');
    label.className = 'key';
    label.textContent = String(key);
    item.appendChild(label);
    const desc = document.createElement('span');
    desc.slot = 'description';
    desc.className = `value ${valueKind(value)}`;
    desc.textContent = preview(value);
    item.appendChild(desc);
    const actions = document.createElement('span');
    actions.slot = 'actions';
    const action = (icon: string, label: string, run: () => void) => {
      const a = document.createElement('vscode-icon');
      a.setAttribute('name', icon);
      a.setAttribute('action-icon', '');
      a.setAttribute('label', label);
      a.setAttribute('title', label);
      a.addEventListener('click', (e) => {
        e.stopPropagation();
        run();
      });
      actions.appendChild(a);
    };
    action('copy', `Copy value of ${pathText}`, () => this.callbacks.copy(copyText(value), `the value of ${pathText}`));
    action('symbol-field', `Copy path ${pathText}`, () => this.callbacks.copy(pathText, pathText));
    item.appendChild(actions);
    if (value !== null && typeof value === 'object' && Object.keys(value).length > 0) {
      item.setAttribute('branch', '');
      const open = hits ? true : this.expanded.has(JSON.stringify(path));
      if (open) {
        item.setAttribute('open', '');
        this.addChildren(item, value, path, hits);
      } else {
        // Children are made on first open: a large context costs nothing until looked at.
        let built = false;
        const build = () => {
          if (built || !item.hasAttribute('open')) return;
          built = true;
          observer.disconnect();
          this.addChildren(item, value, path, hits);
        };
        const observer = new MutationObserver(build);
        observer.observe(item, { attributes: true, attributeFilter: ['open'] });
      }
    }
    return item;
  }
}
