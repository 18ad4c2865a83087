/**
 * A message as one trace line, whatever the server sent: JSON.stringify would
 * throw on 100,000 nested arrays (and write megabytes for a huge result), so
 * this walks the value itself with caps on depth, on entries per level and on
 * the line's length.
 */

/** Levels shown before a nested value is written as `[…]` or `{…}`. */
export const TRACE_MAX_DEPTH = 8;
/** Entries shown per array or object before `…+N`. */
export const TRACE_MAX_ENTRIES = 50;
/** Characters in one trace line (the rest is cut with a note of how much). */
export const TRACE_MAX_CHARS = 4000;

export function formatTrace(message: unknown): string {
  const out: string[] = [];
  let length = 0;
  let full = false;
  const write = (s: string) => {
    if (full) return;
    out.push(s);
    length += s.length;
    if (length > TRACE_MAX_CHARS) full = true;
  };
  const walk = (v: unknown, depth: number): void => {
    if (full) return;
    if (v === null || typeof v !== 'object') {
      write(typeof v === 'string' ? JSON.stringify(v.length > TRACE_MAX_CHARS ? v.slice(0, TRACE_MAX_CHARS) : v) : v === undefined ? 'undefined' : String(v));
      return;
    }
    const isArray = Array.isArray(v);
    if (depth >= TRACE_MAX_DEPTH) {
      write(isArray ? '[…]' : '{…}');
      return;
    }
    const keys = isArray ? undefined : Object.keys(v);
    const n = isArray ? v.length : keys!.length;
    write(isArray ? '[' : '{');
    for (let i = 0; i < Math.min(n, TRACE_MAX_ENTRIES) && !full; i++) {
      if (i > 0) write(',');
      if (isArray) {
        walk(v[i], depth + 1);
      } else {
        write(`${JSON.stringify(keys![i])}:`);
        walk((v as Record<string, unknown>)[keys![i]], depth + 1);
      }
    }
    if (n > TRACE_MAX_ENTRIES) write(`,…+${n - TRACE_MAX_ENTRIES}`);
    write(isArray ? ']' : '}');
  };
  walk(message, 0);
  const line = out.join('');
  return line.length > TRACE_MAX_CHARS ? `${line.slice(0, TRACE_MAX_CHARS)}… (cut at ${TRACE_MAX_CHARS} characters)` : line;
}
