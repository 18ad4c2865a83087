const UNITS: [number, string][] = [
  [365 * 24 * 3600_000, 'y'],
  [30 * 24 * 3600_000, 'mo'],
  [7 * 24 * 3600_000, 'w'],
  [24 * 3600_000, 'd'],
  [3600_000, 'h'],
  [60_000, 'm'],
  [1000, 's'],
];

/** "just now", "5m ago", "3d ago" for a Unix-millisecond time. */
export function relativeTime(ms: number, now = Date.now()): string {
  const diff = now - ms;
  if (diff < 5000) return 'just now';
  for (const [size, unit] of UNITS) {
    if (diff >= size) return `${Math.floor(diff / size)}${unit} ago`;
  }
  return 'just now';
}
