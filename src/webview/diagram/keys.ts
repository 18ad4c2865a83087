/**
 * Keyboard movement on the diagram, as plain math (no DOM, so node:test runs
 * it): the arrow keys move a roving focus to the nearest state or transition
 * label in the arrow's direction, the way the eye reads the drawing.
 */

export type Direction = 'left' | 'right' | 'up' | 'down';

/** A focusable place on the diagram: a state's centre or a transition label's centre (world coordinates). */
export interface Spot {
  key: string;
  x: number;
  y: number;
}

export const ARROW_KEYS: Readonly<Record<string, Direction>> = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down' };

/**
 * The spot to move to from `from` in a direction: among those ahead of it
 * (more than a pixel along the arrow), the one nearest counting sideways
 * distance twice, so a key moves along its row or column before it jumps
 * across. Undefined when nothing lies that way (focus stays).
 */
export function nextSpot(spots: Iterable<Spot>, from: Spot, dir: Direction): Spot | undefined {
  let best: Spot | undefined;
  let bestScore = Infinity;
  for (const s of spots) {
    if (s.key === from.key) continue;
    const dx = s.x - from.x;
    const dy = s.y - from.y;
    const along = dir === 'right' ? dx : dir === 'left' ? -dx : dir === 'down' ? dy : -dy;
    const aside = Math.abs(dir === 'left' || dir === 'right' ? dy : dx);
    if (along <= 1) continue;
    const score = along + 2 * aside;
    if (score < bestScore) {
      best = s;
      bestScore = score;
    }
  }
  return best;
}

/**
 * How far to pan (screen pixels) so a world point scaled by `k` and shifted by
 * (x, y) sits at least `margin` inside a `w`×`h` view; zero when it already does.
 */
export function panToShow(view: { k: number; x: number; y: number }, wx: number, wy: number, w: number, h: number, margin = 40): { dx: number; dy: number } {
  const sx = wx * view.k + view.x;
  const sy = wy * view.k + view.y;
  const m = Math.min(margin, w / 2, h / 2);
  const dx = sx < m ? m - sx : sx > w - m ? w - m - sx : 0;
  const dy = sy < m ? m - sy : sy > h - m ? h - m - sy : 0;
  return { dx, dy };
}
