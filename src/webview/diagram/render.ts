/**
 * Draws a scene as SVG and keeps it interactive: pan, zoom, fit, the current
 * state and its way out. Live moves only toggle classes; the layout is made
 * once per machine version. Server strings (state, event, guard names) are
 * only ever set as text or attribute values.
 */
import type { DefinitionView, GuardVerdict } from '../../protocol/inspector';
import { buildScene, edgePath, rankdirFor, type Measure, type Scene } from './scene';
import { ARROW_KEYS, nextSpot, panToShow, type Spot } from './keys';
import { fit, pan, zoomAt, type View } from './viewport';

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number> = {}, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

function canvasMeasure(): Measure {
  const ctx = document.createElement('canvas').getContext('2d');
  const family = getComputedStyle(document.body).fontFamily || 'sans-serif';
  const fonts = { state: `600 13px ${family}`, event: `12px ${family}`, guard: `11px ${family}` };
  return (text, kind) => {
    if (!ctx) return text.length * 7;
    ctx.font = fonts[kind];
    return ctx.measureText(text).width;
  };
}

export interface DiagramCallbacks {
  /** A transition of the current state was chosen (click, Enter). */
  apply(event: string): void;
  /** The user moved the view (saved in the webview state). */
  viewChanged(view: View): void;
}

export class DiagramView {
  readonly element: HTMLElement;
  private readonly svg: SVGSVGElement;
  private readonly root: SVGGElement;
  private scene: Scene | undefined;
  private sceneKey = '';
  private view: View = { k: 1, x: 0, y: 0, fitted: true };
  private readonly nodes = new Map<string, SVGGElement>();
  private readonly edges = new Map<string, { g: SVGGElement; event: string; from: string; to: string; guard: string | undefined }>();
  /** A state's spoken name without "current" (initial, final, how many ways out), made once per drawing. */
  private readonly stateLabels = new Map<string, string>();
  private readonly edgeKeys = new Map<SVGGElement, string>();
  private current = '';
  private def: { key: string; def: DefinitionView } | undefined;
  private marks: { states: Map<string, string>; edges: Map<string, string> } = { states: new Map(), edges: new Map() };
  private machineLabel = '';
  /** Milliseconds the last layout and draw took (shown to the bench and tests through a data attribute). */
  lastDrawMs = 0;
  /** A saved view applies to the first drawing only (a later one is another layout). */
  private restoredOnce = false;
  /**
   * States and transitions as keyboard stops (roving focus: the one holding
   * focus, or last held it, has tabindex 0, the rest -1, so the diagram is one
   * Tab stop). Keyed `state:<id>` / `edge:<key>`; the element maps back to its key.
   */
  private readonly spots = new Map<string, Spot & { el: SVGGElement }>();
  private readonly spotOf = new Map<Element, string>();
  private focusKey: string | undefined;

  constructor(private readonly callbacks: DiagramCallbacks) {
    this.element = document.createElement('div');
    this.element.className = 'diagram';
    // Focus lives on the states and transitions (roving); a click on the background still takes it here.
    this.element.tabIndex = -1;
    this.element.setAttribute('role', 'group');
    this.svg = el('svg', { class: 'diagram-svg', 'aria-hidden': 'false' }, this.element);
    const defs = el('defs', {}, this.svg);
    for (const kind of ['plain', 'pass', 'fail', 'unknown']) {
      const m = el('marker', { id: `arrow-${kind}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
      el('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrowhead ${kind}` }, m);
    }
    this.root = el('g', { class: 'viewport' }, this.svg);
    this.element.appendChild(this.tools());
    this.wire();
  }

  private tools(): HTMLElement {
    const bar = document.createElement('div');
    bar.className = 'diagram-tools';
    const button = (icon: string, label: string, run: () => void) => {
      const b = document.createElement('vscode-toolbar-button');
      b.setAttribute('icon', icon);
      b.setAttribute('label', label);
      b.setAttribute('title', label);
      b.addEventListener('click', run);
      bar.appendChild(b);
    };
    button('zoom-in', 'Zoom in (+)', () => this.zoomBy(1.25));
    button('zoom-out', 'Zoom out (−)', () => this.zoomBy(0.8));
    button('screen-full', 'Fit (0)', () => this.fitNow());
    return bar;
  }

