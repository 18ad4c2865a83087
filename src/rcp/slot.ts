import { EventEmitter } from 'node:events';
import { Connection, isSessionRefused, type ConnectionOptions } from './connection';
import { RcpConnectionError } from './errors';

export interface ReconnectOptions {
  enabled: boolean;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Attempts after a drop before giving up (Infinity: never give up). */
  maxAttempts: number;
}

/**
 * One place for a connection that may be lost and remade: the current
 * Connection (or none while it is being remade), with capped exponential
 * backoff and jitter between attempts. Emits 'down' (error), 'up' (Connection),
 * 'failed' (error: gave up), and forwards 'event' from whichever connection is current.
 */
export class Slot extends EventEmitter {
  conn: Connection | undefined;
  private stopped = false;
  private waiters: { resolve: (c: Connection) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private failure: Error | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  /** Aborted by stop(): a connection still being set up ends at once. */
  private readonly aborter = new AbortController();

  constructor(
    private readonly options: ConnectionOptions,
    private readonly reconnect: ReconnectOptions,
  ) {
    super();
  }

  get ready(): boolean {
    return this.conn !== undefined && this.conn.isOpen;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  async start(): Promise<Connection> {
    const conn = await Connection.open(this.options, this.aborter.signal);
    this.attach(conn);
    if (this.stopped) throw this.closedError();
    return conn;
  }

  private closedError(): RcpConnectionError {
    return new RcpConnectionError(`${this.options.host}:${this.options.port}`, 'closed', 'the client is closed');
  }

  private attach(conn: Connection): void {
    if (this.stopped) {
      void conn.close();
      return;
    }
    this.conn = conn;
    conn.on('event', (e, bytes) => this.emit('event', e, bytes));
    conn.once('close', (err: RcpConnectionError) => {
      if (this.conn !== conn) return;
      this.conn = undefined;
      this.emit('down', err);
      if (this.reconnect.enabled) void this.reconnectLoop(err);
      else this.fail(err);
    });
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(conn);
    }
  }

  private async reconnectLoop(cause: Error): Promise<void> {
    let last: unknown = cause;
    for (let attempt = 0; attempt < this.reconnect.maxAttempts && !this.stopped; attempt++) {
      const base = Math.min(this.reconnect.maxDelayMs, this.reconnect.initialDelayMs * 2 ** Math.min(attempt, 30));
      await this.sleep(base / 2 + (Math.random() * base) / 2);
      if (this.stopped) return;
      try {
        const conn = await Connection.open(this.options, this.aborter.signal);
        this.attach(conn);
        if (!this.stopped) this.emit('up', conn);
        return;
      } catch (err) {
        last = err;
        // A token or protocol the server refuses now is refused on the next try too (BAD_REQUEST to HELLO included).
        if (isSessionRefused(err)) break;
      }
    }
    if (!this.stopped) this.fail(last instanceof Error ? last : new Error(String(last)));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    });
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.emit('failed', err);
  }

  /** The connection, now or once it is back; rejects after timeoutMs or when the slot gives up. */
  whenReady(timeoutMs: number): Promise<Connection> {
    if (this.conn?.isOpen) return Promise.resolve(this.conn);
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopped) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      const entry = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== entry);
          reject(new RcpConnectionError(`${this.options.host}:${this.options.port}`, 'not_connected', `not connected: still reconnecting after ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(entry);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.aborter.abort();
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wake?.();
    const closed = this.closedError();
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(closed);
    }
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close();
  }
}
