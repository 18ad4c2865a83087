/**
 * A click on a tree row arrives as the row's command, once per click; VS Code
 * tells nothing else. Like VS Code's Explorer, a single click shows the item
 * and leaves the keyboard in the tree, while a double-click (two clicks on the
 * same row in quick succession) or Enter moves focus to what was opened.
 */

/** The argument a row's own command carries, so a click is told from a palette or menu call. */
export const ROW_CLICK = 'rstmdb.rowClick';

/** Longest gap between the two clicks of a double-click (VS Code's own is 500 ms). */
const DOUBLE_CLICK_MS = 500;

export class RowClicks {
  private last: { key: string; at: number } | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Records a click on the row `key`; true when it completes a double-click. */
  click(key: string): boolean {
    const at = this.now();
    const double = this.last !== undefined && this.last.key === key && at - this.last.at <= DOUBLE_CLICK_MS;
    // A third click starts a new pair rather than counting as another double-click.
    this.last = double ? undefined : { key, at };
    return double;
  }
}
