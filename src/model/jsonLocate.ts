import { parseTree, type Node as JsonNode } from 'jsonc-parser';

/**
 * Where things are in a JSON text: the span of each value and property key by
 * JSON Pointer, so a validation error (ajv's `instancePath`) can be underlined
 * in the editor. Only for text that JSON.parse accepted.
 */

export interface Span {
  start: number;
  end: number;
}

export interface JsonNodeSpans {
  value: Span;
  /** The property's key (with its quotes) when the value is an object member. */
  key?: Span;
}

/** Every value's span by JSON Pointer (`''` is the root, `/a/0/b~1c` a nested one), from jsonc-parser's tree. */
export function locateJson(text: string): Map<string, JsonNodeSpans> {
  const spans = new Map<string, JsonNodeSpans>();
  const span = (n: JsonNode): Span => ({ start: n.offset, end: n.offset + n.length });
  const visit = (node: JsonNode, pointer: string, key?: Span): void => {
    spans.set(pointer, { value: span(node), ...(key ? { key } : {}) });
    if (node.type === 'object') {
      for (const prop of node.children ?? []) {
        const [name, value] = prop.children ?? [];
        if (name && value) visit(value, `${pointer}/${escapePointer(String(name.value))}`, span(name));
      }
    } else if (node.type === 'array') {
      (node.children ?? []).forEach((item, i) => visit(item, `${pointer}/${i}`));
    }
  };
  const root = parseTree(text);
  if (root) visit(root, '');
  return spans;
}

function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The part of a validation error worth underlining. */
export interface SchemaErrorLike {
  instancePath: string;
  keyword: string;
  params?: Record<string, unknown>;
}

/**
 * The span to underline for a validation error: an unknown property's key, the
 * key of a value of the wrong type (short and visible), else the value; for a
 * missing property the object's opening brace.
 */
export function spanOfError(spans: Map<string, JsonNodeSpans>, err: SchemaErrorLike): Span {
  const extra = err.keyword === 'additionalProperties' || err.keyword === 'unevaluatedProperties' ? err.params?.additionalProperty ?? err.params?.unevaluatedProperty : undefined;
  if (typeof extra === 'string') {
    const child = spans.get(`${err.instancePath}/${escapePointer(extra)}`);
    if (child?.key) return child.key;
  }
  const node = spans.get(err.instancePath) ?? spans.get('')!;
  if (err.keyword === 'required') return { start: node.value.start, end: node.value.start + 1 };
  return node.key && node.value.end - node.value.start > 80 ? node.key : node.value;
}
