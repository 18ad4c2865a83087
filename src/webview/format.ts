/** Dates as the header shows them: local time with a relative hint. */
export function when(ms: number | undefined, now = Date.now()): string {
  if (!ms) return '—';
  const d = new Date(ms);
  const s = Math.round((now - ms) / 1000);
  const rel = s < 5 ? 'just now' : s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : s < 86400 ? `${Math.floor(s / 3600)}h ago` : `${Math.floor(s / 86400)}d ago`;
  return `${d.toLocaleString()} (${rel})`;
}
