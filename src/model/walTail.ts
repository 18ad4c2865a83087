import { RcpConnectionError, type RcpClient } from '../rcp';
import type { WalRecord } from '../rcp/types';

/** Where the WAL tail hands what it reads. */
export interface WalTailListener {
  /** One page of records in WAL order; `next` is where the next page starts. Awaited before reading on. */
  page(records: readonly WalRecord[], next: number): void | Promise<void>;
  /** The tail fell too far behind and skipped ahead to `offset`: what was counted may be off. */
  skipped(offset: number): void;
  failed(err: unknown): void;
}

export interface WalTailOptions {
  intervalMs?: number;
  /** Records read in one poll before giving up on catching up and skipping to the end. */
  catchUpLimit?: number;
}

const PAGE = 1000;
/** Records a poll reads before it gives up replaying them and skips to the end (the listener re-syncs). */
export const WAL_REPLAY_LIMIT = 20 * PAGE;

/**
 * Follows the WAL, a page at a time, for the change stream: the server sends
 * events only for transitions (and may lose them), so the WAL is how creates,
 * deletes, new machine versions and lost transitions are learnt.
 * Polls (one small WAL_READ a second when nothing happens), only while the
 * client is ready and the tail is active, and never two polls at once.
 */
export class WalTail {
  private cursor: number;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  /** The last read ended in an error (it did not reach the end of the WAL). */
  lastReadFailed = false;
  private active = true;
  private disposed = false;
  private readonly intervalMs: number;
  private readonly catchUpLimit: number;

  constructor(
    private readonly client: RcpClient,
    from: number,
    private readonly listener: WalTailListener,
    options: WalTailOptions = {},
  ) {
    this.cursor = from;
    this.intervalMs = options.intervalMs ?? 1000;
    this.catchUpLimit = options.catchUpLimit ?? WAL_REPLAY_LIMIT;
    this.schedule();
  }

  get isActive(): boolean {
    return this.active && !this.disposed;
  }

  /** Pause while nobody looks (the next poll after resuming catches up, or skips ahead). */
  setActive(active: boolean): void {
    this.active = active;
    if (active) void this.poll();
  }

  private schedule(): void {
    if (this.disposed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), this.intervalMs);
    this.timer.unref?.();
  }

  /** Read everything new now (also what the timer does); joins a poll already under way. */
  poll(): Promise<void> {
    if (this.polling) return this.polling;
    if (this.disposed || !this.active || this.client.state !== 'ready') {
      this.schedule();
      return Promise.resolve();
    }
    this.polling = this.read();
    return this.polling;
  }

  /** A poll that starts from now: one already under way may have begun before what the caller just did. */
  async pollFromNow(): Promise<void> {
    if (this.polling) await this.polling;
    await this.poll();
  }

  private async read(): Promise<void> {
    try {
      // Pages are handed on only once the poll has read them all: past catchUpLimit (a long gap,
      // after sleep or a lost link) none is, and the listener re-syncs instead of replaying them.
      const pages: { records: WalRecord[]; next: number }[] = [];
      let cursor = this.cursor;
      let read = 0;
      for (;;) {
        const page = await this.client.walRead({ from_offset: cursor, limit: PAGE });
        if (this.disposed) return;
        if (page.records.length === 0 || page.next_offset === null || page.next_offset <= cursor) break;
        pages.push({ records: page.records, next: page.next_offset });
        cursor = page.next_offset;
        read += page.records.length;
        if (page.records.length < PAGE) break;
        if (read >= this.catchUpLimit) {
          pages.length = 0;
          this.cursor = (await this.client.walStats()).latest_offset;
          this.listener.skipped(this.cursor);
          this.lastReadFailed = false;
          return;
        }
      }
      for (const { records, next } of pages) {
        await this.listener.page(records, next);
        if (this.disposed) return;
        this.cursor = next;
      }
      this.lastReadFailed = false;
    } catch (err) {
      this.lastReadFailed = true;
      // A dropped connection is the client's to mend; the next poll continues from the same place.
      if (!(err instanceof RcpConnectionError)) this.listener.failed(err);
    } finally {
      this.polling = undefined;
      this.schedule();
    }
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
  }
}
