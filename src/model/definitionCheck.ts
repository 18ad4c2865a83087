import { findNodeAtLocation, findNodeAtOffset, getNodeValue, parseTree, type Node, type ParseError } from 'jsonc-parser';
import { definitionProblems, type DefinitionProblem } from '../rcp/definition';

/** One problem in a machine definition file, at offsets into its text (0-based, end exclusive). */
export interface DefinitionDiagnostic {
  message: string;
  severity: 'error' | 'warning';
  start: number;
  end: number;
  /** A stable name for the kind of problem (shown as the diagnostic's code). */
  code: 'unknown-state' | 'duplicate-transition' | 'guard' | 'unreachable-state' | 'dead-end' | 'repeated-state' | 'never-fires' | 'empty-event';
  /** Where the other half of the problem is (the first of two clashing transitions). */
  related?: { start: number; end: number; message: string };
}

export interface DefinitionFile {
  /** The parsed tree, undefined when the text is not JSON. */
  root: Node | undefined;
  /** The definition as a value (what would be sent), undefined when the text is not JSON. */
  value: unknown;
  syntaxErrors: ParseError[];
}

/** Parses a definition file keeping every node's offset (JSON syntax errors are the JSON language's to show). */
export function parseDefinitionFile(text: string): DefinitionFile {
  const syntaxErrors: ParseError[] = [];
  const root = parseTree(text, syntaxErrors, { allowTrailingComma: false, disallowComments: false });
  return { root, value: root ? getNodeValue(root) : undefined, syntaxErrors };
}

const span = (n: Node) => ({ start: n.offset, end: n.offset + n.length });

/**
 * Offset in the file of each character of a JSON string's value: `map[i]` is
 * where the i-th UTF-16 unit of the decoded string starts in the text, and
 * `map[value.length]` is the closing quote. Escapes (`\"`, `\n`, `\u00e9`)
 * take several characters of text for one of the value.
 */
export function stringValueOffsets(text: string, node: Node): number[] {
  const map: number[] = [];
  const end = node.offset + node.length - 1;
  let i = node.offset + 1;
  while (i < end) {
    map.push(i);
    if (text[i] !== '\\') i++;
    else i += text[i + 1] === 'u' ? 6 : 2;
  }
  map.push(end);
  return map;
}

/** The diagnostics the JSON Schema cannot express, for a machine definition file's text; [] while it is not valid JSON. */
export function checkDefinitionText(text: string): DefinitionDiagnostic[] {
  const file = parseDefinitionFile(text);
  // While the text does not parse, the JSON language's own errors are what to fix first.
  if (!file.root || file.syntaxErrors.length) return [];
  return checkDefinition(text, file.root, file.value);
}

function checkDefinition(text: string, root: Node, value: unknown): DefinitionDiagnostic[] {
  const out: DefinitionDiagnostic[] = [];
  for (const p of definitionProblems(value)) {
    // Wrong types and shapes are the schema's (it underlines them already).
    if (p.shape) continue;
    const d = placeProblem(text, root, p);
    if (d) out.push(d);
  }
  // The graph is read only once the references are sound: a missing state is the problem to fix first.
  if (!out.some((d) => d.severity === 'error' && d.code === 'unknown-state')) out.push(...graphWarnings(root, value));
  return out.sort((a, b) => a.start - b.start);
}

function placeProblem(text: string, root: Node, p: DefinitionProblem): DefinitionDiagnostic | undefined {
  const t = p.transition;
  const at = (path: (string | number)[]) => findNodeAtLocation(root, path);
  const base = { message: p.message, severity: p.severity };
  switch (p.field) {
    case 'states': {
      const n = p.index === undefined ? at(['states']) : at(['states', p.index]);
      return n && { ...base, ...span(n), code: 'repeated-state' };
    }
    case 'initial': {
      const n = at(['initial']);
      return n && { ...base, ...span(n), code: 'unknown-state' };
    }
    case 'to': {
      const n = t !== undefined ? at(['transitions', t, 'to']) : undefined;
      return n && { ...base, ...span(n), code: 'unknown-state' };
    }
    case 'event': {
      const n = t !== undefined ? at(['transitions', t, 'event']) : undefined;
      return n && { ...base, ...span(n), code: 'empty-event' };
    }
    case 'from': {
      if (t === undefined) return undefined;
      const n = at(p.index === undefined ? ['transitions', t, 'from'] : ['transitions', t, 'from', p.index]);
      if (!n) return undefined;
      if (!p.duplicateTransition) return { ...base, ...span(n), code: p.severity === 'error' ? 'unknown-state' : 'never-fires' };
      // Underline the event of the clashing transition and point at the first one.
      const event = at(['transitions', t, 'event']) ?? n;
      const first = p.firstTransition !== undefined ? at(['transitions', p.firstTransition, 'event']) : undefined;
      return {
        ...base,
        ...span(event),
        code: 'duplicate-transition',
        ...(first ? { related: { ...span(first), message: 'the first transition on this (state, event) pair' } } : {}),
      };
    }
    case 'guard': {
      const n = t !== undefined ? at(['transitions', t, 'guard']) : undefined;
      if (!n || n.type !== 'string' || !p.guardRange) return n && { ...base, ...span(n), code: 'guard' };
      const map = stringValueOffsets(text, n);
      const start = map[Math.min(p.guardRange.start, map.length - 1)];
      const end = map[Math.min(p.guardRange.end, map.length - 1)];
      // An empty range (an error at the very end) still gets one character to underline: the closing quote.
      return { ...base, start, end: end > start ? end : start + 1, code: 'guard' };
    }
    default:
      return undefined;
  }
}

