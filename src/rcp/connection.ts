import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { RcpConnectionError, RcpError, FrameError } from './errors';
import { FrameDecoder, FrameWriter, LineDecoder, parseMessage } from './frame';
import type { HelloResult, RcpEvent, WireMode } from './types';
import { checkEvent, checkResponse } from './validate';

export interface TlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  servername?: string;
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
}

export type TraceFn = (direction: 'send' | 'recv', message: Record<string, unknown>) => void;

export interface ConnectionOptions {
  host: string;
  port: number;
  token?: string;
  clientName?: string;
  tls?: TlsOptions;
  wireMode?: WireMode;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveMs: number;
  /** Sees every message in and out, tokens already redacted. Whatever it throws is swallowed. */
  trace?: TraceFn;
  /** Told about what the client skipped or dropped (a malformed event, for instance). Must not throw. */
  warn?: (message: string) => void;
}

interface Pending {
  op: string;
  /** Kept to check the answer against (BATCH results have their ops' shapes). */
  params: Record<string, unknown> | undefined;
  deadline: number;
  timeoutMs: number;
  resolve: (result: any) => void;
  reject: (err: Error) => void;
}

const FEATURES = ['idempotency', 'batch', 'wal_read'];
/** The RCP protocol version this client speaks. */
const PROTOCOL_VERSION = 1;
/**
 * A run of requests made in one tick leaves as soon as it holds this many
 * bytes, not only at the end of the tick. Answers arrive in bursts (a read of
 * many responses), and the requests they prompt were all written after the
 * whole burst: client and server then took turns, each idle while the other
 * worked. Writing every few KiB lets the server start on the first requests
 * while the client still reads the burst (the profile showed the client idle
 * for most of a pipelined run). Small enough to overlap, large enough that
 * the write calls stay few.
 */
const EARLY_FLUSH_BYTES = 4096;
/** Idle time before the kernel starts TCP keep-alive probes (a second line of defence under the PING). */
const TCP_KEEPALIVE_DELAY_MS = 30_000;

/**
 * The server refused the session itself: it answered HELLO or AUTH with an
 * error, or its HELLO result is not something this client can speak. Trying
 * again gets the same answer, so a reconnect loop stops here.
 */
export function isSessionRefused(err: unknown): boolean {
  return err instanceof RcpError && (err.op === 'HELLO' || err.op === 'AUTH');
}

/** Node's TLS error codes, said the way a user can act on them. */
const TLS_REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not valid yet',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not trusted (set a CA, or turn verification off for this connection)',
  // The server sent its CA along (OpenSSL servers add it from their trust store): still a CA we do not trust.
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate is not signed by a trusted CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server certificate is not signed by a trusted CA',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not match the host name',
};

/** The server's TLS alerts that mean "your client certificate is not acceptable". */
const CLIENT_CERT_REFUSED = new Set([
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
]);

export const CLIENT_CERT_REQUIRED_MESSAGE = 'TLS: the server requires a client certificate (mutual TLS)';
export const CLIENT_CERT_REFUSED_MESSAGE = 'TLS: the server refused the client certificate (it must be X.509 v3 with the clientAuth usage, signed by a CA the server trusts)';

/**
 * OpenSSL's own text ("…:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13
 * alert certificate required:../deps/openssl/…c:1601:SSL alert number 116")
 * carries build paths; keep only the reason and the alert number.
 */
function plainOpenSslMessage(message: string): string {
  const reason = /SSL routines:[^:]*:([^:]+):/.exec(message)?.[1];
  const alert = /SSL alert number (\d+)/.exec(message)?.[1];
  if (!reason) return message;
  return alert ? `${reason} (TLS alert ${alert})` : reason;
}

function describeSocketError(address: string, err: NodeJS.ErrnoException, tlsOpts: TlsOptions | undefined): RcpConnectionError {
  const code = err.code ?? '';
  if (TLS_REASONS[code]) return new RcpConnectionError(address, 'tls', `TLS: ${TLS_REASONS[code]} (${code})`, { cause: err });
  if (tlsOpts) {
    // TLS 1.3 reports a missing client certificate as alert 116 on the first read; TLS 1.2 fails the handshake.
    if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' || (code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' && !tlsOpts.cert)) {
      return new RcpConnectionError(address, 'tls', CLIENT_CERT_REQUIRED_MESSAGE, { cause: err, reason: 'client_certificate_required' });
    }
    if (CLIENT_CERT_REFUSED.has(code) && tlsOpts.cert) {
      return new RcpConnectionError(address, 'tls', CLIENT_CERT_REFUSED_MESSAGE, { cause: err, reason: 'client_certificate_refused' });
    }
    if (code.startsWith('ERR_SSL') || /alert|certificate|handshake/i.test(err.message)) {
      return new RcpConnectionError(address, 'tls', `TLS: ${plainOpenSslMessage(err.message)}`, { cause: err });
    }
  }
  if (code === 'ECONNREFUSED') return new RcpConnectionError(address, 'connect_failed', 'connection refused (is the server running?)', { cause: err });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new RcpConnectionError(address, 'connect_failed', `host not found (${code})`, { cause: err });
  return new RcpConnectionError(address, 'closed', `connection error: ${err.message}`, { cause: err });
}

