import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextSpot, panToShow, type Spot } from '../../src/webview/diagram/keys';
import { buildScene, estimateWidth } from '../../src/webview/diagram/scene';

const FLOW = {
  states: ['a', 'b', 'c', 'x'],
  initial: 'a',
  transitions: [
    { from: ['a'], event: 'go', to: 'b' },
    { from: ['b'], event: 'go', to: 'c' },
    { from: ['a'], event: 'skip', to: 'x' },
  ],
};

/** States and transition labels of a laid-out machine, as the diagram offers them to the keyboard. */
function spotsOf(rankdir: 'LR' | 'TB'): Spot[] {
  const s = buildScene(FLOW, estimateWidth, rankdir);
  return [...s.nodes.map((n) => ({ key: `state:${n.id}`, x: n.x, y: n.y })), ...s.edges.map((e) => ({ key: `edge:${e.from}-${e.event}`, x: e.label.x, y: e.label.y }))];
}

test('arrows along the flow go from a state to its transition, then to the state it leads to', { timeout: 10_000 }, () => {
  for (const [rankdir, forward, back] of [['LR', 'right', 'left'], ['TB', 'down', 'up']] as const) {
    const spots = spotsOf(rankdir);
    const at = (key: string) => spots.find((s) => s.key === key)!;
    const walk = [at('state:b')];
    for (let i = 0; i < 2; i++) walk.push(nextSpot(spots, walk[walk.length - 1], forward)!);
    assert.deepEqual(walk.map((s) => s.key), ['state:b', 'edge:b-go', 'state:c'], rankdir);
    assert.equal(nextSpot(spots, at('state:c'), forward), undefined, `${rankdir}: nothing beyond the last state`);
    assert.equal(nextSpot(spots, at('edge:b-go'), back)?.key, 'state:b', rankdir);
    // Every spot can be reached from the initial state with the four arrows.
    const seen = new Set([at('state:a').key]);
    const queue = [at('state:a')];
    while (queue.length) {
      const from = queue.shift()!;
      for (const dir of ['left', 'right', 'up', 'down'] as const) {
        const to = nextSpot(spots, from, dir);
        if (to && !seen.has(to.key)) {
          seen.add(to.key);
          queue.push(to);
        }
      }
    }
    assert.equal(seen.size, spots.length, `${rankdir}: reached ${[...seen].join(', ')}`);
  }
});

test('a spot focused off screen is panned into view, one on screen is left where it is', { timeout: 10_000 }, () => {
  const view = { k: 2, x: -100, y: 0 };
  assert.deepEqual(panToShow(view, 100, 100, 400, 300), { dx: 0, dy: 0 });
  // x on screen: 20 * 2 - 100 = -60, 100 px short of the 40 px margin.
  assert.deepEqual(panToShow(view, 20, 100, 400, 300), { dx: 100, dy: 0 });
  // y on screen: 200 * 2 = 400, past 300 - 40.
  assert.deepEqual(panToShow(view, 100, 200, 400, 300), { dx: 0, dy: -140 });
});
