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
  /** How many of the server's rows (all versions) the pages have consumed: the next page's offset. */
  serverOffset = 0;
  hasMore = false;
  /** The first page has been read since the last reset. */
  loaded = false;
  loading: Promise<void> | undefined;
  error: string | undefined;
  /** Bumped by reset, so a page asked for before it is dropped. */
  epoch = 0;
  /** Pages in flight while rows left: a page must not list them again (set by the stream). */
  readonly leftWhileLoading = new Set<string>();

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

  /** Rows in display order: newest arrival first, then the pages. */
  rows(): InstanceSummary[] {
    const out = [...this.arrivals.values()].reverse();
    for (const s of this.paged.values()) out.push(s);
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
    // The server's list shrank before the next page's offset.
    if (this.serverOffset > 0) this.serverOffset--;
    return paged;
  }

  reset(): void {
    this.epoch++;
    this.arrivals.clear();
    this.paged.clear();
    this.leftWhileLoading.clear();
    this.serverOffset = 0;
    this.hasMore = false;
    this.loaded = false;
    this.loading = undefined;
    this.error = undefined;
  }
}