/**
 * One socket speaking RCP: HELLO and AUTH at open, pipelined requests matched by
 * id, events passed on as 'event'. Everything in flight fails at once when the
 * socket ends, whatever the reason. Emits 'event' (RcpEvent) and 'close' (error).
 */
export class Connection extends EventEmitter {
  readonly address: string;
  hello!: HelloResult;
  private socket!: net.Socket;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  /** Requests made in the same tick, encoded back to back; they leave in one write. */
  private readonly outbox = new FrameWriter();
  private flushScheduled = false;
  /** Requests with an id up to this one were written to the socket; later ones fail as never sent. */
  private writtenThrough = 0;
  private mode: 'unknown' | 'frames' | 'lines' = 'unknown';
  private readonly frames = new FrameDecoder();
  private readonly lines = new LineDecoder();
  private sweepTimer: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  /** When a request last left. The server's idle timer counts only these, never the events it pushes. */
  private lastSent = Date.now();
  /** When anything last arrived. */
  private lastReceived = Date.now();
  private pinging = false;
  private closedWith: RcpConnectionError | undefined;
  private established = false;

  private constructor(private readonly options: ConnectionOptions) {
    super();
    this.address = `${options.host}:${options.port}`;
  }

  /** Connects, says HELLO and, with a token, AUTH. Rejects with RcpConnectionError or RcpError (AUTH_FAILED). */
  static async open(options: ConnectionOptions, signal?: AbortSignal): Promise<Connection> {
    const c = new Connection(options);
    const closedByClient = () => new RcpConnectionError(c.address, 'closed', 'the client is closed');
    if (signal?.aborted) throw closedByClient();
    // Closing the client ends a connection still being set up at once, not after the connect timeout.
    const onAbort = () => c.destroy(closedByClient());
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await c.connectSocket();
    } catch (err) {
      signal?.removeEventListener('abort', onAbort);
      throw signal?.aborted ? closedByClient() : err;
    }
    try {
      const wireModes: WireMode[] = options.wireMode === 'jsonl' ? ['jsonl'] : ['binary_json', 'jsonl'];
      c.hello = checkHello(
        await c.request<HelloResult>('HELLO', {
          protocol_version: PROTOCOL_VERSION,
          client_name: options.clientName ?? 'rstmdb-ts',
          wire_modes: wireModes,
          features: FEATURES,
        }, options.connectTimeoutMs),
        wireModes,
      );
      if (options.token !== undefined) {
        await c.request('AUTH', { method: 'bearer', token: options.token }, options.connectTimeoutMs);
      }
    } catch (err) {
      c.destroy(err instanceof RcpConnectionError ? err : undefined);
      throw signal?.aborted ? closedByClient() : c.setupError(err);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    c.established = true;
    c.startKeepAlive();
    return c;
  }

  /** A TLS peer that hangs up during setup has usually refused our certificate. */
  private setupError(err: unknown): unknown {
    if (this.options.tls && err instanceof RcpConnectionError && err.kind === 'closed') {
      return new RcpConnectionError(
        this.address,
        'tls',
        'TLS: the server closed the connection during setup (it may require a client certificate, or rejected the one given)',
        { cause: err },
      );
    }
    return err;
  }

