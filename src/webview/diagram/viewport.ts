/** Pan and zoom as plain math: a view is a scale k and a translation (x, y), screen = world * k + (x, y). */
export interface View {
  k: number;
  x: number;
  y: number;
  /** Still the automatic fit (refit on resize) until the user moves the view. */
  fitted: boolean;
}

export const MIN_ZOOM = 0.1;
export const MAX_ZOOM = 4;

export function clampZoom(k: number): number {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, k));
}

/** The whole graph, centred, never enlarged above 1×. */
export function fit(graphW: number, graphH: number, viewW: number, viewH: number, margin = 12): View {
  if (graphW <= 0 || graphH <= 0 || viewW <= 0 || viewH <= 0) return { k: 1, x: 0, y: 0, fitted: true };
  const k = clampZoom(Math.min(1, (viewW - 2 * margin) / graphW, (viewH - 2 * margin) / graphH));
  return { k, x: (viewW - graphW * k) / 2, y: (viewH - graphH * k) / 2, fitted: true };
}

/** Zoom by a factor about a screen point, which stays where it is. */
export function zoomAt(v: View, factor: number, sx: number, sy: number): View {
  const k = clampZoom(v.k * factor);
  const wx = (sx - v.x) / v.k;
  const wy = (sy - v.y) / v.k;
  return { k, x: sx - wx * k, y: sy - wy * k, fitted: false };
}

export function pan(v: View, dx: number, dy: number): View {
  return { ...v, x: v.x + dx, y: v.y + dy, fitted: false };
}

/** The translation that brings a world point to the centre of the screen (keeping the zoom). */
export function centreOn(v: View, wx: number, wy: number, viewW: number, viewH: number): View {
  return { ...v, x: viewW / 2 - wx * v.k, y: viewH / 2 - wy * v.k, fitted: false };
}

export function validView(v: unknown): v is View {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return [o.k, o.x, o.y].every((n) => typeof n === 'number' && Number.isFinite(n)) && (o.k as number) > 0 && typeof o.fitted === 'boolean';
}
