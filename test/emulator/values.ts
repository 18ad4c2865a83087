/** JSON value helpers that mirror serde_json's Value (sorted keys, its type names). */

/** Objects with keys in sorted order at every level, as serde_json's Value (a BTreeMap) writes them. */
export function sortKeysDeep(v: unknown): unknown {
  return isSortedDeep(v) ? v : sortedCopy(v);
}

/** Most values are already in order (stored contexts are): checking is cheaper than copying. */
function isSortedDeep(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v)) return v.every(isSortedDeep);
  let prev: string | undefined;
  for (const k in v as Record<string, unknown>) {
    if (prev !== undefined && !(prev < k)) return false;
    if (!isSortedDeep((v as Record<string, unknown>)[k])) return false;
    prev = k;
  }
  return true;
}

function sortedCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) {
    if (k === '__proto__') Object.defineProperty(out, k, { value: sortKeysDeep(o[k]), enumerable: true, writable: true, configurable: true });
    else out[k] = sortKeysDeep(o[k]);
  }
  return out;
}

/** How serde names an unexpected value: `integer \`5\``, `string "x"`, `map`, … */
export function describeJson(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'boolean') return `boolean \`${v}\``;
  if (typeof v === 'number') return Number.isInteger(v) ? `integer \`${v}\`` : `floating point \`${v}\``;
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (Array.isArray(v)) return 'sequence';
  return 'map';
}
