/**
 * RCP over TCP or TLS in front of a Database, with the real server's session
 * rules (rcp-notes.md "Session and envelope", "BATCH", "Lists, WAL, watches"):
 * what closes the connection without a response, what is answered, HELLO and
 * AUTH as the server checks them, WATCH_* without the auth check, BATCH
 * running any op, and an idle timer that only requests reset.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { AuthFailed, Database, MAX_BATCH_OPS, toWireError, wireError, type AppliedEvent, type WireError } from './database';
import { GuardCrash } from './guard';
import { JsonError, parseJson } from './json';
import { BadRequest, boolOr, loose, optString, optUnsigned, reqString, reqUnsigned, stringList, struct } from './params';
import { sortKeysDeep } from './values';
import { encodeJsonFrame, encodeJsonLine, FrameReader, FramingError, MAX_PAYLOAD } from './wire';

export const SERVER_NAME = 'rstmdb';
export const SERVER_VERSION = '0.1.4-emulator';
const SERVER_FEATURES = ['idempotency', 'batch', 'wal_read'];
/** Ops that work before AUTH when auth is required (WATCH_* skip the check altogether: a server bug, mirrored). */
const OPEN_OPS = new Set(['HELLO', 'AUTH', 'PING', 'BYE']);
export const OPS = [
  'HELLO', 'AUTH', 'PING', 'BYE', 'INFO', 'PUT_MACHINE', 'GET_MACHINE', 'LIST_MACHINES', 'CREATE_INSTANCE',
  'GET_INSTANCE', 'LIST_INSTANCES', 'DELETE_INSTANCE', 'APPLY_EVENT', 'BATCH', 'SNAPSHOT_INSTANCE', 'WAL_READ',
  'WAL_STATS', 'COMPACT', 'WATCH_INSTANCE', 'WATCH_ALL', 'UNWATCH',
];
const KNOWN_OPS = new Set(OPS);
const ENVELOPE_KEYS = ['type', 'id', 'op', 'params'];

type WireMode = 'binary_json' | 'jsonl';

export interface ServerOptions {
  token?: string;
  tls?: { cert: string; key: string; ca?: string };
  fault?: 'never-respond' | `lose-events-for:${string}`;
  /** Close a connection when no request came for this long (the server's default: 300 s). */
  idleTimeoutMs?: number;
  /** Where to say why a connection was closed (stderr in the emulator process). */
  log?: (line: string) => void;
}

interface Subscription {
  id: string;
  instanceId?: string;
  machines: string[];
  events: string[];
  fromStates: string[];
  toStates: string[];
  includeCtx: boolean;
  /**
   * A WATCH_* inside a BATCH answers a subscription_id, but nothing forwards
   * its events: the server only starts a forwarder for a top-level WATCH_*.
   */
  forwarded: boolean;
}

type Outcome = { result: unknown } | { error: WireError };

let subscriptionCounter = 0;
/** Ids differ across restarts, so a client cannot get away with routing by a stale id. */
const bootTag = Math.random().toString(36).slice(2, 8);
/**
 * Events for a subscriber whose socket has this much unsent output are
 * dropped, as the real server's bounded subscriber channel does: a slow
 * subscriber silently loses events (the WAL has them).
 */
export const SLOW_SUBSCRIBER_BYTES = 4 * 1024 * 1024;

/** Rust's Debug form of the failed op's error, which the server puts in `atomic batch failed: …`. */
function debugError(e: WireError): string {
  const variant = e.code.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
  return `Some(ResponseError { code: ${variant}, message: ${JSON.stringify(e.message)}, retryable: ${e.retryable}, details: {} })`;
}

