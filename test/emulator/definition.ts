/**
 * Machine definitions as the server reads them (rcp-notes.md "Machines"):
 * serde-style field checks, then the semantic checks in the server's order
 * (initial, then per transition: target, guard, sources, duplicate pairs).
 * Every failure here is the server's INTERNAL_ERROR (retryable), never
 * BAD_REQUEST. Not checked, as on the server: duplicate states, `from: []`,
 * `event: ""`, `guard: null`, a non-object `meta`.
 */
import { InvalidGuard, parseGuard, type GuardExpr } from './guard';
import { describeJson, sortKeysDeep } from './values';
import { crcHex } from './wire';

/** The definition as GET_MACHINE returns it (and as its checksum is computed). */
export interface StoredDefinition {
  states: string[];
  initial: string;
  transitions: { from: string[]; event: string; to: string; guard?: string }[];
  meta?: unknown;
}

export interface Definition {
  stored: StoredDefinition;
  checksum: string;
  initial: string;
  /** `${from}\u0000${event}` -> where it goes and what must hold. */
  transitions: Map<string, { to: string; guard?: GuardExpr }>;
}

/** `core error: JSON error: …` or `core error: invalid machine definition: …` / `invalid guard expression: …`. */
export class DefinitionError extends Error {}

function typeError(v: unknown, expected: string): DefinitionError {
  return new DefinitionError(`JSON error: invalid type: ${describeJson(v)}, expected ${expected}`);
}

function strings(v: unknown, expected = 'a sequence'): string[] {
  if (!Array.isArray(v)) throw typeError(v, expected);
  for (const s of v) if (typeof s !== 'string') throw typeError(s, 'a string');
  return v as string[];
}

function struct(v: unknown, name: string, required: string[]): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw typeError(v, `struct ${name}`);
  const o = v as Record<string, unknown>;
  for (const f of required) if (!(f in o)) throw new DefinitionError(`JSON error: missing field \`${f}\``);
  return o;
}

function str(v: unknown): string {
  if (typeof v !== 'string') throw typeError(v, 'a string');
  return v;
}

export function parseDefinition(json: unknown): Definition {
  const d = struct(json, 'MachineDefinitionRaw', ['states', 'initial', 'transitions']);
  const states = strings(d.states);
  const initial = str(d.initial);
  if (!Array.isArray(d.transitions)) throw typeError(d.transitions, 'a sequence');
  const raw = d.transitions.map((t) => {
    const o = struct(t, 'Transition', ['from', 'event', 'to']);
    const from = typeof o.from === 'string' ? [o.from] : strings(o.from, 'a string or array of strings');
    const guard = o.guard === undefined || o.guard === null ? undefined : str(o.guard);
    return { from, event: str(o.event), to: str(o.to), guard };
  });
  const known = new Set(states);
  if (!known.has(initial)) throw new DefinitionError(`invalid machine definition: initial state '${initial}' not in states list`);
  const transitions = new Map<string, { to: string; guard?: GuardExpr }>();
  for (const t of raw) {
    if (!known.has(t.to)) throw new DefinitionError(`invalid machine definition: transition target '${t.to}' not in states list`);
    let guard: GuardExpr | undefined;
    if (t.guard !== undefined) {
      try {
        guard = parseGuard(t.guard);
      } catch (err) {
        if (err instanceof InvalidGuard) throw new DefinitionError(`invalid guard expression: ${err.message}`);
        throw err;
      }
    }
    for (const f of t.from) {
      if (!known.has(f)) throw new DefinitionError(`invalid machine definition: transition source '${f}' not in states list`);
      const key = `${f}\u0000${t.event}`;
      if (transitions.has(key)) throw new DefinitionError(`invalid machine definition: duplicate transition from '${f}' on event '${t.event}'`);
      transitions.set(key, guard ? { to: t.to, guard } : { to: t.to });
    }
  }
  const stored: StoredDefinition = {
    states: [...states],
    initial,
    transitions: raw.map((t) => (t.guard === undefined ? { from: t.from, event: t.event, to: t.to } : { from: t.from, event: t.event, to: t.to, guard: t.guard })),
  };
  if (d.meta !== undefined && d.meta !== null) stored.meta = sortKeysDeep(d.meta);
  // The server hashes its own serialisation of the parsed definition (unknown keys gone, `from` an array).
  return { stored, checksum: crcHex(JSON.stringify(stored)), initial, transitions };
}
