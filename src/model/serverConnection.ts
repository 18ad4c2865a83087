import * as vscode from 'vscode';
import { isSessionRefused, RcpClient, type RcpError, type ClientState, type RcpEvent, type Subscription } from '../rcp';
import type { GetMachineResult, HelloResult } from '../rcp/types';
import { clientOptionsFor } from './clientOptions';
import { describeEndpoint, type ConnectionConfig } from './connectionConfig';
import { describeError } from './describeError';
import type { Log } from './log';
import { tokenInClear } from './tokenBinding';
import { WAL_REPLAY_LIMIT, WalTail } from './walTail';
import { ChangeStream, type ChangeSource } from './changeStream';

// Views and commands import it from here, with the connection it describes the failures of.
export { describeError };

export type ConnectionStatus = 'disconnected' | 'connecting' | 'ready' | 'reconnecting' | 'failed';

/** The token to send to a connection as configured now (it may ask the user); undefined sends none. */
export type TokenResolver = (config: ConnectionConfig) => Promise<string | undefined>;

/** How often an idle connection PINGs (an unanswered PING ends it, so a silent link is noticed). */
function keepAliveIntervalMs(): number {
  const ms = vscode.workspace.getConfiguration('rstmdb').get<number>('keepAliveIntervalMs') ?? 30_000;
  return Math.max(1000, Math.min(240_000, ms));
}

/**
 * Why a server refused the session itself (an error answer to HELLO or AUTH, or a
 * HELLO this client cannot speak), in a few words for the row and the status bar;
 * undefined for failures a retry may mend. Nothing retries a refusal.
 */
export function describeRefusal(err: unknown): string | undefined {
  if (!isSessionRefused(err)) return undefined;
  const e = err as RcpError;
  if (e.op === 'AUTH') return `token refused (${e.code})`;
  return `protocol refused (${e.code})`;
}

/** Where a connection's secrets come from (SecretStorage, through the store and the token question). */
export interface SecretSource {
  token: TokenResolver;
  keyPassphrase(name: string): Thenable<string | undefined>;
}

/**
 * One configured server at run time: its client, status, what it knows about
 * machines, and the live event feed (one WATCH_ALL per connected server).
 */
export class ServerConnection implements vscode.Disposable {
  private client: RcpClient | undefined;
  private feed: Subscription | undefined;
  private connecting: Promise<RcpClient> | undefined;
  /** Bumped by disconnect (and so by edit, remove, dispose): a connect begun before it is abandoned. */
  private generation = 0;
  private readonly definitions = new Map<string, Promise<GetMachineResult>>();
  status: ConnectionStatus = 'disconnected';
  lastError: string | undefined;
  /** Set when the server refused the session (see describeRefusal): reconnecting stopped for this reason. */
  refusal: string | undefined;
  /** The last connect sent a token over plain TCP to a host that is not this machine. */
  tokenSentInClear = false;
  server: HelloResult | undefined;

  private readonly statusChanged = new vscode.EventEmitter<ServerConnection>();
  readonly onDidChangeStatus = this.statusChanged.event;
  private readonly eventReceived = new vscode.EventEmitter<RcpEvent>();
  /** Live transitions on this server. */
  readonly onDidReceiveEvent = this.eventReceived.event;
  private tail: WalTail | undefined;
  /** Cancels a resync still waiting for the feed to recover. */
  private pendingResync: (() => void) | undefined;
  private following = true;
  /** Holders of keepFollowing() (an open inspector): the WAL is followed while any is held, visible tree or not. */
  private followers = 0;
  /**
   * This server's one ordered stream of changes (creates, moves, deletes, new
   * machine versions), fed by the WAL tail and the live feed, with the counts
   * and listings views render. It outlives reconnects.
   */
  readonly changes: ChangeStream;
  private readonly resynced = new vscode.EventEmitter<void>();
  /** After a reconnect: what is shown may be stale and should be fetched again. */
  readonly onDidResync = this.resynced.event;

