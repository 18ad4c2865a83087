import { GuardSyntaxError, readGuard } from './guard';
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

/** Something wrong with a machine definition, in words a user can act on. */
export interface DefinitionProblem {
  message: string;
  /**
   * `error`: the server refuses the definition (or, for a non-ASCII guard, drops
   * the connection), so it must not be sent. `warning`: the server accepts it,
   * but it does not do what it seems to (a guard the server reads only in part).
   */
  severity: 'error' | 'warning';
  /** Two transitions share a (from-state, event) pair: the server says INTERNAL_ERROR for this one. */
  duplicateTransition?: boolean;
  /** For a duplicate: the 0-based index of the first transition on that pair. */
  firstTransition?: number;
  /** 0-based index of the transition concerned. */
  transition?: number;
  /** Where in that transition's guard string the problem is (0-based, end exclusive). */
  guardRange?: { start: number; end: number };
  /** The key the problem is about (top level, or in the transition), so an editor can point at it. */
  field?: 'states' | 'initial' | 'transitions' | 'from' | 'event' | 'to' | 'guard' | 'meta';
  /** The element of `states` or of an array `from` concerned. */
  index?: number;
  /** A wrong type or shape, which a JSON Schema also catches (editors with the schema need not repeat it). */
  shape?: boolean;
}

/**
 * Everything wrong with a machine definition: errors the server refuses (the
 * definition must not be sent) and warnings about what it accepts but reads
 * differently from how it looks. Empty when there is nothing to say.
 */
export function definitionProblems(def: unknown): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const error = (message: string, more: Partial<DefinitionProblem> = {}) => problems.push({ message, severity: 'error', ...more });
  const warning = (message: string, more: Partial<DefinitionProblem> = {}) => problems.push({ message, severity: 'warning', ...more });
  if (def === null || typeof def !== 'object' || Array.isArray(def)) {
    error('definition must be an object with states, initial and transitions', { shape: true });
    return problems;
  }
  const d = def as Record<string, unknown>;
  if (!isStringArray(d.states) || d.states.length === 0) {
    error('states must be a non-empty array of state names', { field: 'states', shape: true });
    return problems;
  }
  const states = new Set(d.states);
  // The server keeps duplicates as sent; they change nothing but are surely a slip.
  const names = d.states;
  names.forEach((s, i) => {
    if (names.indexOf(s) !== i) warning(`state '${s}' is listed twice`, { field: 'states', index: i });
  });
  if (typeof d.initial !== 'string') error('initial must be a state name', { field: 'initial', shape: true });
  else if (!states.has(d.initial)) error(`initial state '${d.initial}' is not among the states`, { field: 'initial' });
  if (!Array.isArray(d.transitions)) {
    error('transitions must be an array', { field: 'transitions', shape: true });
    return problems;
  }
  const seen = new Map<string, number>();
  d.transitions.forEach((raw: unknown, i: number) => {
    const where = `transition ${i + 1}`;
    const at = { transition: i };
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      error(`${where} must be an object`, { ...at, shape: true });
      return;
    }
    const t = raw as Record<string, unknown>;
    const from = typeof t.from === 'string' ? [t.from] : t.from;
    // Where in `from` a state is: an array's element, or the string itself.
    const fromAt = (k: number) => ({ ...at, field: 'from' as const, ...(Array.isArray(t.from) ? { index: k } : {}) });
    if (!isStringArray(from)) error(`${where}: from must be a state name or an array of them`, { ...at, field: 'from', shape: true });
    else if (from.length === 0) warning(`${where}: from is empty, so this transition never fires`, { ...at, field: 'from' });
    if (typeof t.event !== 'string') error(`${where}: event must be a string`, { ...at, field: 'event', shape: true });
    else if (t.event === '') warning(`${where}: event is empty, and the server refuses to apply an empty event`, { ...at, field: 'event' });
    if (typeof t.to !== 'string') error(`${where}: to must be a state name`, { ...at, field: 'to', shape: true });
    else if (!states.has(t.to)) error(`${where}: target state '${t.to}' is not among the states`, { ...at, field: 'to' });
    if (isStringArray(from)) {
      from.forEach((f, k) => {
        if (!states.has(f)) error(`${where}: source state '${f}' is not among the states`, fromAt(k));
        if (typeof t.event === 'string') {
          const key = `${f}\u0000${t.event}`;
          const first = seen.get(key);
          if (first !== undefined) {
            error(`${where}: state '${f}' already has a transition on event '${t.event}' (transition ${first + 1})`, { ...fromAt(k), duplicateTransition: true, firstTransition: first });
          } else {
            seen.set(key, i);
          }
        }
      });
    }
    // `guard: null` is no guard, for the server as here.
    if (t.guard !== undefined && t.guard !== null) {
      if (typeof t.guard !== 'string') error(`${where}: guard must be a string`, { ...at, field: 'guard', shape: true });
      else problems.push(...guardProblems(t.guard, where, i));
    }
  });
  if (d.meta !== undefined && d.meta !== null && (typeof d.meta !== 'object' || Array.isArray(d.meta))) {
    warning('meta is not an object, so nothing (payload schemas included) can be read from it', { field: 'meta', shape: true });
  }
  return problems;
}

/** A guard the server refuses is an error; one it reads only in part is a warning naming what it ignores. */
function guardProblems(guard: string, where: string, transition: number): DefinitionProblem[] {
  try {
    const { read, ignored, ignoredAt } = readGuard(guard);
    if (!ignored) return [];
    return [
      {
        message: `${where}: guard: everything after \`${read}\` is ignored by the server (\`${ignored}\`)`,
        severity: 'warning',
        transition,
        field: 'guard',
        guardRange: { start: ignoredAt, end: ignoredAt + ignored.length },
      },
    ];
  } catch (err) {
    if (!(err instanceof GuardSyntaxError)) throw err;
    return [
      {
        message: err.breaksConnection
          ? `${where}: guard must never be sent: ${err.message}, on which the server drops the connection`
          : `${where}: guard does not parse: ${err.message}`,
        severity: 'error',
        transition,
        field: 'guard',
        guardRange: { start: err.position, end: Math.min(guard.length, err.position + 1) },
      },
    ];
  }
}

/** The errors in a definition, as sentences; empty when the server would accept it. */
export function validateDefinition(def: unknown): string[] {
  return definitionProblems(def)
    .filter((p) => p.severity === 'error')
    .map((p) => p.message);
}

/** A definition refused before sending, because sending it would break the connection. */
export class UnsendableDefinitionError extends Error {
  override readonly name = 'UnsendableDefinitionError';
}

/**
 * Why sending this definition would make the server drop the connection (and
 * fail everything in flight on it) instead of answering: a guard it fails
 * while reading (a non-ASCII character, a string ending in a backslash, an
 * `==` number too large). Undefined when it is safe to send; other problems
 * are the server's to answer.
 */
export function connectionBreakingProblem(def: unknown): string | undefined {
  const transitions = def !== null && typeof def === 'object' ? (def as { transitions?: unknown }).transitions : undefined;
  if (!Array.isArray(transitions)) return undefined;
  for (let i = 0; i < transitions.length; i++) {
    const guard = (transitions[i] as { guard?: unknown } | null)?.guard;
    if (typeof guard !== 'string') continue;
    try {
      readGuard(guard);
    } catch (err) {
      if (err instanceof GuardSyntaxError && err.breaksConnection) {
        return `the guard of transition ${i + 1} was not sent: ${err.message}, on which the server drops the connection`;
      }
    }
  }
  return undefined;
}
