import { RcpConnectionError, type RcpClient } from '../rcp';
import type { WalEntry } from '../rcp/types';

/** What the WAL says happened that no subscription reports. */
export interface WalTailListener {
  created(e: { instance_id: string; machine: string; version: number; state: string; wal_offset: number }): void;
  deleted(instanceId: string): void;
  /** A transition, as the WAL has it (a subscription may have lost it: the server drops events for slow readers). */
  applied(e: { instance_id: string; event: string; from_state: string; to_state: string; wal_offset: number }): void;
  machinePut(machine: string, version: number): void;
  /** The tail fell too far behind and skipped ahead: what was counted may be off. */
  skipped(): void;
  failed(err: unknown): void;
}

export interface WalTailOptions {
  intervalMs?: number;
  /** Records read in one poll before giving up on catching up and skipping to the end. */
  catchUpLimit?: number;
}

const PAGE = 1000;

/**
 * Follows the WAL for creates, deletes and machine versions: the server sends
 * events only for transitions, so without this a tree would not see an
 * instance created by the application under development until a refresh.
 * Transitions are reported too, so a view can notice one its subscription lost.
 * Polls (one small WAL_READ a second when nothing happens), only while the
 * client is ready and the tail is active, and never two polls at once.
 */
export class WalTail {
  private cursor: number;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
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
    this.catchUpLimit = options.catchUpLimit ?? 20 * PAGE;
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
      let read = 0;
      for (;;) {
        const page = await this.client.walRead({ from_offset: this.cursor, limit: PAGE });
        if (this.disposed) return;
        for (const rec of page.records) this.handle(rec.entry, rec.offset);
        if (page.records.length === 0 || page.next_offset === null || page.next_offset <= this.cursor) break;
        this.cursor = page.next_offset;
        read += page.records.length;
        if (page.records.length < PAGE) break;
        if (read >= this.catchUpLimit) {
          this.cursor = (await this.client.walStats()).latest_offset;
          this.listener.skipped();
          break;
        }
      }
    } catch (err) {
      // A dropped connection is the client's to mend; the next poll continues from the same place.
      if (!(err instanceof RcpConnectionError)) this.listener.failed(err);
    } finally {
      this.polling = undefined;
      this.schedule();
    }
  }

  private handle(e: WalEntry, offset: number): void {
    if (e.type === 'create_instance') {
      this.listener.created({ instance_id: e.instance_id, machine: e.machine, version: e.version, state: e.initial_state, wal_offset: offset });
    } else if (e.type === 'delete_instance') {
      this.listener.deleted(e.instance_id);
    } else if (e.type === 'apply_event') {
      this.listener.applied({ instance_id: e.instance_id, event: e.event, from_state: e.from_state, to_state: e.to_state, wal_offset: offset });
    } else if (e.type === 'put_machine') {
      this.listener.machinePut(e.machine, e.version);
    }
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
  }
}
