import { EventEmitter } from 'node:events';
import type { Connection, ConnectionOptions, TlsOptions, TraceFn } from './connection';
import { RcpConnectionError, RcpError } from './errors';
import { connectionBreakingProblem, UnsendableDefinitionError } from './definition';
import { LruMap } from './lru';
import { Slot, type ReconnectOptions } from './slot';
import { Subscription, type SubscriptionHost, type SubscriptionSpec } from './subscription';
import type {
  ApplyEventParams,
  ApplyEventResult,
  BatchParams,
  BatchResult,
  CompactParams,
  CompactResult,
  CreateInstanceParams,
  CreateInstanceResult,
  DeleteInstanceParams,
  DeleteInstanceResult,
  GetInstanceParams,
  GetInstanceResult,
  GetMachineParams,
  GetMachineResult,
  HelloResult,
  InfoResult,
  ListInstancesParams,
  ListInstancesResult,
  ListMachinesResult,
  PutMachineParams,
  PutMachineResult,
  RcpEvent,
  SnapshotInstanceResult,
  WalReadParams,
  WalReadResult,
  WalEntry,
  WalStatsResult,
  WatchAllParams,
  WatchAllResult,
  WatchInstanceParams,
  WatchInstanceResult,
  WireMode,
} from './types';

export interface RcpClientOptions {
  host: string;
  port: number;
  /** Bearer token, sent with AUTH on every (re)connect. */
  token?: string;
  clientName?: string;
  /** TLS when present; the server certificate is verified unless `rejectUnauthorized: false`. */
  tls?: TlsOptions;
  /** Preferred response format; the server picks binary_json whenever it may. */
  wireMode?: WireMode;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** PING an idle connection this often (the server drops idle ones after 300 s); 0 turns it off. */
  keepAliveMs?: number;
  reconnect?: Partial<ReconnectOptions>;
  /** Connections that share request traffic (subscriptions have their own). */
  poolSize?: number;
  /** Sees every message sent and received, tokens redacted. For logs. Whatever it throws is ignored. */
  trace?: TraceFn;
  /** Told, in a sentence, about what the client skipped (a malformed event, for instance). For logs. */
  warn?: (message: string) => void;
}

export type ClientState = 'connecting' | 'ready' | 'reconnecting' | 'closed';

/** What a caller of one request wants to hear about it. */
export interface RequestHooks {
  /** The connection dropped after the request was written; it is being sent again (same params, same idempotency key). */
  onResend?(): void;
}

/** Ops that only read: safe to send again after a reconnect. */
const READ_OPS = new Set([
  'PING', 'INFO', 'GET_MACHINE', 'LIST_MACHINES', 'GET_INSTANCE', 'LIST_INSTANCES', 'WAL_READ', 'WAL_STATS',
]);

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveMs: 60_000,
  reconnect: { enabled: false, initialDelayMs: 250, maxDelayMs: 10_000, maxAttempts: Infinity } as ReconnectOptions,
};

/**
 * Bytes of events for subscription ids the client does not know, kept while a
 * WATCH answer is on its way (an event can beat it). Only then: with no WATCH
 * in flight they belong to a subscription already closed and are dropped at
 * once. Past the limit the oldest go first.
 */
const ORPHAN_BYTES_LIMIT = 1024 * 1024;

/** Instances whose machine is remembered for gap filling (least recently seen forgotten first; ~100 bytes each). */
const INSTANCE_CACHE_LIMIT = 10_000;

/**
 * WAL records a gap fill replays, at most. A longer gap (a laptop asleep over a
 * busy night) is not replayed record by record: the subscription skips it and
 * emits 'resync', so its subscriber re-reads what it shows (cheaper than
 * tens of thousands of events, and it holds at most this many candidates).
 */
export const GAP_REPLAY_LIMIT = 20_000;

/** GET_INSTANCE ops per BATCH when gap filling looks machines up (the server's max_batch_ops is 100). */
const LOOKUP_BATCH_OPS = 100;

/**
 * rstmdb's RCP client. `RcpClient.connect()` resolves once every pooled
 * connection has said HELLO (and AUTH). Emits 'state' (ClientState, error?).
 */
