import type { ContextChange } from '../protocol/inspector';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * What changed from one context to the next: keys added, removed and changed,
 * descending into objects so a change deep inside shows its own path. Arrays
 * are compared whole (an index shift would otherwise read as many changes).
 * The server reports an empty context as null: both sides treat it as {}.
 */
export function diffContext(before: unknown, after: unknown): ContextChange[] {
  const out: ContextChange[] = [];
  walk(isPlainObject(before) ? before : {}, isPlainObject(after) ? after : {}, [], out);
  return out;
}

function walk(a: Record<string, unknown>, b: Record<string, unknown>, path: string[], out: ContextChange[]): void {
  for (const key of Object.keys(a)) {
    if (!Object.prototype.hasOwnProperty.call(b, key)) out.push({ path: [...path, key], kind: 'removed', before: a[key] });
  }
  for (const key of Object.keys(b)) {
    const p = [...path, key];
    if (!Object.prototype.hasOwnProperty.call(a, key)) {
      out.push({ path: p, kind: 'added', after: b[key] });
    } else if (isPlainObject(a[key]) && isPlainObject(b[key])) {
      walk(a[key] as Record<string, unknown>, b[key] as Record<string, unknown>, p, out);
    } else if (!sameJson(a[key], b[key])) {
      out.push({ path: p, kind: 'changed', before: a[key], after: b[key] });
    }
  }
}
