import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildScene, edgePath, estimateWidth } from '../../src/webview/diagram/scene';
import { clampZoom, fit, zoomAt } from '../../src/webview/diagram/viewport';
import { listWindow } from '../../src/webview/listWindow';

const ORDER = {
  states: ['created', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'],
  initial: 'created',
  transitions: [
    { from: ['created'], event: 'pay', to: 'paid', guard: 'ctx.amount > 0' },
    { from: ['created', 'paid'], event: 'cancel', to: 'cancelled' },
    { from: ['paid'], event: 'ship', to: 'shipped', guard: 'ctx.address != null && !ctx.on_hold' },
    { from: ['shipped'], event: 'deliver', to: 'delivered' },
    { from: ['paid', 'delivered'], event: 'refund', to: 'refunded', guard: 'ctx.amount <= 500 || ctx.manager_approved == true' },
  ],
};

test('every state is placed at finite coordinates, and every from-state of a transition gets its own edge', { timeout: 10_000 }, () => {
  const s = buildScene(ORDER, estimateWidth);
  assert.equal(s.nodes.length, 6);
  for (const n of s.nodes) for (const v of [n.x, n.y, n.width, n.height]) assert.ok(Number.isFinite(v), `${n.id}: ${v}`);
  assert.equal(s.edges.length, 7);
  for (const e of s.edges) {
    assert.ok(e.points.length >= 2);
    assert.ok(e.points.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
    assert.ok(Number.isFinite(e.label.x) && Number.isFinite(e.label.y));
  }
  assert.deepEqual(s.nodes.filter((n) => n.initial).map((n) => n.id), ['created']);
  // delivered can still be refunded: only cancelled and refunded are final.
  assert.deepEqual(s.nodes.filter((n) => n.final).map((n) => n.id).sort(), ['cancelled', 'refunded']);
  assert.ok(edgePath(s.edges[0].points).startsWith('M'));
});

test('parallel transitions between the same two states and self-loops are kept', { timeout: 10_000 }, () => {
  const def = { states: ['a', 'b'], initial: 'a', transitions: [{ from: ['a'], event: 'x', to: 'b' }, { from: ['a'], event: 'y', to: 'b' }, { from: ['b'], event: 'again', to: 'b' }] };
  const s = buildScene(def, estimateWidth);
  assert.deepEqual(s.edges.map((e) => e.event).sort(), ['again', 'x', 'y']);
  const loop = s.edges.find((e) => e.event === 'again')!;
  assert.ok(loop.points.length >= 3 && loop.points.every((p) => Number.isFinite(p.x)));
  const [x, y] = s.edges.filter((e) => e.from === 'a');
  assert.notDeepEqual(x.label, y.label, 'two labels, not one on top of the other');
});

test('a long guard is shortened on the diagram and kept whole for the tooltip', { timeout: 10_000 }, () => {
  const guard = 'ctx.a == 1 && ctx.b == 2 && ctx.c == 3 && ctx.d == 4 && ctx.e == 5';
  const s = buildScene({ states: ['a', 'b'], initial: 'a', transitions: [{ from: ['a'], event: 'go', to: 'b', guard }] }, estimateWidth);
  assert.equal(s.edges[0].guard, guard);
  assert.ok(s.edges[0].guardLabel!.length < guard.length && s.edges[0].guardLabel!.endsWith('…]'));
});

test('fit shows the whole graph centred and never enlarges it; zoom keeps the point under the cursor', { timeout: 5000 }, () => {
  const v = fit(2000, 1000, 800, 600);
  assert.ok(v.k < 1 && v.fitted);
  assert.ok(Math.abs(v.x + 2000 * v.k - (800 - v.x)) < 1e-6, 'centred horizontally');
  assert.equal(fit(100, 100, 800, 600).k, 1);
  const z = zoomAt({ k: 1, x: 30, y: 40, fitted: true }, 2, 200, 100);
  // The world point under (200, 100) before: ((200-30)/1, (100-40)/1) = (170, 60); after, it is still at (200, 100).
  assert.equal(170 * z.k + z.x, 200);
  assert.equal(60 * z.k + z.y, 100);
  assert.equal(z.fitted, false);
  assert.equal(clampZoom(100), 4);
  assert.equal(clampZoom(0), 0.1);
});

test('the history window covers the visible rows plus overscan and never runs past the end', { timeout: 5000 }, () => {
  assert.deepEqual(listWindow(0, 220, 22, 10_000), { first: 0, count: 27 });
  assert.deepEqual(listWindow(22 * 5000, 220, 22, 10_000), { first: 4992, count: 27 });
  assert.deepEqual(listWindow(22 * 9999, 220, 22, 10_000), { first: 9991, count: 9 });
  assert.deepEqual(listWindow(0, 220, 22, 0), { first: 0, count: 0 });
  assert.deepEqual(listWindow(0, 220, 22, 3), { first: 0, count: 3 });
});

test('comparing two versions: added and removed states and transitions, and a changed guard as one of each', { timeout: 5000 }, async () => {
  const { compareDefinitions } = await import('../../src/webview/diagram/compare');
  const v1 = { states: ['draft', 'submitted', 'approved'], initial: 'draft', transitions: [{ from: ['draft'], event: 'submit', to: 'submitted' }, { from: ['submitted'], event: 'approve', to: 'approved', guard: 'ctx.ok' }] };
  const v2 = { states: ['draft', 'submitted', 'in_review', 'approved'], initial: 'draft', transitions: [{ from: ['draft'], event: 'submit', to: 'submitted' }, { from: ['submitted'], event: 'review', to: 'in_review' }, { from: ['in_review'], event: 'approve', to: 'approved', guard: 'ctx.ok' }] };
  const c = compareDefinitions(v2, v1);
  assert.equal(c.states.get('in_review'), 'added');
  assert.equal(c.states.get('draft'), 'same');
  assert.deepEqual(c.counts, { statesAdded: 1, statesRemoved: 0, transitionsAdded: 2, transitionsRemoved: 1 });
  const removed = c.union.transitions.filter((_, i) => [...c.edges.values()][i] === 'removed');
  assert.deepEqual(removed.map((t) => `${t.from[0]}-${t.event}`), ['submitted-approve']);
  // The union still lays out: every edge key of the scene has a change.
  const s = buildScene(c.union, estimateWidth);
  assert.ok(s.edges.every((e) => c.edges.has(e.key)));
  const guard = compareDefinitions({ ...v1, transitions: [v1.transitions[0], { ...v1.transitions[1], guard: 'ctx.ok && ctx.signed' }] }, v1);
  assert.deepEqual(guard.counts, { statesAdded: 0, statesRemoved: 0, transitionsAdded: 1, transitionsRemoved: 1 });
});
