/** Two versions of a machine as one drawing: what the shown version added, and what it removed, against the other. */
import type { DefinitionView } from '../../protocol/inspector';

export type Change = 'added' | 'removed' | 'same';

export interface Comparison {
  /** Every state and transition of both versions; each transition with one from-state. */
  union: DefinitionView;
  states: Map<string, Change>;
  /** By scene edge key (`index:from`). */
  edges: Map<string, Change>;
  counts: { statesAdded: number; statesRemoved: number; transitionsAdded: number; transitionsRemoved: number };
}

function singles(def: DefinitionView): { from: string; event: string; to: string; guard?: string }[] {
  return def.transitions.flatMap((t) => t.from.map((from) => ({ from, event: t.event, to: t.to, ...(t.guard ? { guard: t.guard } : {}) })));
}

const key = (t: { from: string; event: string; to: string; guard?: string }) => JSON.stringify([t.from, t.event, t.to, t.guard ?? null]);

/** `shown` against `other`: added means only in shown, removed only in other. A changed guard is one removed and one added. */
export function compareDefinitions(shown: DefinitionView, other: DefinitionView): Comparison {
  const states = new Map<string, Change>();
  const otherStates = new Set(other.states);
  const shownStates = new Set(shown.states);
  for (const s of shown.states) states.set(s, otherStates.has(s) ? 'same' : 'added');
  for (const s of other.states) if (!shownStates.has(s)) states.set(s, 'removed');
  const a = singles(shown);
  const b = singles(other);
  const inA = new Set(a.map(key));
  const inB = new Set(b.map(key));
  const all = [...a.map((t) => ({ t, c: (inB.has(key(t)) ? 'same' : 'added') as Change })), ...b.filter((t) => !inA.has(key(t))).map((t) => ({ t, c: 'removed' as Change }))];
  const edges = new Map<string, Change>();
  all.forEach(({ t, c }, i) => edges.set(`${i}:${t.from}`, c));
  const count = (m: Map<string, Change>, c: Change) => [...m.values()].filter((x) => x === c).length;
  return {
    union: { states: [...states.keys()], initial: shown.initial, transitions: all.map(({ t }) => ({ ...t, from: [t.from] })) },
    states,
    edges,
    counts: { statesAdded: count(states, 'added'), statesRemoved: count(states, 'removed'), transitionsAdded: count(edges, 'added'), transitionsRemoved: count(edges, 'removed') },
  };
}