  constructor(
    public config: ConnectionConfig,
    private readonly secrets: SecretSource,
    private readonly log: Log,
    private readonly requestTimeoutMs: () => number,
    /** Warns in the log, once per endpoint and session, that a token went out in the clear. */
    private readonly warnOnce: (key: string, message: string) => void = () => undefined,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const conn = this;
    const source: ChangeSource = {
      get isReady() {
        return conn.isReady;
      },
      readWal: () => this.readWal(),
      listInstances: async (params) => (await this.ensureClient()).listInstances(params),
      lookup: (ids) => this.lookup(ids),
    };
    this.changes = new ChangeStream(source);
  }

  /** Machine, version and state of instances: one BATCH of GET_INSTANCE where the server has BATCH. */
  async lookup(ids: string[]): Promise<Map<string, { machine: string; version: number; state: string }>> {
    const client = await this.ensureClient();
    const found = new Map<string, { machine: string; version: number; state: string }>();
    const put = (id: string, r: { machine: string; version: number; state: string } | null | undefined) => r && found.set(id, { machine: r.machine, version: r.version, state: r.state });
    if (client.server.features.includes('batch')) {
      for (let i = 0; i < ids.length; i += 100) {
        const chunk = ids.slice(i, i + 100);
        const { results } = await client.batch({ mode: 'best_effort', ops: chunk.map((instance_id) => ({ op: 'GET_INSTANCE', params: { instance_id } })) });
        results.forEach((r, k) => r.status === 'ok' && put(chunk[k], r.result as { machine: string; version: number; state: string }));
      }
    } else {
      await Promise.all(ids.map((instance_id) => client.getInstance({ instance_id }).then((r) => put(instance_id, r), () => undefined)));
    }
    return found;
  }
  get name(): string {
    return this.config.name;
  }

  get isReady(): boolean {
    return this.status === 'ready' && this.client !== undefined;
  }

  private setStatus(status: ConnectionStatus, error?: string, refusal?: string): void {
    this.status = status;
    this.lastError = error;
    this.refusal = refusal;
    this.statusChanged.fire(this);
  }

  /** The connected client, connecting first if needed. Rejects with a describable error. */
  async ensureClient(): Promise<RcpClient> {
    if (this.client && this.client.state !== 'closed') return this.client;
    if (!this.connecting) {
      const connecting = this.open(this.generation).finally(() => {
        if (this.connecting === connecting) this.connecting = undefined;
      });
      this.connecting = connecting;
    }
    return this.connecting;
  }

  /** Disconnect if connected or trying, then connect again (new settings or token). */
  async reconnect(): Promise<void> {
    if (this.status === 'disconnected') return;
    await this.disconnect();
    await this.ensureClient().catch(() => undefined);
  }

  private async open(generation: number): Promise<RcpClient> {
    const abandoned = () => generation !== this.generation;
    this.setStatus('connecting');
    this.log.info(`[${this.name}] connecting to ${describeEndpoint(this.config)}`);
    try {
      const token = await this.secrets.token(this.config);
      if (abandoned()) throw new Error(`'${this.name}' was disconnected while connecting`);
      this.tokenSentInClear = token !== undefined && tokenInClear(this.config);
      if (this.tokenSentInClear) {
        const where = `${this.config.host}:${this.config.port}`;
        this.warnOnce(`${this.name}@${where}`, `[${this.name}] the token is sent without TLS to ${where}: anyone on the network path can read it. Turn TLS on for this connection.`);
      }
      const client = await RcpClient.connect(
        await clientOptionsFor(this.config, { token, keyPassphrase: await this.secrets.keyPassphrase(this.name) }, {
          clientName: 'rstmdb-vscode',
          connectTimeoutMs: 10_000,
          requestTimeoutMs: this.requestTimeoutMs(),
          keepAliveMs: keepAliveIntervalMs(),
          reconnect: { enabled: true, initialDelayMs: 250, maxDelayMs: 5000, maxAttempts: Infinity },
          trace: this.log.traceHook(this.name),
          warn: (message) => this.log.warn(`[${this.name}] ${message}`),
        }),
      );
      if (abandoned()) {
        await client.close().catch(() => undefined);
        throw new Error(`'${this.name}' was disconnected while connecting`);
      }
      this.client = client;
      this.server = client.server;
      client.on('state', (s: ClientState, err?: Error) => this.onClientState(client, s, err));
      this.log.info(`[${this.name}] connected: ${client.server.server_name} ${client.server.server_version} (${client.server.wire_mode})`);
      await this.startFeed(client);
      await this.startTail(client);
      if (abandoned()) throw new Error(`'${this.name}' was disconnected while connecting`);
      this.setStatus('ready');
      return client;
    } catch (err) {
      if (abandoned()) throw err;
      const message = describeError(err);
      this.log.error(`[${this.name}] connect failed: ${message}`);
      this.setStatus('failed', message, describeRefusal(err));
      throw err;
    }
  }

