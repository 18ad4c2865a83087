/** Which rows of a fixed-height list to render: the visible ones plus some overscan either side. */
export function listWindow(scrollTop: number, viewHeight: number, rowHeight: number, count: number, overscan = 8): { first: number; count: number } {
  if (count <= 0 || rowHeight <= 0) return { first: 0, count: 0 };
  const top = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const visible = Math.ceil(Math.max(0, viewHeight) / rowHeight) + 2 * overscan + 1;
  const first = Math.min(top, Math.max(0, count - 1));
  return { first, count: Math.max(0, Math.min(visible, count - first)) };
}
