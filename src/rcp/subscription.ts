import { EventEmitter } from 'node:events';
import type { RcpEvent, WatchAllParams, WatchInstanceParams } from './types';

export type SubscriptionSpec =
  | { kind: 'all'; params: WatchAllParams }
  | { kind: 'instance'; params: WatchInstanceParams };

/** What a subscription needs from its client: (re)subscribing and reading the WAL. */
export interface SubscriptionHost {
  unwatch(sub: Subscription): Promise<void>;
}

/**
 * A live stream of events: an EventEmitter ('event', 'error', 'end', and
 * 'resumed' once the events missed during a reconnect are delivered) and an
 * async iterable. It outlives reconnects: `id` changes when the client
 * re-subscribes, and events applied while it was away are filled in from the
 * WAL, in order, with none delivered twice.
 */
export class Subscription extends EventEmitter implements AsyncIterable<RcpEvent> {
  /** The server's current subscription_id. */
  id: string;
  /** The next WAL offset this subscription has not delivered yet. */
  resumeFrom: number;
  /** Re-subscriptions started; a gap fill that is no longer the latest stops delivering. */
  recoveries = 0;
  private ended = false;
  private closing = false;
  private readonly queue: RcpEvent[] = [];
  private readonly waiters: ((r: IteratorResult<RcpEvent>) => void)[] = [];
  private iterating = false;
  /** Live events that arrive while a gap is being filled wait here. */
  private held: RcpEvent[] | undefined;

  constructor(
    readonly spec: SubscriptionSpec,
    id: string,
    resumeFrom: number,
    private readonly host: SubscriptionHost,
  ) {
    super();
    this.id = id;
    this.resumeFrom = resumeFrom;
  }

  /** Ended, or close() was called (its UNWATCH may still be on the way). */
  get closed(): boolean {
    return this.ended || this.closing;
  }

  /** Does a transition match this subscription's filters? */
  matches(e: { instance_id: string; machine?: string; event: string; from_state: string; to_state: string }): boolean {
    if (this.spec.kind === 'instance') return e.instance_id === this.spec.params.instance_id;
    const f = this.spec.params;
    if (f.machines && (e.machine === undefined || !f.machines.includes(e.machine))) return false;
    if (f.events && !f.events.includes(e.event)) return false;
    if (f.from_states && !f.from_states.includes(e.from_state)) return false;
    if (f.to_states && !f.to_states.includes(e.to_state)) return false;
    return true;
  }

  get includeCtx(): boolean {
    return this.spec.params.include_ctx ?? true;
  }

  /**
   * Start holding live events back (a gap is about to be filled). Events held
   * by an earlier attempt that did not finish are dropped: the WAL replay from
   * `resumeFrom` covers them.
   */
  hold(): void {
    this.held = [];
  }

  /** True while a gap after a reconnect is being filled (live events are held back). */
  get recovering(): boolean {
    return this.held !== undefined;
  }

  /** The gap is filled: deliver what was held and say so ('resumed'). */
  resume(): void {
    this.release();
    this.emit('resumed');
  }

  /** Deliver what the gap held, then let live events through again. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const e of held) this.deliver(e);
  }

  /** Hands an event to listeners and the iterator, unless it was delivered already. `replayed` events skip the hold. */
  deliver(e: RcpEvent, replayed = false): void {
    if (this.ended) return;
    if (this.held && !replayed) {
      this.held.push(e);
      return;
    }
    if (e.wal_offset < this.resumeFrom) return;
    this.resumeFrom = e.wal_offset + 1;
    const event = { ...e, subscription_id: this.id };
    const waiter = this.waiters.shift();
    if (waiter) waiter({ value: event, done: false });
    else if (this.iterating) this.queue.push(event);
    this.emit('event', event);
  }

  /** Ends the stream from the client's side (connection given up, client closed). */
  end(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    if (err && this.listenerCount('error') > 0) this.emit('error', err);
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
    this.emit('end');
  }

  /** Sends UNWATCH and ends the stream. */
  async close(): Promise<void> {
    if (this.ended || this.closing) return;
    this.closing = true;
    try {
      await this.host.unwatch(this);
    } finally {
      this.end();
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<RcpEvent> {
    this.iterating = true;
    return {
      next: () => {
        const value = this.queue.shift();
        if (value) return Promise.resolve({ value, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiters.push(resolve));
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }
}