  private async startFeed(client: RcpClient): Promise<void> {
    try {
      const feed = await client.watchAll({ include_ctx: false });
      this.feed = feed;
      feed.on('event', (e: RcpEvent) => {
        this.changes.hint(e);
        this.eventReceived.fire(e);
      });
      feed.on('error', (err: Error) => this.log.warn(`[${this.name}] live updates stopped: ${describeError(err)}`));
      feed.on('end', () => this.restartFeed(client, feed));
      // The feed could not fill in what it missed (too much arrived meanwhile): views re-read instead.
      feed.on('resync', () => {
        if (this.feed !== feed) return;
        this.log.warn(`[${this.name}] live updates missed too much to fill in (a long gap, or a burst while filling one); re-reading`);
        this.cancelPendingResync();
        this.resync();
      });
    } catch (err) {
      // Browsing still works without live updates; say so and carry on.
      this.log.warn(`[${this.name}] live updates unavailable: ${describeError(err)}`);
    }
  }

  private onClientState(client: RcpClient, state: ClientState, err?: Error): void {
    if (client !== this.client) return;
    if (state === 'reconnecting') {
      this.log.warn(`[${this.name}] connection lost${err ? ` (${describeError(err)})` : ''}; reconnecting…`);
      this.setStatus('reconnecting');
    } else if (state === 'ready') {
      this.log.info(`[${this.name}] reconnected`);
      this.definitions.clear();
      this.setStatus('ready');
      this.resyncAfterFeedRecovers();
    } else if (state === 'closed' && this.status !== 'disconnected') {
      this.cancelPendingResync();
      this.changes.stop();
      this.tail?.dispose();
      this.tail = undefined;
      const message = err ? describeError(err) : 'connection closed';
      const refusal = describeRefusal(err);
      this.log.error(`[${this.name}] ${refusal ? `stopped reconnecting, the server refused the session: ${message}` : message}`);
      this.client = undefined;
      this.feed = undefined;
      this.setStatus('failed', message, refusal);
    }
  }

  private async startTail(client: RcpClient): Promise<void> {
    if (!client.server.features.includes('wal_read')) return;
    try {
      // Views load after the connection is up, so what happened before this point is in what they load.
      const from = (await client.walStats()).latest_offset;
      if (client !== this.client) return; // disconnected meanwhile
      this.tail?.dispose();
      this.changes.startAt(from);
      this.tail = new WalTail(client, from, {
        page: (records, next) => this.changes.applyWalPage(records, next),
        skipped: (offset) => {
          // Too far behind to replay (a long gap): what is listed and counted is read again instead.
          this.log.info(`[${this.name}] more than ${WAL_REPLAY_LIMIT} WAL records behind: re-reading instead of replaying them`);
          this.changes.skippedTo(offset);
          this.resync();
        },
        failed: (err) => this.log.warn(`[${this.name}] reading the WAL for creates and deletes failed: ${describeError(err)}`),
      });
      this.tail.setActive(this.following || this.followers > 0);
    } catch (err) {
      this.log.warn(`[${this.name}] creates and deletes will show after a refresh: ${describeError(err)}`);
    }
  }

