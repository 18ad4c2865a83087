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
 * Live events held back while a gap is filled, at most. Past it the fill is
 * given up: the held events are dropped, 'resync' tells the subscriber to
 * re-read what it shows, and live delivery carries on from there. (At a few
 * hundred bytes an event, about 5 MB.)
 */
export const HELD_LIMIT = 10_000;

/**
 * Events kept for a subscriber that has not attached an 'event' listener or an
 * iterator yet, at most. Past it the oldest are dropped and 'resync' is
 * emitted first when the subscriber attaches.
 */
export const BACKLOG_LIMIT = 10_000;

/**
 * A live stream of events: an EventEmitter and an async iterable.
 *
 * What a subscriber can rely on:
 * - Nothing is lost before it attaches: events are kept until the first
 *   'event' listener or iterator (handed over after the current tick).
 * - Each WAL offset is delivered once, in increasing order (an idempotent
 *   APPLY replay the server broadcasts again is dropped).
 * - It outlives reconnects: `id` changes when the client re-subscribes, and
 *   events applied while it was away are filled in from the WAL, then
 *   'resumed' is emitted. When they cannot all be filled in (too many live
 *   events arrived meanwhile, or the gap is longer than GAP_REPLAY_LIMIT WAL
 *   records), 'resync' is emitted instead: re-read what you show.
 * - It always ends: 'end' (after 'error' when it failed) once it is closed,
 *   the server gives up on it, or the client is closed.
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
  /** Events accepted before anyone listened; undefined once handed over. */
  private backlog: RcpEvent[] | undefined = [];
  private backlogDropped = false;
  private handOverScheduled = false;

  constructor(
    readonly spec: SubscriptionSpec,
    id: string,
    resumeFrom: number,
    private readonly host: SubscriptionHost,
  ) {
    super();
    this.id = id;
    this.resumeFrom = resumeFrom;
    // 'newListener' runs before the listener is added: hand the backlog over once it is.
    this.on('newListener', (name: string) => {
      if (name !== 'event' || !this.backlog || this.handOverScheduled) return;
      this.handOverScheduled = true;
      queueMicrotask(() => this.handOver());
    });
  }

  /** Ended, or close() was called (its UNWATCH may still be on the way). */
  get closed(): boolean {
    return this.ended || this.closing;
  }

  /** Does a transition match this subscription's filters? An empty list is no filter (as on the server). */
  matches(e: { instance_id: string; machine?: string; event: string; from_state: string; to_state: string }): boolean {
    if (this.spec.kind === 'instance') return e.instance_id === this.spec.params.instance_id;
    if (!this.matchesWithoutMachine(e)) return false;
    const machines = this.spec.params.machines;
    return !machines?.length || (e.machine !== undefined && machines.includes(e.machine));
  }

  /** The filters that need no lookup: instance id, event and states. */
  matchesWithoutMachine(e: { instance_id: string; event: string; from_state: string; to_state: string }): boolean {
    if (this.spec.kind === 'instance') return e.instance_id === this.spec.params.instance_id;
    const f = this.spec.params;
    const within = (list: string[] | undefined, v: string) => !list?.length || list.includes(v);
    return within(f.events, e.event) && within(f.from_states, e.from_state) && within(f.to_states, e.to_state);
  }

  /** True when matching needs the instance's machine (a WATCH_ALL with a machines filter). */
  get filtersByMachine(): boolean {
    return this.spec.kind === 'all' && !!this.spec.params.machines?.length;
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
      if (this.held.length < HELD_LIMIT) {
        this.held.push(e);
        return;
      }
      this.giveUpFill(e);
    }
    if (e.wal_offset < this.resumeFrom) return;
    this.resumeFrom = e.wal_offset + 1;
    const event = { ...e, subscription_id: this.id };
    if (this.backlog) {
      if (this.backlog.length >= BACKLOG_LIMIT) {
        this.backlog.shift();
        this.backlogDropped = true;
      }
      this.backlog.push(event);
      return;
    }
    this.emitEvent(event);
  }

  /**
   * The gap is too long to replay record by record (see GAP_REPLAY_LIMIT): skip
   * it and tell the subscriber to re-read what it shows. Live events held
   * meanwhile are delivered as usual once the client calls resume().
   */
  skipGap(liveFrom: number): void {
    this.resumeFrom = Math.max(this.resumeFrom, liveFrom);
    this.emit('resync');
  }

  /** Too much arrived during a gap fill: stop the fill, skip the gap, tell the subscriber to re-read. */
  private giveUpFill(next: RcpEvent): void {
    this.recoveries++; // the fill in progress is no longer current and stops
    this.held = undefined;
    this.resumeFrom = Math.max(this.resumeFrom, next.wal_offset);
    this.emit('resync');
  }

  private emitEvent(event: RcpEvent): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter({ value: event, done: false });
    else if (this.iterating) this.queue.push(event);
    this.emit('event', event);
  }

  /** The first listener or iterator is attached: deliver what came before it, in order. */
  private handOver(): void {
    const backlog = this.backlog;
    if (!backlog) return;
    this.backlog = undefined;
    if (this.backlogDropped) this.emit('resync');
    for (const e of backlog) this.emitEvent(e);
  }

  /** Ends the stream from the client's side (connection given up, client closed). */
  end(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.held = undefined;
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
    this.handOver();
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
