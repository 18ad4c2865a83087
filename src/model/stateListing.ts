import type { InstanceSummary } from '../rcp/types';

/**
 * Live arrivals kept per state listing. Past it the oldest arrival's row is
 * dropped (it stays counted, and a later page may list it again): an expanded
 * state that receives a million instances keeps at most this many rows on top
 * of the pages the user loaded.
 */
export const LIVE_ARRIVALS_CAP = 1000;

/**
 * The rows of one machine version's state, as the tree shows them: live
 * arrivals first (newest first), then the server's pages in the server's
 * order. Both are insertion-ordered maps, so an instance leaving or arriving
 * costs O(1) however long the list is. Which listing holds an instance is
 * decided by the change stream (one row per instance per connection).
 */
export class StateListing {
  /** Live arrivals, oldest first (rendered newest first). */
  readonly arrivals = new Map<string, InstanceSummary>();
  /** Rows the server listed, in its order. */
  readonly paged = new Map<string, InstanceSummary>();
  /**
   * Ids of the server's rows (all versions) the pages have gone past and that
   * are still in this state as far as the stream knows. LIST_INSTANCES has no
   * version filter and lists in hash order, and rows leave or arrive anywhere
   * in that order between pages, so a bare count of rows consumed drifts: the
   * next page is asked from a little before where the count says, and it is
   * checked to start on a row already read past (else asked again further back).
   */
  readonly readPast = new Set<string>();
  /** Where the next page probably starts in the server's list: rows read past, less those known to have left since. */
  position = 0;
  hasMore = false;
  /** The first page has been read since the last reset. */
  loaded = false;
  loading: Promise<void> | undefined;
  error: string | undefined;
  /** Bumped by reset, so a page asked for before it is dropped. */
  epoch = 0;
  /** Pages in flight while rows left: a page must not list them again (set by the stream). */
  readonly leftWhileLoading = new Set<string>();
  /**
   * Rows that arrived live before the last reset, in the order they were shown
   * (newest first). After a refresh the server lists them in its own order, but
   * they keep their place on top, so a refresh never makes rows jump.
   */
  private placed: string[] = [];

  constructor(
    readonly machine: string,
    readonly version: number,
    readonly state: string,
  ) {}

  get size(): number {
    return this.arrivals.size + this.paged.size;
  }

  has(id: string): boolean {
    return this.arrivals.has(id) || this.paged.has(id);
  }

  get(id: string): InstanceSummary | undefined {
    return this.arrivals.get(id) ?? this.paged.get(id);
  }

  /** Rows in display order: newest arrival first, then earlier arrivals the pages listed again, then the pages. */
  rows(): InstanceSummary[] {
    const out = [...this.arrivals.values()].reverse();
    if (!this.placed.length) {
      for (const s of this.paged.values()) out.push(s);
      return out;
    }
    const first = new Set<string>();
    for (const id of this.placed) {
      const s = this.paged.get(id);
      if (s) {
        out.push(s);
        first.add(id);
      }
    }
    for (const s of this.paged.values()) if (!first.has(s.id)) out.push(s);
    return out;
  }

  /** Put a live arrival on top. Returns the id of an arrival dropped for the cap, if any. */
  arrive(s: InstanceSummary): string | undefined {
    this.paged.delete(s.id);
    this.arrivals.delete(s.id);
    this.arrivals.set(s.id, s);
    if (this.arrivals.size <= LIVE_ARRIVALS_CAP) return undefined;
    const oldest = this.arrivals.keys().next().value!;
    this.arrivals.delete(oldest);
    return oldest;
  }

  /** Replace what is shown for a listed instance, where it is. */
  update(s: InstanceSummary): void {
    if (this.arrivals.has(s.id)) this.arrivals.set(s.id, s);
    else if (this.paged.has(s.id)) this.paged.set(s.id, s);
  }

  /** Remove a row (O(1)). Returns what was shown. */
  remove(id: string): InstanceSummary | undefined {
    const arrived = this.arrivals.get(id);
    if (arrived) {
      this.arrivals.delete(id);
      return arrived;
    }
    const paged = this.paged.get(id);
    if (!paged) return undefined;
    this.paged.delete(id);
    return paged;
  }

  /** A row read past left the state on the server (any version): the next page starts one row earlier. */
  leftServerList(id: string): void {
    if (this.readPast.delete(id) && this.position > 0) this.position--;
  }

  reset(): void {
    // What was on top stays on top once the pages list it again (arrivals, then those placed before).
    const onTop = [...this.arrivals.keys()].reverse();
    const kept = new Set(onTop);
    // Those placed before stay placed if still listed, or if nothing was read since the last reset (a reset twice in a row).
    for (const id of this.placed) if ((!this.loaded || this.paged.has(id)) && !kept.has(id)) onTop.push(id);
    this.placed = onTop.slice(0, LIVE_ARRIVALS_CAP);
    this.epoch++;
    this.arrivals.clear();
    this.paged.clear();
    this.leftWhileLoading.clear();
    this.readPast.clear();
    this.position = 0;
    this.hasMore = false;
    this.loaded = false;
    this.loading = undefined;
    this.error = undefined;
  }
}
