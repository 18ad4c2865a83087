import { normalizeDefinition } from '../rcp/definition';
import type { MachineDefinition, Transition } from '../rcp/types';

/**
 * The keys the server keeps. Anything else at the top level (`$schema`, a
 * comment key) is dropped by the server without a word, so it is not sent
 * and not compared.
 */
const KEPT = ['states', 'initial', 'transitions', 'meta'] as const;

/** What is sent for a definition file's value: the kept keys only. */
export function definitionToSend(value: Record<string, unknown>): MachineDefinition {
  const out: Record<string, unknown> = {};
  for (const k of KEPT) if (value[k] !== undefined) out[k] = value[k];
  return out as unknown as MachineDefinition;
}

/** Object keys sorted at every level, as the server returns `meta`. */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortedKeys((v as Record<string, unknown>)[k])]));
}

/** A definition in the form the server stores it: `from` as arrays, `guard: null` as no guard, meta's keys sorted, other keys gone. */
function canonical(def: MachineDefinition): unknown {
  const n = normalizeDefinition(definitionToSend(def as unknown as Record<string, unknown>));
  return {
    states: n.states,
    initial: n.initial,
    transitions: n.transitions.map((t) => ({ from: t.from, event: t.event, to: t.to, ...(t.guard !== undefined && t.guard !== null ? { guard: t.guard } : {}) })),
    ...(n.meta !== undefined ? { meta: sortedKeys(n.meta) } : {}),
  };
}

/** Whether the server would store the two definitions identically (an identical re-put answers created:false). */
export function sameDefinition(a: MachineDefinition, b: MachineDefinition): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** A list of names on one line, with a space after each comma. */
const names = (list: readonly string[]) => `[${list.map((s) => JSON.stringify(s)).join(', ')}]`;

function transitionLine(t: Transition): string {
  const from = Array.isArray(t.from) ? (t.from.length === 1 ? JSON.stringify(t.from[0]) : names(t.from)) : JSON.stringify(t.from);
  const parts = [`"from": ${from}`, `"event": ${JSON.stringify(t.event)}`, `"to": ${JSON.stringify(t.to)}`];
  if (t.guard !== undefined && t.guard !== null) parts.push(`"guard": ${JSON.stringify(t.guard)}`);
  return `{ ${parts.join(', ')} }`;
}

/**
 * A definition as a `*.machine.json` file: one transition per line and a
 * single `from` written as a string, so that two versions (or a file and the
 * server's copy) diff line by line, transition by transition.
 */
export function formatDefinition(def: MachineDefinition): string {
  const lines = ['{', `  "states": ${names(def.states)},`, `  "initial": ${JSON.stringify(def.initial)},`];
  const transitions = def.transitions.map((t, i) => `    ${transitionLine(t)}${i < def.transitions.length - 1 ? ',' : ''}`);
  lines.push(transitions.length ? `  "transitions": [\n${transitions.join('\n')}\n  ]` : '  "transitions": []');
  if (def.meta !== undefined) {
    lines[lines.length - 1] += ',';
    lines.push(`  "meta": ${JSON.stringify(def.meta, null, 2).replace(/\n/g, '\n  ')}`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Where a deploy of a file goes, given the versions the server has and its latest definition. */
export type DeployPlan =
  /** Not there yet: PUT as this version (1 for a new machine, else the latest plus one). */
  | { kind: 'new'; version: number }
  /** The latest version already holds this very definition. */
  | { kind: 'deployed'; version: number };

export function planDeploy(versions: readonly number[], latest: MachineDefinition | undefined, file: MachineDefinition): DeployPlan {
  const newest = versions.length ? Math.max(...versions) : 0;
  if (newest && latest && sameDefinition(latest, file)) return { kind: 'deployed', version: newest };
  return { kind: 'new', version: newest + 1 };
}

/** The next version no one has taken, after a PUT found its version taken. */
export function nextFreeVersion(versions: readonly number[], tried: number): number {
  let v = Math.max(tried, ...versions) + 1;
  while (versions.includes(v)) v++;
  return v;
}
