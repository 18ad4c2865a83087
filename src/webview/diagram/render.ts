/**
 * Draws a scene as SVG and keeps it interactive: pan, zoom, fit, the current
 * state and its way out. Live moves only toggle classes; the layout is made
 * once per machine version. Server strings (state, event, guard names) are
 * only ever set as text or attribute values.
 */
import type { DefinitionView, GuardVerdict } from '../../protocol/inspector';
import { buildScene, edgePath, rankdirFor, type Measure, type Scene } from './scene';
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
  private readonly edges = new Map<string, { g: SVGGElement; event: string; from: string }>();
  private readonly edgeKeys = new Map<SVGGElement, string>();
  private current = '';
  private def: { key: string; def: DefinitionView } | undefined;
  private marks: { states: Map<string, string>; edges: Map<string, string> } = { states: new Map(), edges: new Map() };
  private machineLabel = '';
  /** Milliseconds the last layout and draw took (shown to the bench and tests through a data attribute). */
  lastDrawMs = 0;
  /** A saved view applies to the first drawing only (a later one is another layout). */
  private restoredOnce = false;

  constructor(private readonly callbacks: DiagramCallbacks) {
    this.element = document.createElement('div');
    this.element.className = 'diagram';
    this.element.tabIndex = 0;
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
    this.element.addEventListener('keydown', (e) => {
      if (e.target !== this.element) return;
      const step = 40;
      const keys: Record<string, () => void> = {
        '+': () => this.zoomBy(1.25),
        '=': () => this.zoomBy(1.25),
        '-': () => this.zoomBy(0.8),
        '0': () => this.fitNow(),
        ArrowLeft: () => this.apply(pan(this.view, step, 0), true),
        ArrowRight: () => this.apply(pan(this.view, -step, 0), true),
        ArrowUp: () => this.apply(pan(this.view, 0, step), true),
        ArrowDown: () => this.apply(pan(this.view, 0, -step), true),
      };
      const run = keys[e.key];
      if (run) {
        e.preventDefault();
        run();
      }
    });
    new ResizeObserver(() => {
      const { w, h } = this.size();
      // A pane that turned from wide to tall (or back) gets the other direction.
      if (this.def && this.scene && w > 0 && h > 0 && rankdirFor(w, h) !== this.scene.rankdir) this.setDefinition(this.def.key, this.def.def, this.machineLabel);
      else if (this.view.fitted) this.fitNow(false);
    }).observe(this.svg);
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
    this.root.replaceChildren();
    this.nodes.clear();
    this.edges.clear();
    this.edgeKeys.clear();
    const edgeLayer = el('g', { class: 'edges' }, this.root);
    const nodeLayer = el('g', { class: 'nodes' }, this.root);
    for (const e of scene.edges) {
      const g = el('g', { class: 'edge' }, edgeLayer);
      g.dataset.event = e.event;
      g.dataset.from = e.from;
      el('path', { class: 'edge-line', d: edgePath(e.points), 'marker-end': 'url(#arrow-plain)' }, g);
      const label = el('g', { class: 'edge-label', transform: `translate(${e.label.x},${e.label.y})` }, g);
      el('rect', { x: -e.label.width / 2, y: -e.label.height / 2, width: e.label.width, height: e.label.height, rx: 3 }, label);
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
      this.edges.set(e.key, { g, event: e.event, from: e.from });
      this.edgeKeys.set(g, e.key);
      const choose = () => g.classList.contains('out') && this.callbacks.apply(e.event);
      g.addEventListener('click', choose);
      g.addEventListener('keydown', (k) => {
        if (k.key === 'Enter' || k.key === ' ') {
          k.preventDefault();
          choose();
        }
      });
    }
    for (const n of scene.nodes) {
      const g = el('g', { class: `state${n.initial ? ' initial' : ''}${n.final ? ' final' : ''}`, transform: `translate(${n.x - n.width / 2},${n.y - n.height / 2})` }, nodeLayer);
      g.setAttribute('data-state', n.id);
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
    for (const [id, g] of this.nodes) {
      const on = id === this.current;
      g.classList.toggle('current', on);
      if (on) g.setAttribute('aria-current', 'true');
      else g.removeAttribute('aria-current');
    }
    const verdicts = new Map(this.outgoing.map((o) => [o.event, o]));
    for (const { g, event, from } of this.edges.values()) {
      const v = from === this.current && this.enabled ? verdicts.get(event) : undefined;
      g.classList.remove('out', 'pass', 'fail', 'unknown');
      const line = g.querySelector('.edge-line');
      const ev = g.querySelector('text.event');
      if (ev) ev.textContent = event;
      if (!v) {
        g.removeAttribute('role');
        g.removeAttribute('tabindex');
        g.removeAttribute('aria-label');
        g.removeAttribute('data-verdict');
        line?.setAttribute('marker-end', 'url(#arrow-plain)');
        continue;
      }
      const kind = v.pass === true ? 'pass' : v.pass === false ? 'fail' : 'unknown';
      g.classList.add('out', kind);
      g.setAttribute('data-verdict', kind);
      g.setAttribute('role', 'button');
      g.setAttribute('tabindex', '0');
      const why = !v.guard ? 'no guard' : kind === 'pass' ? 'guard passes' : kind === 'fail' ? 'guard fails on the current context' : `guard cannot be evaluated${v.error ? `: ${v.error}` : ''}`;
      g.setAttribute('aria-label', `Apply ${event} (to ${v.to}): ${why}`);
      line?.setAttribute('marker-end', `url(#arrow-${kind})`);
      // Colour is never the only cue: a mark before the event says it too.
      if (ev) ev.textContent = `${kind === 'pass' ? '✓' : kind === 'fail' ? '✗' : '?'} ${event}`;
      // Drawn above the other edges.
      g.parentNode?.appendChild(g);
    }
    this.element.setAttribute('aria-label', `Diagram of ${this.machineLabel}${this.current ? `, current state ${this.current}` : ''}. Plus and minus zoom, 0 fits, arrows pan; Tab reaches the transitions out of the current state.`);
  }
}
