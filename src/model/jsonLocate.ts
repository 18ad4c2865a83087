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

/** Every value's span by JSON Pointer (`''` is the root, `/a/0/b~1c` a nested one). */
export function locateJson(text: string): Map<string, JsonNodeSpans> {
  const spans = new Map<string, JsonNodeSpans>();
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (pointer: string, key?: Span): void => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      while (text[i] !== '}' && i < text.length) {
        ws();
        const keyStart = i;
        const name = str();
        const keySpan = { start: keyStart, end: i };
        ws();
        i++; // ':'
        value(`${pointer}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`, keySpan);
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '[') {
      i++;
      ws();
      let n = 0;
      while (text[i] !== ']' && i < text.length) {
        value(`${pointer}/${n++}`);
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && /[^\s,\]}]/.test(text[i])) i++;
    }
    spans.set(pointer, { value: { start, end: i }, key });
  };
  value('');
  return spans;
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
    const child = spans.get(`${err.instancePath}/${extra.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (child?.key) return child.key;
  }
  const node = spans.get(err.instancePath) ?? spans.get('')!;
  if (err.keyword === 'required') return { start: node.value.start, end: node.value.start + 1 };
  return node.key && node.value.end - node.value.start > 80 ? node.key : node.value;
}
