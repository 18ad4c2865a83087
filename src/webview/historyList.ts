/**
 * The instance's history, newest first, as a virtualised list: fixed 22 px
 * rows under a spacer, only the visible window in the DOM, so 10,000 entries
 * scroll like 10. Rows are keyed by WAL offset; selecting one shows its
 * payload and what it changed in the context.
 */
import type { ContextChange, HistoryEntryDetail, HistoryRow, HistoryView } from '../protocol/inspector';
import { copyText, formatPath, preview } from './jsonPath';
import { listWindow } from './listWindow';

export const ROW_HEIGHT = 22;

export interface HistoryCallbacks {
  select(offset: number): void;
}

function span(cls: string, text: string): HTMLSpanElement {
  const s = document.createElement('span');
  s.className = cls;
  s.textContent = text;
  return s;
}

function codicon(name: string, extra = ''): HTMLElement {
  const i = document.createElement('i');
  i.className = `codicon codicon-${name} ${extra}`;
  i.setAttribute('aria-hidden', 'true');
  return i;
}

function describeRow(r: HistoryRow): string {
  if (r.kind === 'create') return `created in ${r.to}`;
  if (r.kind === 'delete') return `deleted${r.from ? ` in ${r.from}` : ''}`;
  return `${r.event} ${r.from} → ${r.to}`;
}

export class HistoryList {
  readonly element: HTMLElement;
  private readonly status: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly win: HTMLElement;
  private readonly detail: HTMLElement;
  private rows: HistoryRow[] = [];
  private selected: number | undefined;
  private frame = 0;
  /** The entry whose detail is shown (or asked for). */
  private detailOf: number | undefined;
  private newCount = 0;
  private readonly newBadge: HTMLElement;

  constructor(private readonly callbacks: HistoryCallbacks, selected?: number) {
    this.selected = selected;
    this.element = document.createElement('div');
    this.element.className = 'history';
    this.status = document.createElement('div');
    this.status.className = 'history-status muted';
    this.newBadge = document.createElement('button');
    this.newBadge.className = 'new-badge';
    this.newBadge.hidden = true;
    this.newBadge.addEventListener('click', () => {
      this.scroller.scrollTop = 0;
      this.clearNew();
    });
    this.scroller = document.createElement('div');
    this.scroller.className = 'history-scroller';
    this.scroller.tabIndex = 0;
    this.scroller.setAttribute('role', 'listbox');
    this.scroller.setAttribute('aria-label', 'History, newest first');
    this.spacer = document.createElement('div');
    this.spacer.className = 'history-spacer';
    this.win = document.createElement('div');
    this.win.className = 'history-window';
    this.spacer.appendChild(this.win);
    this.scroller.appendChild(this.spacer);
    this.detail = document.createElement('div');
    this.detail.className = 'history-detail';
    this.detail.setAttribute('aria-live', 'polite');
    this.element.append(this.status, this.newBadge, this.scroller, this.detail);
    this.scroller.addEventListener('scroll', () => {
      if (this.scroller.scrollTop < ROW_HEIGHT) this.clearNew();
      this.schedule();
    });
    this.scroller.addEventListener('keydown', (e) => this.key(e));
    this.scroller.addEventListener('click', (e) => {
      const row = (e.target as Element).closest<HTMLElement>('.history-row');
      const offset = row ? Number(row.dataset.offset) : NaN;
      if (Number.isSafeInteger(offset)) this.select(offset, false);
    });
    new ResizeObserver(() => this.schedule()).observe(this.scroller);
  }

  private clearNew(): void {
    this.newCount = 0;
    this.newBadge.hidden = true;
  }

  setHistory(h: HistoryView, progress?: { read: number; total: number }): void {
    const p = progress ?? h.progress;
    if (h.unavailable) this.status.textContent = h.unavailable;
    else if (p) this.status.textContent = p.total ? `Reading the WAL… ${p.read.toLocaleString()} of ${p.total.toLocaleString()} records` : 'Reading the WAL…';
    else this.status.textContent = `${h.rows.length.toLocaleString()} ${h.rows.length === 1 ? 'entry' : 'entries'}${h.truncated ? ' (the WAL was compacted: earlier entries are gone)' : ''}`;
    this.status.classList.toggle('loading', !!p);
    if (p) return;
    const before = this.rows;
    const added = before.length && h.rows.length > before.length ? h.rows.findIndex((r) => r.offset === before[0].offset) : 0;
    this.rows = h.rows;
    this.spacer.style.height = `${this.rows.length * ROW_HEIGHT}px`;
    // Entries arriving above a reader who scrolled down keep what they read in place.
    if (added > 0 && this.scroller.scrollTop > 0) {
      this.scroller.scrollTop += added * ROW_HEIGHT;
      this.newCount += added;
      this.newBadge.textContent = `↑ ${this.newCount} new`;
      this.newBadge.hidden = false;
    }
    if (this.selected === undefined || !this.rows.some((r) => r.offset === this.selected)) {
      if (this.rows.length) this.select(this.rows[0].offset, false);
      else this.detail.replaceChildren();
    } else if (added > 0 && this.selected === before[0]?.offset) {
      // Following the newest entry: keep following it.
      this.select(this.rows[0].offset, false);
    } else if (this.detailOf !== this.selected) {
      // A selection restored from the page's state: its detail is fetched once the rows are in.
      this.select(this.selected, false);
    }
    this.draw();
  }

