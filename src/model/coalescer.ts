/**
 * Collects keys marked dirty and hands them over in one batch at most once per
 * interval, so a burst of events becomes a few refreshes instead of thousands.
 */
export class Coalescer<T> {
  private dirty = new Set<T>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = 0;
  private disposed = false;
  /** Batches handed over so far. */
  flushes = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly flush: (batch: Set<T>) => void,
  ) {}

  add(key: T): void {
    if (this.disposed) return;
    this.dirty.add(key);
    if (this.timer) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.run(), wait);
  }

  private run(): void {
    this.timer = undefined;
    if (this.dirty.size === 0) return;
    const batch = this.dirty;
    this.dirty = new Set();
    this.lastFlush = Date.now();
    this.flushes++;
    this.flush(batch);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.dirty.clear();
  }
}
