import { parseGuard } from './guard';
import type { MachineDefinition, Transition } from './types';

export type NormalizedTransition = Transition & { from: string[] };
export type NormalizedDefinition = Omit<MachineDefinition, 'transitions'> & { transitions: NormalizedTransition[] };

/** The server stores `from` as an array; a single state is accepted on input. */
export function normalizeDefinition(def: MachineDefinition): NormalizedDefinition {
  const out: NormalizedDefinition = {
    states: [...def.states],
    initial: def.initial,
    transitions: def.transitions.map((t) => {
      const n: NormalizedTransition = { from: Array.isArray(t.from) ? [...t.from] : [t.from], event: t.event, to: t.to };
      if (t.guard !== undefined) n.guard = t.guard;
      return n;
    }),
  };
  if (def.meta !== undefined) out.meta = def.meta;
  return out;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

/** A problem the server reports under its own error code rather than BAD_REQUEST. */
export interface DefinitionProblem {
  message: string;
  /** Two transitions share a (from-state, event) pair: the server says INTERNAL_ERROR for this one. */
  duplicateTransition?: boolean;
}

/** Everything wrong with a machine definition, in the words a user can act on; empty when valid. */
export function definitionProblems(def: unknown): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const add = (message: string, duplicateTransition = false) =>
    problems.push(duplicateTransition ? { message, duplicateTransition } : { message });
  if (def === null || typeof def !== 'object' || Array.isArray(def)) {
    add('definition must be an object with states, initial and transitions');
    return problems;
  }
  const d = def as Record<string, unknown>;
  if (!isStringArray(d.states) || d.states.length === 0) {
    add('states must be a non-empty array of state names');
    return problems;
  }
  const states = new Set(d.states);
  if (states.size !== d.states.length) add('states must not repeat');
  if (typeof d.initial !== 'string') add('initial must be a state name');
  else if (!states.has(d.initial)) add(`initial state '${d.initial}' is not among the states`);
  if (!Array.isArray(d.transitions)) {
    add('transitions must be an array');
    return problems;
  }
  const seen = new Map<string, number>();
  d.transitions.forEach((raw: unknown, i: number) => {
    const where = `transition ${i + 1}`;
    if (raw === null || typeof raw !== 'object') {
      add(`${where} must be an object`);
      return;
    }
    const t = raw as Record<string, unknown>;
    const from = typeof t.from === 'string' ? [t.from] : t.from;
    if (!isStringArray(from) || from.length === 0) add(`${where}: from must be a state name or a non-empty array of them`);
    if (typeof t.event !== 'string' || t.event === '') add(`${where}: event must be a non-empty string`);
    if (typeof t.to !== 'string') add(`${where}: to must be a state name`);
    else if (!states.has(t.to)) add(`${where}: target state '${t.to}' is not among the states`);
    if (isStringArray(from)) {
      for (const f of from) {
        if (!states.has(f)) add(`${where}: source state '${f}' is not among the states`);
        if (typeof t.event === 'string') {
          const key = `${f}\u0000${t.event}`;
          const first = seen.get(key);
          if (first !== undefined) {
            add(`${where}: state '${f}' already has a transition on event '${t.event}' (transition ${first + 1})`, true);
          } else {
            seen.set(key, i);
          }
        }
      }
    }
    if (t.guard !== undefined) {
      if (typeof t.guard !== 'string') add(`${where}: guard must be a string`);
      else {
        try {
          parseGuard(t.guard);
        } catch (err) {
          add(`${where}: guard does not parse: ${(err as Error).message}`);
        }
      }
    }
  });
  if (d.meta !== undefined && (d.meta === null || typeof d.meta !== 'object' || Array.isArray(d.meta))) {
    add('meta must be an object');
  }
  return problems;
}

/** Human-readable problems with a definition; empty when the server would accept it. */
export function validateDefinition(def: unknown): string[] {
  return definitionProblems(def).map((p) => p.message);
}