  get isOpen(): boolean {
    return this.closedWith === undefined;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private connectSocket(): Promise<void> {
    const { host, port, tls: tlsOpts, connectTimeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      if (this.closedWith) {
        reject(this.closedWith);
        return;
      }
      const socket = tlsOpts
        ? tls.connect({
            host,
            port,
            ca: tlsOpts.ca,
            cert: tlsOpts.cert,
            key: tlsOpts.key,
            passphrase: tlsOpts.passphrase,
            servername: tlsOpts.servername ?? (net.isIP(host) ? undefined : host),
            rejectUnauthorized: tlsOpts.rejectUnauthorized ?? true,
          })
        : net.connect({ host, port });
      this.socket = socket;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RcpConnectionError(this.address, 'connect_timeout', `no connection within ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      // destroy() before the socket is up (the client closed meanwhile) ends the attempt.
      socket.once('close', () => {
        clearTimeout(timer);
        reject(this.closedWith ?? new RcpConnectionError(this.address, 'closed', 'the server closed the connection'));
      });
      const onError = (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(describeSocketError(this.address, err, tlsOpts));
      };
      socket.once('error', onError);
      socket.once(tlsOpts ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.setNoDelay(true);
        // A peer that vanished without a FIN (power loss, a NAT that forgot us) is found by the kernel too.
        socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
        socket.on('data', (chunk: Buffer) => this.onData(chunk));
        socket.on('error', (err: NodeJS.ErrnoException) => this.destroy(describeSocketError(this.address, err, tlsOpts)));
        socket.on('close', () => this.destroy(new RcpConnectionError(this.address, 'closed', 'the server closed the connection')));
        resolve();
      });
    });
  }

  /** Sends a request; resolves with `result`, rejects with RcpError or RcpConnectionError. */
  request<T = unknown>(op: string, params?: Record<string, unknown>, timeoutMs = this.options.requestTimeoutMs): Promise<T> {
    if (this.closedWith) return Promise.reject(this.notSent(this.closedWith, op));
    const id = String(this.nextId++);
    // The server answers BAD_REQUEST to most ops sent without params: always send them, `{}` when empty.
    const message: Record<string, unknown> = { type: 'request', id, op, params: params ?? {} };
    try {
      this.outbox.push(message);
    } catch (err) {
      return Promise.reject(new RcpConnectionError(this.address, 'protocol', `request ${op} could not be sent: ${(err as Error).message}`, { notSent: true }));
    }
    if (this.options.trace) this.traceSafely('send', redact(message));
    if (this.outbox.length >= EARLY_FLUSH_BYTES) {
      this.writeOut();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { op, params, deadline: Date.now() + timeoutMs, timeoutMs, resolve, reject });
      this.ensureSweep(timeoutMs);
    });
  }

  /** What is left of the requests made in a tick leaves at its end. */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    this.writeOut();
  };

  private writeOut(): void {
    if (this.outbox.length === 0) return;
    const out = this.outbox.take();
    if (this.closedWith) return;
    this.lastSent = Date.now();
    this.socket.write(out);
    this.writtenThrough = this.nextId - 1;
  }

  private ensureSweep(timeoutMs: number): void {
    if (this.sweepTimer) return;
    // One coarse timer per connection instead of one per request.
    const every = Math.max(10, Math.min(250, Math.floor(timeoutMs / 10)));
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(id);
        p.reject(new RcpConnectionError(this.address, 'timeout', `${p.op} got no response within ${p.timeoutMs} ms`));
      }
    }
    if (this.pending.size === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  private onData(chunk: Buffer): void {
    this.lastReceived = Date.now();
    if (this.mode === 'unknown') {
      // The HELLO response already comes in the negotiated form: a frame starts with 'R', a JSON line with '{'.
      this.mode = chunk[0] === 0x7b ? 'lines' : 'frames';
    }
    let payloads: Buffer[];
    try {
      payloads = this.mode === 'frames' ? this.frames.push(chunk).map((f) => f.payload) : this.lines.push(chunk);
    } catch (err) {
      return this.destroy(new RcpConnectionError(this.address, 'protocol', `protocol error from server: ${(err as Error).message}`));
    }
    for (const payload of payloads) {
      let msg: Record<string, unknown>;
      try {
        msg = parseMessage(payload);
      } catch (err) {
        return this.destroy(new RcpConnectionError(this.address, 'protocol', `protocol error from server: ${(err as FrameError).message}`));
      }
      if (this.options.trace) this.traceSafely('recv', msg);
      try {
        if (msg.type === 'response') this.onResponse(msg);
        else if (msg.type === 'event') this.onEvent(msg, payload.length);
        // Anything else is a message type from a newer server: ignore it.
      } catch (err) {
        // A listener that throws must not take the socket handler (and the process) down with it.
        this.warn(`a listener failed on a message from the server: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (this.closedWith) return; // closed meanwhile (by a listener, or by close())
    }
  }

  /** Nothing the server sends may throw out of a socket handler: a trace hook that fails is ignored. */
  private traceSafely(direction: 'send' | 'recv', message: Record<string, unknown>): void {
    try {
      this.options.trace!(direction, message);
    } catch {
      // A log line is not worth the connection (or the process).
    }
  }

  private warn(message: string): void {
    try {
      this.options.warn?.(`${this.address}: ${message}`);
    } catch {
      // As with trace: never out of the socket handler.
    }
  }

  private onResponse(msg: Record<string, unknown>): void {
    const id = msg.id;
    const p = typeof id === 'string' ? this.pending.get(id) : undefined;
    if (!p) return; // timed out already, or not ours
    this.pending.delete(id as string);
    const { result, error } = checkResponse(p.op, p.params, msg);
    if (error) p.reject(error);
    else p.resolve(result);
  }

  /** Events are checked here, once: a malformed one is skipped with a warning, never passed on. */
  private onEvent(msg: Record<string, unknown>, bytes: number): void {
    const problem = checkEvent(msg);
    if (problem) {
      this.warn(problem);
      return;
    }
    this.emit('event', msg as unknown as RcpEvent, bytes);
  }

  /**
   * PINGs when no request has left for `keepAliveMs` (a connection that only
   * receives events must still send, or the server's idle timer cuts it), and
   * when requests wait but nothing has arrived for that long. A PING without an
   * answer within the request timeout means the link is dead (a half-open TCP
   * connection after sleep or a NAT timeout never errors by itself): the
   * connection ends, so reconnect, re-subscription and gap filling run.
   */
  private startKeepAlive(): void {
    const every = this.options.keepAliveMs;
    if (!every || every <= 0) return;
    // Checked four times per interval, so a PING leaves at most a quarter interval late.
    this.keepAliveTimer = setInterval(() => this.keepAliveTick(every), Math.max(10, Math.floor(every / 4)));
    this.keepAliveTimer.unref();
  }

  private keepAliveTick(every: number): void {
    if (this.pinging || this.closedWith) return;
    const now = Date.now();
    const quietSend = now - this.lastSent >= every;
    const unanswered = this.pending.size > 0 && now - this.lastReceived >= every;
    if (!quietSend && !unanswered) return;
    this.pinging = true;
    const timeoutMs = this.options.requestTimeoutMs;
    this.request('PING', {}, timeoutMs).then(
      () => (this.pinging = false),
      (err: unknown) => {
        this.pinging = false;
        if (err instanceof RcpConnectionError && err.kind === 'timeout') {
          this.destroy(new RcpConnectionError(this.address, 'closed', `no answer to a keep-alive PING within ${timeoutMs} ms: the connection is lost`));
        }
      },
    );
  }

  /** Ends the socket now; everything in flight rejects with `reason`. Idempotent. */
  destroy(reason?: RcpConnectionError): void {
    if (this.closedWith) return;
    const err = reason ?? new RcpConnectionError(this.address, 'closed', 'connection closed');
    this.closedWith = err;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.socket?.destroy();
    const pending = [...this.pending.entries()];
    this.pending.clear();
    // Requests still in the outbox never reached the socket: say so, their outcome is known (nothing happened).
    for (const [id, p] of pending) p.reject(Number(id) > this.writtenThrough ? this.notSent(err, p.op) : err);
    if (this.established) this.emit('close', err);
  }

  /** The same failure, for a request that was never written. */
  private notSent(err: RcpConnectionError, op: string): RcpConnectionError {
    return new RcpConnectionError(this.address, err.kind, `${op} was not sent: ${err.message.replace(`${this.address}: `, '')}`, { cause: err, notSent: true });
  }

  /** Says BYE (briefly) and closes. */
  async close(): Promise<void> {
    if (this.closedWith) return;
    this.established = false; // a requested close is not a drop: no 'close' event
    try {
      await this.request('BYE', undefined, 1000);
    } catch {
      // The server may close before answering; either way we are done.
    }
    this.destroy(new RcpConnectionError(this.address, 'closed', 'the client closed the connection'));
  }
}

/** The HELLO result must name a protocol and wire mode this client speaks; anything else is refused for good. */
function checkHello(hello: HelloResult, offered: WireMode[]): HelloResult {
  const refuse = (message: string) => new RcpError('UNSUPPORTED_PROTOCOL', message, false, undefined, 'HELLO');
  if (hello === null || typeof hello !== 'object') throw refuse('the server answered HELLO without a result');
  if (hello.protocol_version !== PROTOCOL_VERSION) {
    throw refuse(`the server speaks RCP protocol version ${JSON.stringify(hello.protocol_version)}; this client speaks ${PROTOCOL_VERSION}`);
  }
  if (!offered.includes(hello.wire_mode)) {
    throw refuse(`the server chose wire mode ${JSON.stringify(hello.wire_mode)}; this client offered ${offered.join(', ')}`);
  }
  if (!Array.isArray(hello.features)) hello.features = [];
  return hello;
}

function redact(message: Record<string, unknown>): Record<string, unknown> {
  if (message.op !== 'AUTH') return message;
  return { ...message, params: { ...(message.params as object), token: '***' } };
}