/** The states of a sound definition and their edges, with the nodes that name them. */
interface Graph {
  states: string[];
  initial: string;
  next: Map<string, Set<string>>;
}

function graphOf(value: unknown): Graph | undefined {
  const d = value as { states?: unknown; initial?: unknown; transitions?: unknown };
  if (!Array.isArray(d?.states) || typeof d.initial !== 'string' || !Array.isArray(d.transitions)) return undefined;
  const states = d.states.filter((s): s is string => typeof s === 'string');
  const next = new Map<string, Set<string>>(states.map((s) => [s, new Set<string>()]));
  for (const raw of d.transitions) {
    const t = raw as { from?: unknown; to?: unknown };
    if (typeof t?.to !== 'string') continue;
    const from = typeof t.from === 'string' ? [t.from] : Array.isArray(t.from) ? t.from : [];
    for (const f of from) if (typeof f === 'string') next.get(f)?.add(t.to);
  }
  return { states, initial: d.initial, next };
}

function reach(graph: Graph, from: Iterable<string>, edges: (s: string) => Iterable<string>): Set<string> {
  const seen = new Set(from);
  const queue = [...seen];
  while (queue.length) for (const n of edges(queue.pop()!)) if (!seen.has(n)) (seen.add(n), queue.push(n));
  return seen;
}

/**
 * Warnings about the shape of the machine: states no instance can reach from
 * the initial state, and non-final states (they have transitions out) from
 * which no final state (one without transitions out) can be reached, so an
 * instance there can move but never finish. A machine with no final state at
 * all is taken to be cyclic on purpose and gets no dead-end warning.
 */
function graphWarnings(root: Node, value: unknown): DefinitionDiagnostic[] {
  const graph = graphOf(value);
  if (!graph) return [];
  const out: DefinitionDiagnostic[] = [];
  const nodeOf = (state: string) => findNodeAtLocation(root, ['states', graph.states.indexOf(state)]);
  const reachable = reach(graph, [graph.initial], (s) => graph.next.get(s) ?? []);
  const finals = graph.states.filter((s) => graph.next.get(s)!.size === 0);
  const into = new Map<string, string[]>(graph.states.map((s) => [s, []]));
  for (const [from, tos] of graph.next) for (const to of tos) into.get(to)?.push(from);
  const finishing = reach(graph, finals, (s) => into.get(s) ?? []);
  for (const s of new Set(graph.states)) {
    const n = nodeOf(s);
    if (!n) continue;
    if (!reachable.has(s)) {
      out.push({ message: `state '${s}' cannot be reached from the initial state '${graph.initial}'`, severity: 'warning', ...span(n), code: 'unreachable-state' });
    } else if (finals.length && !finishing.has(s)) {
      out.push({
        message: `state '${s}' is a dead end: it is not final (it has transitions out), but no final state (${finals.join(', ')}) can be reached from it`,
        severity: 'warning',
        ...span(n),
        code: 'dead-end',
      });
    }
  }
  return out;
}

/** A `guard` string of a transition, where it is in the text and what it says. */
export interface GuardLocation {
  guard: string;
  /** The string's node (quotes included). */
  start: number;
  end: number;
  transition: number;
  node: Node;
}

/** The transition guard string at an offset of a definition file, if the offset is inside one. */
export function guardAtOffset(text: string, offset: number): GuardLocation | undefined {
  const { root } = parseDefinitionFile(text);
  if (!root) return undefined;
  const node = findNodeAtOffset(root, offset, false);
  if (!node || node.type !== 'string') return undefined;
  const prop = node.parent;
  if (prop?.type !== 'property' || prop.children?.[1] !== node || prop.children[0].value !== 'guard') return undefined;
  const transition = prop.parent;
  const list = transition?.parent;
  const top = list?.parent;
  if (transition?.type !== 'object' || list?.type !== 'array' || top?.type !== 'property' || top.children?.[0].value !== 'transitions' || top.parent !== root) return undefined;
  return { guard: node.value as string, ...span(node), transition: list.children!.indexOf(transition), node };
}
