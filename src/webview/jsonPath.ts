/** JSON paths and value previews for the context tree and the history diff (no DOM). */

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `ctx.a.b[0]["odd key"]`: a path a developer can paste into code or a guard. */
export function formatPath(path: (string | number)[], root = 'ctx'): string {
  let out = root;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** One line of a value: strings quoted, objects and arrays summarised, long text cut. */
export function preview(v: unknown, max = 80): string {
  let s: string;
  if (Array.isArray(v)) s = v.length === 0 ? '[]' : `Array(${v.length})`;
  else if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    s = keys.length === 0 ? '{}' : `{${keys.slice(0, 4).join(', ')}${keys.length > 4 ? ', …' : ''}}`;
  } else s = v === undefined ? 'undefined' : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The value as it would be copied: JSON, pretty for objects. */
export function copyText(v: unknown): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(v, null, 2) ?? 'undefined';
}

export function valueKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}