  get selectedOffset(): number | undefined {
    return this.selected;
  }

  private select(offset: number, reveal: boolean): void {
    this.selected = offset;
    const index = this.rows.findIndex((r) => r.offset === offset);
    if (reveal && index >= 0) {
      const top = index * ROW_HEIGHT;
      if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
      else if (top + ROW_HEIGHT > this.scroller.scrollTop + this.scroller.clientHeight) this.scroller.scrollTop = top + ROW_HEIGHT - this.scroller.clientHeight;
    }
    this.draw();
    this.detailOf = offset;
    this.callbacks.select(offset);
  }

  private key(e: KeyboardEvent): void {
    if (!this.rows.length) return;
    const at = Math.max(0, this.rows.findIndex((r) => r.offset === this.selected));
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_HEIGHT) - 1);
    const to: Record<string, number> = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: this.rows.length - 1, PageDown: at + page, PageUp: at - page };
    if (!(e.key in to)) return;
    e.preventDefault();
    const i = Math.min(this.rows.length - 1, Math.max(0, to[e.key]));
    this.select(this.rows[i].offset, true);
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const { first, count } = listWindow(this.scroller.scrollTop, this.scroller.clientHeight || 400, ROW_HEIGHT, this.rows.length);
    this.win.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    while (this.win.children.length > count) this.win.lastElementChild!.remove();
    while (this.win.children.length < count) {
      const row = document.createElement('div');
      row.className = 'history-row';
      row.setAttribute('role', 'option');
      this.win.appendChild(row);
    }
    for (let i = 0; i < count; i++) this.fill(this.win.children[i] as HTMLElement, this.rows[first + i], first + i);
    const sel = this.rows.findIndex((r) => r.offset === this.selected);
    if (sel >= first && sel < first + count) this.scroller.setAttribute('aria-activedescendant', `h-${this.selected}`);
    else this.scroller.removeAttribute('aria-activedescendant');
  }

  private fill(el: HTMLElement, r: HistoryRow, index: number): void {
    const selected = r.offset === this.selected;
    el.id = `h-${r.offset}`;
    el.dataset.offset = String(r.offset);
    el.dataset.kind = r.kind;
    el.setAttribute('aria-selected', String(selected));
    el.setAttribute('aria-setsize', String(this.rows.length));
    el.setAttribute('aria-posinset', String(index + 1));
    el.setAttribute('aria-label', `${describeRow(r)}, WAL offset ${r.offset}`);
    el.classList.toggle('selected', selected);
    const icon = r.kind === 'create' ? 'add' : r.kind === 'delete' ? 'trash' : 'arrow-right';
    el.replaceChildren(
      codicon(icon, r.kind),
      span('ev', r.kind === 'event' ? (r.event ?? '') : r.kind === 'create' ? 'created' : 'deleted'),
      span('move', r.kind === 'event' ? `${r.from} → ${r.to}` : r.kind === 'create' ? `in ${r.to}` : r.from ? `in ${r.from}` : ''),
      span('size muted', r.payloadSize > 2 ? `payload ${r.payloadSize} B` : ''),
      span('offset muted', `@${r.offset}`),
    );
  }

  showDetail(d: HistoryEntryDetail | { offset: number; error: string }): void {
    if (d.offset !== this.selected) return;
    const row = this.rows.find((r) => r.offset === d.offset);
    const parts: HTMLElement[] = [];
    const head = document.createElement('div');
    head.className = 'detail-head';
    head.append(span('ev', row ? describeRow(row) : ''), span('muted', ` WAL offset ${d.offset}`));
    parts.push(head);
    if ('error' in d) {
      parts.push(span('error', d.error));
    } else {
      const changes = document.createElement('div');
      changes.className = 'changes';
      const title = document.createElement('div');
      title.className = 'detail-title';
      title.textContent = d.changes.length ? `Context changes (${d.changes.length})` : 'The context did not change.';
      changes.appendChild(title);
      for (const c of d.changes.slice(0, 500)) changes.appendChild(this.change(c));
      parts.push(changes);
      if (Object.keys(d.payload).length) {
        const t = document.createElement('div');
        t.className = 'detail-title';
        t.textContent = 'Payload';
        const pre = document.createElement('pre');
        pre.className = 'json';
        pre.textContent = copyText(d.payload);
        parts.push(t, pre);
      }
    }
    this.detail.replaceChildren(...parts);
  }

  private change(c: ContextChange): HTMLElement {
    const line = document.createElement('div');
    line.className = `change ${c.kind}`;
    line.dataset.kind = c.kind;
    const mark = c.kind === 'added' ? '+' : c.kind === 'removed' ? '−' : '~';
    line.append(span('mark', mark), span('path', formatPath(c.path)));
    if (c.kind === 'added') line.append(span('after', ` = ${preview(c.after, 120)}`));
    else if (c.kind === 'removed') line.append(span('before', ` was ${preview(c.before, 120)}`));
    else line.append(span('before', ` ${preview(c.before, 60)}`), span('arrow', ' → '), span('after', preview(c.after, 60)));
    line.setAttribute('aria-label', `${c.kind} ${formatPath(c.path)}`);
    return line;
  }
}
