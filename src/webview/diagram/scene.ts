/**
 * A machine definition laid out as a layered graph (dagre), as plain numbers:
 * no DOM here, so Node tests and the bench run it as the webview does.
 */
import { Graph, layout } from '@dagrejs/dagre';
import type { DefinitionView } from '../../protocol/inspector';

export interface Point {
  x: number;
  y: number;
}

export interface SceneNode {
  id: string;
  /** Centre. */
  x: number;
  y: number;
  width: number;
  height: number;
  initial: boolean;
  /** No outgoing transitions. */
  final: boolean;
}

export interface SceneEdge {
  /** Index of the transition in the definition, with the `from` state: unique per edge. */
  key: string;
  from: string;
  to: string;
  event: string;
  guard?: string;
  /** The guard as drawn (shortened); the full text goes in a tooltip. */
  guardLabel?: string;
  points: Point[];
  label: Point & { width: number; height: number };
}

export type RankDir = 'LR' | 'TB';

export interface Scene {
  rankdir: RankDir;
  width: number;
  height: number;
  nodes: SceneNode[];
  edges: SceneEdge[];
}

/** Width in px of a text in the diagram's font (the webview measures with a canvas; tests estimate). */
export type Measure = (text: string, kind: 'state' | 'event' | 'guard') => number;

export const GUARD_MAX = 36;
const NODE_H = 34;
const NODE_PAD = 28;
const LINE = 15;
/**
 * Above this many states the layout trades polish for time (measured on 200
 * states and 400 random transitions, `npm run bench`): the crossing
 * minimisation is skipped (most of dagre's time; see initialOrder), cycles are broken by the
 * greedy feedback-arc heuristic instead of a depth-first search, and ranks come
 * from a tight tree instead of network simplex. The depth-first search reversed
 * edges that then spanned many ranks, each filled with dummy nodes that every
 * later phase walks: the greedy choice made the graph about a third as wide
 * and the layout about three times faster (2.3 s → 0.8 s of CPU). Small
 * machines keep dagre's defaults, which draw them best.
 */
export const FAST_LAYOUT_STATES = 120;

export function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Left to right for a wide pane, top to bottom for a tall one. */
export function rankdirFor(width: number, height: number): RankDir {
  return width > 0 && height > 0 && height > width * 0.9 ? 'TB' : 'LR';
}

export function buildScene(def: DefinitionView, measure: Measure, rankdir: RankDir = 'LR'): Scene {
  const g = new Graph({ multigraph: true });
  const big = def.states.length > FAST_LAYOUT_STATES;
  g.setGraph({ rankdir, nodesep: 24, ranksep: 48, edgesep: 12, marginx: 28, marginy: 28, ...(big ? { acyclicer: 'greedy', ranker: 'tight-tree' } : {}) });
  g.setDefaultEdgeLabel(() => ({}));
  const outgoing = new Set<string>();
  for (const t of def.transitions) for (const f of t.from) outgoing.add(f);
  for (const s of def.states) g.setNode(s, { width: Math.max(64, measure(s, 'state') + NODE_PAD), height: NODE_H });
  const edges: Omit<SceneEdge, 'points' | 'label'>[] = [];
  def.transitions.forEach((t, i) => {
    for (const from of t.from) {
      if (!g.hasNode(from) || !g.hasNode(t.to)) continue;
      const key = `${i}:${from}`;
      const guardLabel = t.guard ? `[${shorten(t.guard, GUARD_MAX)}]` : undefined;
      const width = Math.max(measure(t.event, 'event'), guardLabel ? measure(guardLabel, 'guard') : 0) + 8;
      const height = guardLabel ? 2 * LINE + 4 : LINE + 4;
      g.setEdge(from, t.to, { width, height, labelpos: 'c' }, key);
      edges.push({ key, from, to: t.to, event: t.event, ...(t.guard ? { guard: t.guard, guardLabel } : {}) });
    }
  });
  layout(g, big ? { customOrder: initialOrder } : {});
  const graph = g.graph() as { width?: number; height?: number };
  const nodes: SceneNode[] = def.states.map((id) => {
    const n = g.node(id) as { x: number; y: number; width: number; height: number };
    return { id, x: n.x, y: n.y, width: n.width, height: n.height, initial: id === def.initial, final: !outgoing.has(id) };
  });
  const laid: SceneEdge[] = edges.map((e) => {
    const l = g.edge(e.from, e.to, e.key) as { points: Point[]; x: number; y: number; width: number; height: number };
    return { ...e, points: l.points.map((p) => ({ x: p.x, y: p.y })), label: { x: l.x, y: l.y, width: l.width, height: l.height } };
  });
  return { rankdir, width: graph.width ?? 0, height: graph.height ?? 0, nodes, edges: laid };
}

/**
 * The order of nodes within each rank, without crossing minimisation: what
 * dagre's `disableOptimalOrderHeuristic` leaves (a depth-first walk from the
 * lowest ranks), minus the per-rank graphs dagre still builds for the sweeps
 * it then skips (a third of its time on 200 states). Iterative, as dummy-node
 * chains can be thousands deep.
 */
function initialOrder(g: Graph): void {
  const rankOf = (v: string) => (g.node(v) as unknown as { rank: number }).rank;
  const nodes = g.nodes().filter((v) => !g.children(v).length);
  nodes.sort((a, b) => rankOf(a) - rankOf(b));
  const next: number[] = [];
  const visited = new Set<string>();
  for (const start of nodes) {
    const stack = [start];
    while (stack.length) {
      const v = stack.pop()!;
      if (visited.has(v)) continue;
      visited.add(v);
      const label = g.node(v) as unknown as { rank: number; order: number };
      label.order = next[label.rank] ?? 0;
      next[label.rank] = label.order + 1;
      const successors = (g.successors(v) ?? []) as string[];
      for (let i = successors.length - 1; i >= 0; i--) if (!visited.has(successors[i])) stack.push(successors[i]);
    }
  }
}

/** A rough width for tests and the bench (the webview measures the real font). */
export const estimateWidth: Measure = (text, kind) => text.length * (kind === 'state' ? 7.5 : 6.6);

/** An SVG path through the points, smoothed with quadratic curves through the midpoints. */
export function edgePath(points: Point[]): string {
  if (points.length === 0) return '';
  const f = (n: number) => Math.round(n * 10) / 10;
  if (points.length < 3) return points.map((p, i) => `${i ? 'L' : 'M'}${f(p.x)},${f(p.y)}`).join(' ');
  let d = `M${f(points[0].x)},${f(points[0].y)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i];
    const next = points[i + 1];
    const mid = i === points.length - 2 ? next : { x: (p.x + next.x) / 2, y: (p.y + next.y) / 2 };
    d += ` Q${f(p.x)},${f(p.y)} ${f(mid.x)},${f(mid.y)}`;
  }
  return d;
}