export class RcpClient extends EventEmitter implements SubscriptionHost {
  /** The HELLO result of the first connection. */
  server!: HelloResult;
  private readonly pool: Slot[] = [];
  private subscriptionSlot: Slot | undefined;
  private subscriptionSlotStarting: Promise<Slot> | undefined;
  /** Slots still saying HELLO: close() must end them too. */
  private readonly startingSlots = new Set<Slot>();
  /** Routing: the server's current subscription_id → subscription. */
  private readonly subscriptions = new Map<string, Subscription>();
  /** Every subscription not closed yet, routed or not (one being re-subscribed is in here only). */
  private readonly liveSubscriptions = new Set<Subscription>();
  /** Events for unknown subscription ids, while a WATCH is in flight (see ORPHAN_BYTES_LIMIT). */
  private orphans: { event: RcpEvent; bytes: number }[] = [];
  private orphanBytes = 0;
  private watchesInFlight = 0;
  /** instance id → its machine and version, learned from events and the WAL (gap-fill needs them). */
  private readonly instanceMachines = new LruMap<string, { machine: string; version: number }>(INSTANCE_CACHE_LIMIT);
  private currentState: ClientState = 'connecting';
  private closing = false;
  private readonly connectionOptions: ConnectionOptions;
  private readonly reconnectOptions: ReconnectOptions;
  readonly address: string;

  private constructor(private readonly options: RcpClientOptions) {
    super();
    this.address = `${options.host}:${options.port}`;
    this.connectionOptions = {
      host: options.host,
      port: options.port,
      token: options.token,
      clientName: options.clientName,
      tls: options.tls,
      wireMode: options.wireMode,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      keepAliveMs: options.keepAliveMs ?? DEFAULTS.keepAliveMs,
      trace: options.trace,
      warn: options.warn,
    };
    this.reconnectOptions = { ...DEFAULTS.reconnect, ...options.reconnect };
  }

  /** Connects (HELLO, AUTH) every pooled connection. Rejects with RcpConnectionError or RcpError (AUTH_FAILED). */
  static async connect(options: RcpClientOptions): Promise<RcpClient> {
    const client = new RcpClient(options);
    const size = Math.max(1, Math.floor(options.poolSize ?? 1));
    for (let i = 0; i < size; i++) client.pool.push(client.makeSlot());
    try {
      const conns = await Promise.all(client.pool.map((s) => s.start()));
      client.server = conns[0].hello;
    } catch (err) {
      await Promise.all(client.pool.map((s) => s.stop()));
      throw err;
    }
    client.setState('ready');
    return client;
  }

  get state(): ClientState {
    return this.currentState;
  }

  /** Connections open right now (pool and subscriptions). */
  get openConnections(): number {
    const slots = this.subscriptionSlot ? [...this.pool, this.subscriptionSlot] : this.pool;
    return slots.filter((s) => s.ready).length;
  }

  private makeSlot(): Slot {
    const slot = new Slot(this.connectionOptions, this.reconnectOptions);
    slot.on('down', (err: Error) => {
      // The cause goes with 'reconnecting', so a log can say why (a keep-alive PING unanswered, a reset…).
      if (this.reconnectOptions.enabled) this.updateState(err);
    });
    slot.on('up', () => this.updateState());
    slot.on('failed', (err: Error) => void this.shutdown(err));
    return slot;
  }