  /**
   * Apply what the WAL says happened so far before reading a count, so a create
   * is never both in a count and reported after it. False when nothing follows
   * the WAL here (the caller updates views itself).
   */
  catchUp(): Promise<boolean> {
    return this.changes.catchUp();
  }

  /** The stream's way to read the WAL now (false when nothing follows it here). */
  private async readWal(): Promise<boolean> {
    const tail = this.tail;
    if (!tail?.isActive) return false;
    await tail.pollFromNow();
    return !tail.lastReadFailed;
  }

  /** Follow the WAL (so `changes` stays live) until the returned handle is disposed, whether or not the tree is visible. */
  keepFollowing(): { dispose(): void } {
    this.followers++;
    this.tail?.setActive(true);
    let held = true;
    return {
      dispose: () => {
        if (!held) return;
        held = false;
        this.followers--;
        this.tail?.setActive(this.following || this.followers > 0);
      },
    };
  }

  /** Follow the WAL only while someone looks at what it updates. */
  setFollowing(on: boolean): void {
    this.following = on;
    this.tail?.setActive(on || this.followers > 0);
  }

  /**
   * Views re-read what they show once the live feed has delivered the events
   * missed while away; re-reading earlier would count those events twice.
   */
  private resyncAfterFeedRecovers(): void {
    this.cancelPendingResync();
    const feed = this.feed;
    if (!feed || feed.closed || !feed.recovering) {
      this.resync();
      return;
    }
    const stop = () => {
      clearTimeout(timer);
      feed.off('resumed', fire);
      feed.off('end', fire);
      this.pendingResync = undefined;
    };
    const fire = () => {
      stop();
      this.resync();
    };
    // Never wait forever: a feed that cannot recover must not freeze the tree.
    const timer = setTimeout(fire, 15_000);
    feed.once('resumed', fire);
    feed.once('end', fire);
    this.pendingResync = stop;
  }

  /** What is listed and counted is read again; views are told to re-read. */
  private resync(): void {
    this.changes.resync();
    this.resynced.fire();
  }

  private cancelPendingResync(): void {
    this.pendingResync?.();
  }

  /** A feed the server ended while the connection is still in use is started again, after a pause. */
  private restartFeed(client: RcpClient, ended: Subscription): void {
    if (this.feed !== ended || this.client !== client || client.state === 'closed') return;
    this.feed = undefined;
    setTimeout(() => {
      if (this.client === client && client.state === 'ready' && !this.feed) {
        this.log.info(`[${this.name}] restarting live updates`);
        // A new subscription starts from now: what happened in between is re-read.
        void this.startFeed(client).then(() => this.client === client && this.feed && this.resync());
      }
    }, 2000);
  }

  async disconnect(): Promise<void> {
    this.generation++;
    this.connecting = undefined;
    this.cancelPendingResync();
    this.tail?.dispose();
    this.tail = undefined;
    const client = this.client;
    this.client = undefined;
    this.feed = undefined;
    this.definitions.clear();
    this.changes.stop();
    this.setStatus('disconnected');
    if (client) {
      this.log.info(`[${this.name}] disconnected`);
      await client.close().catch(() => undefined);
    }
  }

  /** A machine version's definition, fetched once per connection. */
  definition(machine: string, version: number): Promise<GetMachineResult> {
    const key = `${machine}@${version}`;
    let p = this.definitions.get(key);
    if (!p) {
      p = this.ensureClient().then((c) => c.getMachine({ machine, version }));
      p.catch(() => this.definitions.delete(key));
      this.definitions.set(key, p);
    }
    return p;
  }

  forgetDefinitions(): void {
    this.definitions.clear();
  }

  dispose(): void {
    void this.disconnect();
    this.statusChanged.dispose();
    this.eventReceived.dispose();
    this.resynced.dispose();
    this.changes.dispose();
  }
}