/** One client connection: its wire mode, auth state, subscriptions and idle timer. */
class Session {
  wireMode: WireMode = 'binary_json';
  authenticated: boolean;
  clientName: string | undefined;
  readonly subscriptions = new Map<string, Subscription>();
  private readonly reader = new FrameReader();
  private corked = false;
  private closing = false;
  private lastRequestAt = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly server: EmulatorServer,
  ) {
    this.authenticated = server.options.token === undefined;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(this.idleTimer);
      server.sessions.delete(this);
    });
    this.armIdle(server.options.idleTimeoutMs);
  }

  /**
   * The server's idle check counts requests only: events it pushes and bytes
   * that do not complete a request do not keep a connection open.
   */
  private armIdle(ms: number | undefined, wait = ms): void {
    if (!ms) return;
    this.idleTimer = setTimeout(() => {
      const idle = Date.now() - this.lastRequestAt;
      if (idle >= ms) this.close(`idle for ${idle} ms (no request)`);
      else this.armIdle(ms, ms - idle);
    }, wait);
  }

  /** Writes made while handling one chunk leave in one go. */
  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  private send(message: object): void {
    if (this.socket.destroyed || this.closing) return;
    this.cork();
    if (this.wireMode === 'jsonl') this.socket.write(encodeJsonLine(message));
    else this.socket.write(encodeJsonFrame(message));
  }

  /** Closes after what was already written, without a response: how the server ends a connection. */
  private close(why: string): void {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.idleTimer);
    this.server.options.log?.(`closing connection: ${why}`);
    if (this.corked) {
      this.corked = false;
      this.socket.uncork();
    }
    this.socket.end(() => this.socket.destroy());
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.reader.push(chunk);
    for (;;) {
      let payload: Buffer | undefined;
      try {
        payload = this.reader.next();
      } catch (err) {
        if (err instanceof FramingError) return this.close(`bad frame: ${err.message}`);
        throw err;
      }
      if (!payload) return;
      this.onFrame(payload);
      if (this.closing || this.socket.destroyed) return;
    }
  }

  private onFrame(payload: Buffer): void {
    let parsed;
    try {
      parsed = parseJson(payload);
    } catch (err) {
      if (err instanceof JsonError) return this.close(`unparseable request: ${err.message}`);
      throw err;
    }
    const msg = parsed.value as Record<string, unknown>;
    // The server deserialises a Request struct: anything it cannot read closes the connection.
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return this.close('request is not an object');
    const dup = ENVELOPE_KEYS.find((k) => parsed.duplicateKeys.has(k));
    if (dup) return this.close(`duplicate field \`${dup}\``);
    const { type, id, op } = msg;
    if (typeof type !== 'string' || typeof id !== 'string') return this.close('request without a string type and id');
    if (typeof op !== 'string' || !KNOWN_OPS.has(op)) return this.close(`unknown op ${JSON.stringify(op)}`);
    const params = msg.params === undefined ? null : msg.params;
    const opts = this.server.options;
    if (opts.fault === 'never-respond' && op !== 'HELLO' && op !== 'AUTH') return;
    let outcome: Outcome;
    try {
      // WATCH_* bypass the handler's auth check (and its request count) on the server.
      outcome = op === 'WATCH_INSTANCE' || op === 'WATCH_ALL' ? this.attempt(() => this.watch(op, params, true)) : this.handle(op, params);
    } catch (err) {
      if (err instanceof GuardCrash) return this.close(`${err.message} (the real server's connection task panics here)`);
      throw err;
    }
    this.respond(id, outcome);
    if (this.byeSeen) this.close('BYE');
  }

  private byeSeen = false;

  private respond(id: string, o: Outcome): void {
    if ('error' in o) this.send({ type: 'response', id, status: 'error', error: o.error });
    else this.send({ type: 'response', id, status: 'ok', result: sortKeysDeep(o.result) });
  }

  private attempt(fn: () => unknown): Outcome {
    try {
      return { result: fn() };
    } catch (err) {
      if (err instanceof GuardCrash) throw err;
      return { error: toWireError(err) };
    }
  }

  /** The server's CommandHandler::handle: counts the request, checks auth, runs the op. */
  private handle(op: string, params: unknown): Outcome {
    this.lastRequestAt = Date.now();
    if (!this.authenticated && !OPEN_OPS.has(op)) return { error: wireError('UNAUTHORIZED', 'authentication required') };
    return this.attempt(() => this.run(op, params));
  }

  private run(op: string, params: unknown): unknown {
    const db = this.server.db;
    switch (op) {
      case 'HELLO':
        return this.hello(params);
      case 'AUTH':
        return this.auth(params);
      case 'PING':
        return { pong: true };
      case 'BYE':
        this.byeSeen = true;
        return { goodbye: true };
      case 'INFO':
        return {
          server_name: SERVER_NAME,
          server_version: SERVER_VERSION,
          protocol_version: 1,
          features: SERVER_FEATURES,
          max_frame_bytes: MAX_PAYLOAD,
          max_batch_ops: MAX_BATCH_OPS,
        };
      case 'PUT_MACHINE':
        return db.putMachine(params);
      case 'GET_MACHINE':
        return db.getMachine(params);
      case 'LIST_MACHINES':
        return db.listMachines();
      case 'CREATE_INSTANCE':
        return db.createInstance(params);
      case 'GET_INSTANCE':
        return db.getInstance(params);
      case 'LIST_INSTANCES':
        return db.listInstances(params);
      case 'DELETE_INSTANCE':
        return db.deleteInstance(params);
      case 'APPLY_EVENT':
        return db.applyEvent(params);
      case 'BATCH':
        return this.batch(params);
      case 'SNAPSHOT_INSTANCE':
        return db.snapshotInstance(params);
      case 'WAL_READ':
        return db.walRead(params);
      case 'WAL_STATS':
        return db.walStats();
      case 'COMPACT':
        return db.compact(params);
      case 'WATCH_INSTANCE':
      case 'WATCH_ALL':
        return this.watch(op, params, false);
      case 'UNWATCH': {
        const sid = reqString(struct(params, 'UnwatchParams'), 'subscription_id');
        return { subscription_id: sid, removed: this.subscriptions.delete(sid) };
      }
      default:
        throw new Error(`op ${op} has no handler`);
    }
  }

  private hello(params: unknown): unknown {
    const p = struct(params, 'HelloParams');
    const version = reqUnsigned(p, 'protocol_version', 16);
    const clientName = optString(p, 'client_name');
    const modes = stringList(p, 'wire_modes');
    const asked = stringList(p, 'features');
    if (version !== 1) throw new BadRequest(`unsupported protocol version: ${version}`);
    this.clientName = clientName;
    // binary_json wins wherever it is listed; jsonl only when binary_json is absent.
    this.wireMode = modes.includes('binary_json') || !modes.includes('jsonl') ? 'binary_json' : 'jsonl';
    return {
      protocol_version: 1,
      wire_mode: this.wireMode,
      server_name: SERVER_NAME,
      server_version: SERVER_VERSION,
      features: SERVER_FEATURES.filter((f) => asked.includes(f)),
    };
  }

  private auth(params: unknown): unknown {
    const p = struct(params, 'AuthParams');
    const method = reqString(p, 'method');
    const token = reqString(p, 'token');
    if (method !== 'bearer') throw new AuthFailed(`unsupported auth method: ${method}`);
    const expected = this.server.options.token;
    // A server without auth takes any token but an empty one.
    if (expected === undefined && token === '') throw new AuthFailed('empty token');
    if (expected !== undefined && token !== expected) throw new AuthFailed('invalid token');
    this.authenticated = true;
    return { authenticated: true };
  }

  private watch(op: 'WATCH_INSTANCE' | 'WATCH_ALL', params: unknown, forwarded: boolean): unknown {
    const db = this.server.db;
    if (op === 'WATCH_INSTANCE') {
      const p = struct(params, 'WatchInstanceParams');
      const instanceId = reqString(p, 'instance_id');
      const includeCtx = boolOr(p, 'include_ctx', true);
      optUnsigned(p, 'from_offset', 64); // accepted and ignored: no replay
      const inst = db.store.instance(instanceId);
      const sub = this.subscribe({ instanceId, machines: [], events: [], fromStates: [], toStates: [], includeCtx, forwarded });
      return { subscription_id: sub.id, instance_id: instanceId, current_state: inst.state, current_wal_offset: inst.last_wal_offset };
    }
    const p = struct(params, 'WatchAllParams');
    const includeCtx = boolOr(p, 'include_ctx', true);
    optUnsigned(p, 'from_offset', 64);
    const sub = this.subscribe({
      // An empty list is no filter.
      machines: stringList(p, 'machines'),
      events: stringList(p, 'events'),
      fromStates: stringList(p, 'from_states'),
      toStates: stringList(p, 'to_states'),
      includeCtx,
      forwarded,
    });
    return { subscription_id: sub.id, wal_offset: db.store.latestOffset };
  }

  private subscribe(spec: Omit<Subscription, 'id'>): Subscription {
    const sub = { id: `sub-${bootTag}-${++subscriptionCounter}`, ...spec };
    this.subscriptions.set(sub.id, sub);
    return sub;
  }

  /** The server's BATCH: any op, run through the same handler; `atomic` stops at the first error and keeps what ran. */
  private batch(params: unknown): unknown {
    const mode = loose(params, 'mode');
    const ops = loose(params, 'ops');
    if (!Array.isArray(ops)) throw new BadRequest('missing ops array');
    if (ops.length > MAX_BATCH_OPS) throw new BadRequest(`batch size ${ops.length} exceeds limit ${MAX_BATCH_OPS}`);
    const results = [];
    for (const entry of ops) {
      const op = loose(entry, 'op');
      if (typeof op !== 'string') throw new BadRequest('missing op type');
      if (!KNOWN_OPS.has(op)) throw new BadRequest(`unknown variant \`${op}\`, expected one of ${OPS.map((o) => `\`${o}\``).join(', ')}`);
      const p = loose(entry, 'params');
      const o = this.handle(op, p === undefined ? null : p);
      if (mode === 'atomic' && 'error' in o) throw new BadRequest(`atomic batch failed: ${debugError(o.error)}`);
      results.push('error' in o ? { status: 'error', result: null, error: o.error } : { status: 'ok', result: o.result, error: null });
    }
    return { results };
  }

  deliver(e: AppliedEvent): void {
    if (this.subscriptions.size === 0 || this.closing || this.socket.writableLength > SLOW_SUBSCRIBER_BYTES) return;
    const fault = this.server.options.fault;
    if (fault?.startsWith('lose-events-for:') && fault.slice('lose-events-for:'.length) === this.clientName) return;
    for (const sub of this.subscriptions.values()) {
      if (!sub.forwarded) continue;
      if (sub.instanceId !== undefined) {
        if (sub.instanceId !== e.instance_id) continue;
      } else if (
        (sub.machines.length && !sub.machines.includes(e.machine)) ||
        (sub.events.length && !sub.events.includes(e.event)) ||
        (sub.fromStates.length && !sub.fromStates.includes(e.from_state)) ||
        (sub.toStates.length && !sub.toStates.includes(e.to_state))
      ) {
        continue;
      }
      // The server's StreamEvent field order; payload is null when the request had none.
      const msg: Record<string, unknown> = {
        type: 'event',
        subscription_id: sub.id,
        instance_id: e.instance_id,
        machine: e.machine,
        version: e.version,
        wal_offset: e.wal_offset,
        from_state: e.from_state,
        to_state: e.to_state,
        event: e.event,
        payload: e.payload,
      };
      if (sub.includeCtx) msg.ctx = e.ctx;
      this.send(msg);
    }
  }
}

const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * The real server verifies client certificates with rustls (webpki), which
 * wants X.509 v3 with the clientAuth extended key usage; OpenSSL alone would
 * also take v1 certificates and ones with no extended key usage. A v1
 * certificate has no extensions, so "no clientAuth EKU" covers both.
 */
function acceptableClientCert(socket: tls.TLSSocket): boolean {
  const cert = socket.getPeerX509Certificate();
  return !!cert && (cert.keyUsage ?? []).includes(EKU_CLIENT_AUTH);
}

/** RCP over TCP or TLS in front of a Database. */
export class EmulatorServer {
  readonly sessions = new Set<Session>();
  private readonly server: net.Server;
  private readonly unsubscribe: () => void;

  constructor(
    readonly db: Database,
    readonly options: ServerOptions,
  ) {
    const onConnection = (socket: net.Socket) => {
      if (options.tls?.ca !== undefined && !acceptableClientCert(socket as tls.TLSSocket)) {
        socket.destroy();
        return;
      }
      this.sessions.add(new Session(socket, this));
    };
    if (options.tls) {
      this.server = tls.createServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          ca: options.tls.ca,
          requestCert: options.tls.ca !== undefined,
          rejectUnauthorized: options.tls.ca !== undefined,
        },
        onConnection,
      );
      this.server.on('tlsClientError', () => undefined);
    } else {
      this.server = net.createServer(onConnection);
    }
    // The server forwards events through per-connection tasks, so a response goes out before
    // the events its request caused: deliver after the current request's answer is written.
    let queued: AppliedEvent[] = [];
    this.unsubscribe = db.onApplied((e) => {
      if (queued.length === 0) {
        queueMicrotask(() => {
          const batch = queued;
          queued = [];
          for (const ev of batch) {
            const out = { ...ev, payload: sortKeysDeep(ev.payload) };
            for (const s of this.sessions) s.deliver(out);
          }
        });
      }
      queued.push(e);
    });
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    this.unsubscribe();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
