/** "1 instance", "55 instances": counts shown to the user agree in number. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "1 version: v1", "2 versions: v1, v2". */
export function versionList(versions: number[]): string {
  const sorted = [...versions].sort((a, b) => a - b);
  return `${plural(sorted.length, 'version')}: ${sorted.map((v) => `v${v}`).join(', ')}`;
}

/** Which versions a machine-wide count covers: "v1, v2", or "4 versions" when the list would be long. */
export function acrossVersions(versions: number[]): string {
  const sorted = [...versions].sort((a, b) => a - b);
  return sorted.length <= 3 ? sorted.map((v) => `v${v}`).join(', ') : `${sorted.length} versions`;
}

/**
 * A long id shortened in the middle ("order-2026-11-…-000042"), so the row's
 * "updated 5m ago" stays in view at the default sidebar width. Both ends are
 * kept: ids usually differ at their start (kind) or their end (sequence).
 */
export function middleEllipsis(text: string, max = 28): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const head = Math.ceil((max - 1) / 2);
  const tail = max - 1 - head;
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - tail).join('')}`;
}