  private size(): { w: number; h: number } {
    const r = this.svg.getBoundingClientRect();
    return { w: r.width, h: r.height };
  }

  private apply(v: View, user: boolean): void {
    this.view = v;
    this.root.setAttribute('transform', `translate(${v.x},${v.y}) scale(${v.k})`);
    this.element.dataset.zoom = v.k.toFixed(3);
    if (user) this.callbacks.viewChanged(v);
  }

  private zoomBy(f: number): void {
    const { w, h } = this.size();
    this.apply(zoomAt(this.view, f, w / 2, h / 2), true);
  }

  fitNow(user = true): void {
    if (!this.scene) return;
    const { w, h } = this.size();
    this.apply(fit(this.scene.width, this.scene.height, w, h), user);
  }

  private wire(): void {
    this.svg.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const r = this.svg.getBoundingClientRect();
        if (e.ctrlKey || e.metaKey) this.apply(zoomAt(this.view, Math.exp(-e.deltaY / 300), e.clientX - r.left, e.clientY - r.top), true);
        else this.apply(pan(this.view, -e.deltaX, -e.deltaY), true);
      },
      { passive: false },
    );
    let drag: { id: number; x: number; y: number } | undefined;
    this.svg.addEventListener('pointerdown', (e) => {
      if ((e.target as Element).closest('.edge.out')) return;
      drag = { id: e.pointerId, x: e.clientX, y: e.clientY };
      this.svg.setPointerCapture(e.pointerId);
      this.svg.classList.add('dragging');
    });
    this.svg.addEventListener('pointermove', (e) => {
      if (!drag || drag.id !== e.pointerId) return;
      this.apply(pan(this.view, e.clientX - drag.x, e.clientY - drag.y), true);
      drag = { id: e.pointerId, x: e.clientX, y: e.clientY };
    });
    const end = (e: PointerEvent) => {
      if (drag?.id !== e.pointerId) return;
      drag = undefined;
      this.svg.classList.remove('dragging');
    };
    this.svg.addEventListener('pointerup', end);
    this.svg.addEventListener('pointercancel', end);
    this.element.addEventListener('keydown', (e) => this.onKey(e));
    // A state or transition focused by a click (or by the screen reader) becomes the roving stop.
    this.element.addEventListener('focusin', (e) => {
      const key = this.spotOf.get(e.target as Element);
      if (key) this.rove(key);
    });
    new ResizeObserver(() => {
      const { w, h } = this.size();
      // A pane that turned from wide to tall (or back) gets the other direction.
      if (this.def && this.scene && w > 0 && h > 0 && rankdirFor(w, h) !== this.scene.rankdir) this.setDefinition(this.def.key, this.def.def, this.machineLabel);
      else if (this.view.fitted) this.fitNow(false);
    }).observe(this.svg);
  }

  /**
   * Arrows move between states and transitions (Shift+arrows pan), Home goes
   * to the current state, Enter or Space on a transition out of the current
   * state applies it, + / − zoom and 0 fits.
   */
  private onKey(e: KeyboardEvent): void {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const dir = ARROW_KEYS[e.key];
    const step = 40;
    let done = true;
    if (dir && e.shiftKey) {
      const d = { left: [step, 0], right: [-step, 0], up: [0, step], down: [0, -step] }[dir];
      this.apply(pan(this.view, d[0], d[1]), true);
    } else if (dir) {
      const from = this.focusedSpot();
      // Focus on the background first goes to the roving stop; from there the arrows move.
      if (!from) this.focusSpot(this.defaultKey());
      else {
        const to = nextSpot(this.spots.values(), from, dir);
        if (to) this.focusSpot(to.key);
      }
    } else if (e.key === 'Home') {
      this.focusSpot(this.current ? `state:${this.current}` : this.defaultKey());
    } else if (e.key === 'Enter' || e.key === ' ') {
      const g = this.focusedSpot()?.el;
      if (g?.classList.contains('out')) this.callbacks.apply(g.dataset.event ?? '');
      else done = false;
    } else if (e.key === '+' || e.key === '=') this.zoomBy(1.25);
    else if (e.key === '-') this.zoomBy(0.8);
    else if (e.key === '0') this.fitNow();
    else done = false;
    if (done) e.preventDefault();
  }

  /** The spot that has focus now, if focus is on one. */
  private focusedSpot(): (Spot & { el: SVGGElement }) | undefined {
    const key = document.activeElement ? this.spotOf.get(document.activeElement) : undefined;
    return key ? this.spots.get(key) : undefined;
  }

  /** Where Tab lands when nothing was focused yet: the current state, else the initial one, else the first drawn. */
  private defaultKey(): string | undefined {
    if (this.current && this.spots.has(`state:${this.current}`)) return `state:${this.current}`;
    const initial = this.scene?.nodes.find((n) => n.initial) ?? this.scene?.nodes[0];
    return initial ? `state:${initial.id}` : undefined;
  }

  /** Make a spot the one Tab stop (without focusing it). */
  private rove(key: string | undefined): void {
    if (key === undefined || !this.spots.has(key)) return;
    if (this.focusKey !== key) this.spots.get(this.focusKey ?? '')?.el.setAttribute('tabindex', '-1');
    this.focusKey = key;
    this.spots.get(key)!.el.setAttribute('tabindex', '0');
  }

  /** Focus a spot, panning it into view when it is off screen. */
  private focusSpot(key: string | undefined): void {
    const spot = key === undefined ? undefined : this.spots.get(key);
    if (!spot) return;
    this.rove(spot.key);
    spot.el.focus({ preventScroll: true });
    const { w, h } = this.size();
    const { dx, dy } = panToShow(this.view, spot.x, spot.y, w, h);
    if (dx || dy) this.apply(pan(this.view, dx, dy), true);
  }

  /** Lays out and draws a machine version, unless it is the one already drawn. */
  setDefinition(key: string, def: DefinitionView, machineLabel: string, saved?: View): void {
    this.machineLabel = machineLabel;
    this.def = { key, def };
    const { w, h } = this.size();
    const rankdir = rankdirFor(w, h);
    // Laid out once per version and direction: a live move only changes classes.
    if (`${key}|${rankdir}` === this.sceneKey) return;
    const started = performance.now();
    this.scene = buildScene(def, canvasMeasure(), rankdir);
    this.sceneKey = `${key}|${rankdir}`;
    this.element.dataset.rankdir = rankdir;
    this.draw(this.scene);
    this.lastDrawMs = performance.now() - started;
    this.element.dataset.drawMs = String(Math.round(this.lastDrawMs));
    const restore = saved && !saved.fitted && !this.restoredOnce;
    this.restoredOnce = true;
    if (restore && saved) this.apply(saved, false);
    else requestAnimationFrame(() => this.fitNow(false));
  }

  private draw(scene: Scene): void {
    // Focus inside the old drawing comes back on the same state or transition in the new one.
    const hadFocus = this.focusedSpot() !== undefined;
    this.root.replaceChildren();
    this.nodes.clear();
    this.edges.clear();
    this.edgeKeys.clear();
    this.spots.clear();
    this.spotOf.clear();
    this.stateLabels.clear();
    const outgoing = new Map<string, number>();
    for (const e of scene.edges) outgoing.set(e.from, (outgoing.get(e.from) ?? 0) + 1);
    const edgeLayer = el('g', { class: 'edges' }, this.root);
    const nodeLayer = el('g', { class: 'nodes' }, this.root);
    for (const e of scene.edges) {
      const g = el('g', { class: 'edge' }, edgeLayer);
      g.dataset.event = e.event;
      g.dataset.from = e.from;
      el('path', { class: 'edge-line', d: edgePath(e.points), 'marker-end': 'url(#arrow-plain)' }, g);
      const label = el('g', { class: 'edge-label', transform: `translate(${e.label.x},${e.label.y})` }, g);
      el('rect', { class: 'focus-ring', x: -e.label.width / 2 - 3, y: -e.label.height / 2 - 3, width: e.label.width + 6, height: e.label.height + 6, rx: 5 }, label);
      el('rect', { class: 'label-box', x: -e.label.width / 2, y: -e.label.height / 2, width: e.label.width, height: e.label.height, rx: 3 }, label);
      const lines = e.guardLabel ? 2 : 1;
      const top = -((lines - 1) * 15) / 2;
      const ev = el('text', { class: 'event', x: 0, y: top, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, label);
      ev.textContent = e.event;
      if (e.guardLabel) {
        const gt = el('text', { class: 'guard', x: 0, y: top + 15, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, label);
        gt.textContent = e.guardLabel;
      }
      const title = el('title', {}, g);
      title.textContent = e.guard ? `${e.from} → ${e.to} on ${e.event}, guard ${e.guard}` : `${e.from} → ${e.to} on ${e.event}`;
      this.edges.set(e.key, { g, event: e.event, from: e.from, to: e.to, guard: e.guard });
      this.edgeKeys.set(g, e.key);
      this.addSpot(`edge:${e.key}`, g, e.label.x, e.label.y);
      g.setAttribute('aria-roledescription', 'transition');
      g.addEventListener('click', () => g.classList.contains('out') && this.callbacks.apply(e.event));
    }
    for (const n of scene.nodes) {
      const g = el('g', { class: `state${n.initial ? ' initial' : ''}${n.final ? ' final' : ''}`, transform: `translate(${n.x - n.width / 2},${n.y - n.height / 2})` }, nodeLayer);
      g.setAttribute('data-state', n.id);
      g.setAttribute('role', 'img');
      g.setAttribute('aria-roledescription', 'state');
      this.addSpot(`state:${n.id}`, g, n.x, n.y);
      const ways = outgoing.get(n.id) ?? 0;
      this.stateLabels.set(n.id, `${n.id}${n.initial ? ', initial' : ''}${n.final ? ', final' : ''}, ${ways} transition${ways === 1 ? '' : 's'} out`);
      el('rect', { class: 'focus-ring', x: -4, y: -4, width: n.width + 8, height: n.height + 8, rx: 9 }, g);
      el('rect', { class: 'box', width: n.width, height: n.height, rx: 6 }, g);
      if (n.final) el('rect', { class: 'inner', x: 3, y: 3, width: n.width - 6, height: n.height - 6, rx: 4 }, g);
      const t = el('text', { x: n.width / 2, y: n.height / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, g);
      t.textContent = n.id;
      const title = el('title', {}, g);
      title.textContent = `${n.id}${n.initial ? ' (initial)' : ''}${n.final ? ' (final)' : ''}`;
      if (n.initial) {
        // The initial mark: a dot with an arrow into the state, from where the flow starts.
        const start = el('g', { class: 'initial-mark' }, nodeLayer);
        if (scene.rankdir === 'LR') {
          el('circle', { cx: n.x - n.width / 2 - 22, cy: n.y, r: 5 }, start);
          el('path', { d: `M${n.x - n.width / 2 - 17},${n.y} L${n.x - n.width / 2 - 1},${n.y}`, 'marker-end': 'url(#arrow-plain)' }, start);
        } else {
          el('circle', { cx: n.x, cy: n.y - n.height / 2 - 22, r: 5 }, start);
          el('path', { d: `M${n.x},${n.y - n.height / 2 - 17} L${n.x},${n.y - n.height / 2 - 1}`, 'marker-end': 'url(#arrow-plain)' }, start);
        }
      }
      this.nodes.set(n.id, g);
    }
    this.highlight();
    this.markChanges(this.marks.states, this.marks.edges);
    const keep = this.focusKey !== undefined && this.spots.has(this.focusKey) ? this.focusKey : this.defaultKey();
    this.focusKey = undefined;
    if (hadFocus) this.focusSpot(keep);
    else this.rove(keep);
  }

  private addSpot(key: string, g: SVGGElement, x: number, y: number): void {
    g.setAttribute('tabindex', '-1');
    g.classList.add('spot');
    this.spots.set(key, { key, x, y, el: g });
    this.spotOf.set(g, key);
  }

  /** Marks states and transitions as added or removed (comparing two versions). */
  markChanges(states: Map<string, string>, edges: Map<string, string>): void {
    this.marks = { states, edges };
    for (const [id, g] of this.nodes) {
      const c = states.get(id) ?? 'same';
      g.classList.toggle('added', c === 'added');
      g.classList.toggle('removed', c === 'removed');
      if (c !== 'same') g.setAttribute('data-change', c);
      else g.removeAttribute('data-change');
    }
    for (const [key, { g }] of this.edges) {
      const c = edges.get(key) ?? 'same';
      g.classList.toggle('added', c === 'added');
      g.classList.toggle('removed', c === 'removed');
      if (c !== 'same') g.setAttribute('data-change', c);
      else g.removeAttribute('data-change');
    }
  }

  /** Marks the current state and its outgoing transitions (passing, failing or unknown). */
  setCurrent(state: string, outgoing: GuardVerdict[], enabled: boolean): void {
    this.current = state;
    this.outgoing = outgoing;
    this.enabled = enabled;
    this.highlight();
  }

  private outgoing: GuardVerdict[] = [];
  private enabled = true;

  private highlight(): void {
    // Moving the transitions out of the current state to the top (below) would drop focus: it is put back.
    const focused = this.focusedSpot();
    for (const [id, g] of this.nodes) {
      const on = id === this.current;
      g.classList.toggle('current', on);
      if (on) g.setAttribute('aria-current', 'true');
      else g.removeAttribute('aria-current');
      g.setAttribute('aria-label', `${on ? 'current state ' : ''}${this.stateLabels.get(id) ?? id}`);
    }
    const verdicts = new Map(this.outgoing.map((o) => [o.event, o]));
    for (const { g, event, from, to, guard } of this.edges.values()) {
      const v = from === this.current && this.enabled ? verdicts.get(event) : undefined;
      g.classList.remove('out', 'pass', 'fail', 'unknown');
      const line = g.querySelector('.edge-line');
      const ev = g.querySelector('text.event');
      if (ev) ev.textContent = event;
      if (!v) {
        g.setAttribute('role', 'img');
        g.setAttribute('aria-label', `${event}: ${from} → ${to}${guard ? `, guard ${guard}` : ''}`);
        g.removeAttribute('data-verdict');
        line?.setAttribute('marker-end', 'url(#arrow-plain)');
        continue;
      }
      const kind = v.pass === true ? 'pass' : v.pass === false ? 'fail' : 'unknown';
      g.classList.add('out', kind);
      g.setAttribute('data-verdict', kind);
      g.setAttribute('role', 'button');
      const why = !v.guard ? 'no guard' : kind === 'pass' ? 'guard passes' : kind === 'fail' ? 'guard fails on the current context' : `guard cannot be evaluated${v.error ? `: ${v.error}` : ''}`;
      g.setAttribute('aria-label', `Apply ${event} (to ${v.to}): ${why}`);
      line?.setAttribute('marker-end', `url(#arrow-${kind})`);
      // Colour is never the only cue: a mark before the event says it too.
      if (ev) ev.textContent = `${kind === 'pass' ? '✓' : kind === 'fail' ? '✗' : '?'} ${event}`;
      // Drawn above the other edges.
      g.parentNode?.appendChild(g);
    }
    if (focused && document.activeElement !== focused.el) {
      // Only while the webview has the keyboard: a live update must not take it from the editor or a quick pick
      // (an iframe keeps its activeElement after losing focus). Otherwise it stays the Tab stop.
      if (document.hasFocus()) focused.el.focus({ preventScroll: true });
      else this.rove(focused.key);
    }
    this.element.setAttribute(
      'aria-label',
      `Diagram of ${this.machineLabel}${this.current ? `, current state ${this.current}` : ''}. Arrows move between states and transitions, Enter applies a transition out of the current state, Home goes to the current state; Shift+arrows pan, plus and minus zoom, 0 fits.`,
    );
  }
}