  private setState(state: ClientState, err?: Error): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.emit('state', state, err);
  }

  private updateState(cause?: Error): void {
    if (this.closing) return;
    const slots = this.subscriptionSlot ? [...this.pool, this.subscriptionSlot] : this.pool;
    this.setState(slots.every((s) => s.ready) ? 'ready' : 'reconnecting', cause);
  }

  /** The least busy open connection, or undefined when none is open. */
  private pick(): Connection | undefined {
    let best: Connection | undefined;
    for (const slot of this.pool) {
      const c = slot.conn;
      if (c && c.isOpen && (!best || c.inFlight < best.inFlight)) best = c;
    }
    return best;
  }

  private async waitForConnection(): Promise<Connection> {
    if (this.closing) throw new RcpConnectionError(this.address, 'closed', 'the client is closed');
    // Whichever pooled connection comes back first.
    return Promise.any(this.pool.map((s) => s.whenReady(this.connectionOptions.requestTimeoutMs))).catch((agg: AggregateError) => {
      throw agg.errors[0];
    });
  }

  /** Any operation by name: resolves with its result, rejects with RcpError or RcpConnectionError. */
  request<T = unknown>(op: string, params?: Record<string, unknown>, hooks?: RequestHooks): Promise<T> {
    const conn = this.pick();
    const retryable = READ_OPS.has(op) || (params !== undefined && typeof params.idempotency_key === 'string');
    if (!conn) {
      // No connection came back in time: nothing was written.
      return this.waitForConnection()
        .catch((err: unknown) => {
          throw err instanceof RcpConnectionError && !err.notSent ? new RcpConnectionError(this.address, err.kind, `${op} was not sent: ${err.message.replace(`${this.address}: `, '')}`, { cause: err, notSent: true }) : err;
        })
        .then((c) => this.send<T>(c, op, params, retryable, hooks));
    }
    return this.send<T>(conn, op, params, retryable, hooks);
  }

  private send<T>(conn: Connection, op: string, params: Record<string, unknown> | undefined, retryable: boolean, hooks?: RequestHooks): Promise<T> {
    const p = conn.request<T>(op, params);
    if (!this.reconnectOptions.enabled) return p;
    return p.catch((err: unknown) => {
      if (!(err instanceof RcpConnectionError) || err.kind === 'timeout' || this.closing) throw err;
      // Never written: nothing happened on the server, and the caller is told exactly that.
      if (err.notSent && !retryable) throw err;
      if (!retryable) {
        throw new RcpConnectionError(
          this.address,
          err.kind,
          `${op} was sent but the connection was lost before the server answered: it may or may not have been applied (${err.message})`,
          { cause: err },
        );
      }
      // Once, after the connection is back: reads, and writes the server can recognise by idempotency_key.
      return this.waitForConnection().then(
        (c) => {
          if (!err.notSent) hooks?.onResend?.();
          return c.request<T>(op, params);
        },
        (again: unknown) => {
          if (err.notSent) throw again;
          // The first attempt was written and the connection never came back: its outcome is unknown.
          throw new RcpConnectionError(this.address, err.kind, `${op} was sent but the connection was lost before the server answered, and it did not come back to send it again: it may or may not have been applied (${err.message})`, { cause: again });
        },
      );
    });
  }

  ping(): Promise<{ pong: boolean }> {
    return this.request('PING');
  }
  info(): Promise<InfoResult> {
    return this.request('INFO');
  }
  putMachine(params: PutMachineParams): Promise<PutMachineResult> {
    const unsendable = connectionBreakingProblem(params.definition);
    if (unsendable) return Promise.reject(new UnsendableDefinitionError(unsendable));
    return this.request('PUT_MACHINE', params as unknown as Record<string, unknown>);
  }
  getMachine(params: GetMachineParams): Promise<GetMachineResult> {
    return this.request('GET_MACHINE', params as unknown as Record<string, unknown>);
  }
  listMachines(): Promise<ListMachinesResult> {
    return this.request('LIST_MACHINES', {});
  }
  /**
   * The server ignores CREATE_INSTANCE's idempotency_key, but with a key the
   * client still resends after a dropped connection: safe only when the caller
   * chose `instance_id` (a replay then answers INSTANCE_EXISTS, which the caller checks).
   */
  createInstance(params: CreateInstanceParams, hooks?: RequestHooks): Promise<CreateInstanceResult> {
    return this.request('CREATE_INSTANCE', params as unknown as Record<string, unknown>, hooks);
  }
  getInstance(params: GetInstanceParams): Promise<GetInstanceResult> {
    return this.request('GET_INSTANCE', params as unknown as Record<string, unknown>);
  }
  listInstances(params: ListInstancesParams = {}): Promise<ListInstancesResult> {
    return this.request('LIST_INSTANCES', params as unknown as Record<string, unknown>);
  }
  /** With an `idempotency_key`, a delete cut off by a dropped connection is sent again after reconnecting (hooks.onResend says so). */
  deleteInstance(params: DeleteInstanceParams, hooks?: RequestHooks): Promise<DeleteInstanceResult> {
    return this.request('DELETE_INSTANCE', params as unknown as Record<string, unknown>, hooks);
  }
  /** With an `idempotency_key`, an event cut off by a dropped connection is sent again after reconnecting; the server answers a replay with the first result. */
  applyEvent(params: ApplyEventParams, hooks?: RequestHooks): Promise<ApplyEventResult> {
    return this.request('APPLY_EVENT', params as unknown as Record<string, unknown>, hooks);
  }
  batch(params: BatchParams): Promise<BatchResult> {
    for (const op of params.ops) {
      const unsendable = op.op === 'PUT_MACHINE' ? connectionBreakingProblem(op.params?.definition) : undefined;
      if (unsendable) return Promise.reject(new UnsendableDefinitionError(unsendable));
    }
    return this.request('BATCH', params as unknown as Record<string, unknown>);
  }
  snapshotInstance(params: { instance_id: string }): Promise<SnapshotInstanceResult> {
    return this.request('SNAPSHOT_INSTANCE', params);
  }
  walRead(params: WalReadParams): Promise<WalReadResult> {
    return this.request('WAL_READ', params as unknown as Record<string, unknown>);
  }
  walStats(): Promise<WalStatsResult> {
    return this.request('WAL_STATS', {});
  }
  compact(params: CompactParams = {}): Promise<CompactResult> {
    return this.request('COMPACT', params as unknown as Record<string, unknown>);
  }

  // ---- subscriptions -------------------------------------------------------

  /** Subscriptions live on a connection of their own, opened on first use. */
  private async subscriptionConnection(): Promise<Connection> {
    if (this.closing) throw new RcpConnectionError(this.address, 'closed', 'the client is closed');
    if (!this.subscriptionSlot) {
      this.subscriptionSlotStarting ??= (async () => {
        const slot = this.makeSlot();
        slot.on('event', (e: RcpEvent, bytes: number) => this.route(e, bytes));
        // From the drop on, subscriptions count as recovering (whoever hears 'ready' first sees that).
        slot.on('down', () => {
          for (const sub of this.liveSubscriptions) sub.hold();
        });
        slot.on('up', () => void this.resubscribeAll());
        this.startingSlots.add(slot);
        try {
          await slot.start();
        } catch (err) {
          this.subscriptionSlotStarting = undefined;
          throw err;
        } finally {
          this.startingSlots.delete(slot);
        }
        this.subscriptionSlot = slot;
        return slot;
      })();
      await this.subscriptionSlotStarting;
    }
    return this.subscriptionSlot!.whenReady(this.connectionOptions.requestTimeoutMs);
  }

  /** Events arrive checked (validate.ts): offsets are safe integers, fields have their types. */
  private route(e: RcpEvent, bytes: number): void {
    this.instanceMachines.set(e.instance_id, { machine: e.machine, version: e.version });
    const sub = this.subscriptions.get(e.subscription_id);
    if (sub) {
      sub.deliver(e);
      return;
    }
    // Not ours (any more): a subscription closed, its UNWATCH still on the way. Dropped.
    if (this.watchesInFlight === 0) return;
    // It may have beaten its WATCH answer: keep it for a moment, within a byte budget.
    this.orphans.push({ event: e, bytes });
    this.orphanBytes += bytes;
    while (this.orphanBytes > ORPHAN_BYTES_LIMIT) this.orphanBytes -= this.orphans.shift()!.bytes;
  }

  private register(sub: Subscription): void {
    this.liveSubscriptions.add(sub);
    this.subscriptions.set(sub.id, sub);
    const early = this.orphans.filter((o) => o.event.subscription_id === sub.id);
    if (this.watchesInFlight === 0) {
      this.orphans = [];
      this.orphanBytes = 0;
    } else if (early.length > 0) {
      this.orphans = this.orphans.filter((o) => o.event.subscription_id !== sub.id);
      this.orphanBytes = this.orphans.reduce((n, o) => n + o.bytes, 0);
    }
    // Kept by the subscription until its first listener or iterator: none is lost.
    for (const o of early) sub.deliver(o.event);
  }

  private async watch(spec: SubscriptionSpec, conn: Connection): Promise<{ id: string; liveFrom: number }> {
    this.watchesInFlight++;
    try {
      if (spec.kind === 'all') {
        const r = await conn.request<WatchAllResult>('WATCH_ALL', spec.params as unknown as Record<string, unknown>);
        return { id: r.subscription_id, liveFrom: r.wal_offset };
      }
      const r = await conn.request<WatchInstanceResult>('WATCH_INSTANCE', spec.params as unknown as Record<string, unknown>);
      return { id: r.subscription_id, liveFrom: r.current_wal_offset + 1 };
    } finally {
      this.watchesInFlight--;
    }
  }

  /** Events from every instance (filtered): machines, events, from_states, to_states, include_ctx. */
  watchAll(params: WatchAllParams = {}): Promise<Subscription> {
    return this.subscribe({ kind: 'all', params: { ...params } });
  }

  /** Events of one instance. */
  watchInstance(params: WatchInstanceParams): Promise<Subscription> {
    return this.subscribe({ kind: 'instance', params: { ...params } });
  }

  private async subscribe(spec: SubscriptionSpec): Promise<Subscription> {
    const conn = await this.subscriptionConnection();
    const { id, liveFrom } = await this.watch(spec, conn);
    // close() while the WATCH was on its way: the connection is going, so is the subscription.
    if (this.closing) throw new RcpConnectionError(this.address, 'closed', 'the client was closed while subscribing');
    const sub = new Subscription(spec, id, liveFrom, this);
    this.register(sub);
    return sub;
  }

  /** Part of SubscriptionHost: UNWATCH and forget. */
  async unwatch(sub: Subscription): Promise<void> {
    this.subscriptions.delete(sub.id);
    this.liveSubscriptions.delete(sub);
    const conn = this.subscriptionSlot?.conn;
    if (!conn?.isOpen || this.closing) return;
    try {
      await conn.request('UNWATCH', { subscription_id: sub.id });
    } catch (err) {
      if (!(err instanceof RcpConnectionError)) throw err;
    }
  }

  /**
   * After the subscription connection comes back: WATCH again, then replay from
   * the WAL what happened between the last delivered event and the new live start.
   */
  private async resubscribeAll(): Promise<void> {
    const conn = this.subscriptionSlot?.conn;
    if (!conn) return;
    this.subscriptions.clear();
    this.orphans = [];
    this.orphanBytes = 0;
    await Promise.all([...this.liveSubscriptions].map((sub) => this.resubscribe(sub, conn)));
  }

  private async resubscribe(sub: Subscription, conn: Connection): Promise<void> {
    // Live events wait until the gap before them is filled.
    sub.hold();
    const attempt = ++sub.recoveries;
    const current = () => sub.recoveries === attempt && !sub.closed && !this.closing;
    let liveFrom: number | undefined;
    for (let delay = 250; liveFrom === undefined; delay = Math.min(delay * 2, 5000)) {
      if (!current()) {
        if (sub.closed) this.liveSubscriptions.delete(sub);
        return;
      }
      try {
        const watched = await this.watch({ ...sub.spec, params: { ...sub.spec.params, from_offset: sub.resumeFrom } } as SubscriptionSpec, conn);
        if (sub.closed) {
          // Closed while the WATCH was on its way: don't leave it subscribed on the server.
          void conn.request('UNWATCH', { subscription_id: watched.id }).catch(() => undefined);
          return;
        }
        sub.id = watched.id;
        liveFrom = watched.liveFrom;
        this.register(sub);
      } catch (err) {
        if (!(err instanceof RcpConnectionError)) {
          this.liveSubscriptions.delete(sub);
          sub.release();
          sub.end(err as Error);
          return;
        }
        // Dropped again: the next 'up' re-subscribes it (it stays in liveSubscriptions). Still open
        // (the WATCH timed out): no 'up' will come, so try again here.
        if (!conn.isOpen || this.subscriptionSlot?.conn !== conn) return;
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
    await this.fillGapUntilDone(sub, conn, liveFrom, current);
  }

  /**
   * Fills the gap, retrying while the subscription's connection stays up (the
   * WAL is read through the pool, which may still be reconnecting). Live events
   * stay held meanwhile, so nothing is skipped. If the subscription connection
   * drops, the next 'up' starts over from `resumeFrom`.
   */
  private async fillGapUntilDone(sub: Subscription, conn: Connection, liveFrom: number, current: () => boolean): Promise<void> {
    for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.fillGap(sub, liveFrom, current);
        if (current()) sub.resume();
        return;
      } catch (err) {
        if (!current()) return;
        const transient = err instanceof RcpConnectionError || (err instanceof RcpError && err.retryable);
        if (!transient) {
          this.liveSubscriptions.delete(sub);
          this.subscriptions.delete(sub.id);
          sub.release();
          sub.end(err as Error);
          return;
        }
      }
      await new Promise((r) => setTimeout(r, delay).unref());
      // A newer attempt (after the subscription connection dropped again) takes over.
      if (!current() || this.subscriptionSlot?.conn !== conn || !conn.isOpen) return;
    }
  }

  private async fillGap(sub: Subscription, liveFrom: number, current: () => boolean): Promise<void> {
    if (!this.server.features.includes('wal_read')) return;
    // Read the whole gap first (up to GAP_REPLAY_LIMIT records), keeping only what may be delivered:
    // whether it is short enough to replay is known only at its end.
    type Candidate = { offset: number; entry: Extract<WalEntry, { type: 'apply_event' }> };
    const candidates: Candidate[] = [];
    let read = 0;
    let from = sub.resumeFrom;
    while (from < liveFrom) {
      const page = await this.walRead({ from_offset: from, limit: 1000 });
      if (page.records.length === 0) break;
      let reachedLive = false;
      for (const rec of page.records) {
        if (rec.offset >= liveFrom) {
          reachedLive = true;
          break;
        }
        if (++read > GAP_REPLAY_LIMIT) {
          if (current()) sub.skipGap(liveFrom);
          return;
        }
        const e = rec.entry;
        // The filters that need no lookup first, so that only what may be delivered is kept and looked up.
        if (e.type === 'create_instance') this.instanceMachines.set(e.instance_id, { machine: e.machine, version: e.version });
        else if (e.type === 'apply_event' && sub.matchesWithoutMachine(e)) {
          candidates.push({ offset: rec.offset, entry: sub.includeCtx ? e : { ...e, ctx: {} } }); // ctx only when asked for: it can be large
        }
      }
      if (reachedLive || page.next_offset === null || page.next_offset <= from) break;
      from = page.next_offset;
      if (!current()) return;
    }
    for (let i = 0; i < candidates.length; i += 1000) {
      const chunk = candidates.slice(i, i + 1000);
      const owners = await this.machinesOf(chunk.map((c) => c.entry.instance_id));
      for (const { offset, entry: e } of chunk) {
        const owner = owners.get(e.instance_id);
        if (!sub.matches({ ...e, machine: owner?.machine })) continue;
        const event: RcpEvent = {
          type: 'event',
          subscription_id: sub.id,
          instance_id: e.instance_id,
          machine: owner?.machine ?? '',
          version: owner?.version ?? 0,
          event: e.event,
          from_state: e.from_state,
          to_state: e.to_state,
          payload: e.payload,
          wal_offset: offset,
        };
        if (sub.includeCtx) event.ctx = e.ctx;
        if (!current()) return;
        sub.deliver(event, true);
      }
    }
  }

  /**
   * The machine of each instance: from the cache, the rest with one BATCH of
   * GET_INSTANCE (per LOOKUP_BATCH_OPS). An instance the server no longer
   * knows is left out.
   */
  private async machinesOf(instanceIds: string[]): Promise<Map<string, { machine: string; version: number }>> {
    const found = new Map<string, { machine: string; version: number }>();
    const unknown: string[] = [];
    for (const id of new Set(instanceIds)) {
      const known = this.instanceMachines.get(id);
      if (known) found.set(id, known);
      else unknown.push(id);
    }
    const remember = (id: string, inst: { machine: string; version: number }) => {
      const m = { machine: inst.machine, version: inst.version };
      found.set(id, m);
      this.instanceMachines.set(id, m);
    };
    if (!this.server.features.includes('batch')) {
      // An older server without BATCH: one request each.
      for (const id of unknown) {
        try {
          remember(id, await this.getInstance({ instance_id: id }));
        } catch (err) {
          if (!(err instanceof RcpError) || err.code === 'BAD_RESPONSE') throw err; // an RcpError: deleted since
        }
      }
      return found;
    }
    for (let i = 0; i < unknown.length; i += LOOKUP_BATCH_OPS) {
      const ids = unknown.slice(i, i + LOOKUP_BATCH_OPS);
      const { results } = await this.batch({ mode: 'best_effort', ops: ids.map((id) => ({ op: 'GET_INSTANCE', params: { instance_id: id } })) });
      results.forEach((r, j) => {
        if (r.status === 'ok') remember(ids[j], r.result as GetInstanceResult);
      });
    }
    return found;
  }

  // ---- closing -------------------------------------------------------------

  private async shutdown(err?: Error): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const sub of this.liveSubscriptions) sub.end(err);
    this.liveSubscriptions.clear();
    this.subscriptions.clear();
    this.orphans = [];
    this.orphanBytes = 0;
    this.instanceMachines.clear();
    this.setState('closed', err);
    // Every slot, including one still saying HELLO or reconnecting: stop() ends those at once.
    const slots = [...this.pool, ...this.startingSlots];
    if (this.subscriptionSlot) slots.push(this.subscriptionSlot);
    await Promise.all(slots.map((s) => s.stop()));
  }

  /** Ends every subscription, says BYE on every connection and closes them. */
  close(): Promise<void> {
    return this.shutdown();
  }
}
