import * as net from 'node:net';
import * as tls from 'node:tls';
import { encodeMessage, FrameDecoder, parseMessage } from '../../src/rcp/frame';
import type { WireMode } from '../../src/rcp/types';
import { Database, OpError, optBool, optStrList, str, toWireError, type AppliedEvent, type Params, MAX_BATCH_OPS } from './database';

export const SERVER_NAME = 'rstmdb';
export const SERVER_VERSION = '0.1.4-emulator';
const SERVER_FEATURES = ['idempotency', 'batch', 'wal_read'];
const MAX_ID_BYTES = 256;
const OPEN_OPS = new Set(['HELLO', 'AUTH', 'PING', 'BYE']);

export interface ServerOptions {
  token?: string;
  tls?: { cert: string; key: string; ca?: string };
  fault?: 'never-respond' | `lose-events-for:${string}`;
  idleTimeoutMs?: number;
}

interface Subscription {
  id: string;
  instanceId?: string;
  machines?: string[];
  events?: string[];
  fromStates?: string[];
  toStates?: string[];
  includeCtx: boolean;
}

let subscriptionCounter = 0;
/** Ids differ across restarts, so a client cannot get away with routing by a stale id. */
const bootTag = Math.random().toString(36).slice(2, 8);
/**
 * Events for a subscriber whose socket has this much unsent output are
 * dropped, as the real server's bounded subscriber channel does: a slow
 * subscriber silently loses events (the WAL has them).
 */
export const SLOW_SUBSCRIBER_BYTES = 4 * 1024 * 1024;

/** One client connection: its wire mode, auth state and subscriptions. */
class Session {
  wireMode: WireMode = 'binary_json';
  authenticated: boolean;
  clientName: string | undefined;
  readonly subscriptions = new Map<string, Subscription>();
  private readonly decoder = new FrameDecoder();
  private corked = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly server: EmulatorServer,
  ) {
    this.authenticated = server.options.token === undefined;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => server.sessions.delete(this));
    if (server.options.idleTimeoutMs) socket.setTimeout(server.options.idleTimeoutMs, () => socket.destroy());
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

  send(message: object): void {
    if (this.socket.destroyed) return;
    this.cork();
    if (this.wireMode === 'jsonl') this.socket.write(JSON.stringify(message) + '\n');
    else this.socket.write(encodeMessage(message));
  }

  /** The server's answer to anything it cannot parse: close, no response. */
  private drop(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch {
      return this.drop();
    }
    for (const frame of frames) {
      if (this.socket.destroyed) return;
      let msg: Record<string, unknown>;
      try {
        msg = parseMessage(frame.payload);
      } catch {
        return this.drop();
      }
      const { type, id, op, params } = msg;
      if (
        type !== 'request' ||
        typeof id !== 'string' ||
        Buffer.byteLength(id) > MAX_ID_BYTES ||
        typeof op !== 'string' ||
        !this.server.knows(op) ||
        (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params)))
      ) {
        return this.drop();
      }
      this.handle(id, op, (params ?? {}) as Params);
    }
  }

  private handle(id: string, op: string, params: Params): void {
    const opts = this.server.options;
    if (opts.fault === 'never-respond' && op !== 'HELLO' && op !== 'AUTH') return;
    if (!this.authenticated && !OPEN_OPS.has(op)) {
      this.send({ type: 'response', id, status: 'error', error: { code: 'UNAUTHORIZED', message: 'authentication required: send AUTH first', retryable: false } });
      return;
    }
    try {
      const result = this.run(op, params);
      this.send({ type: 'response', id, status: 'ok', result });
      if (op === 'BYE') this.socket.end();
    } catch (err) {
      this.send({ type: 'response', id, status: 'error', error: toWireError(err) });
    }
  }

  private run(op: string, p: Params): unknown {
    const db = this.server.db;
    switch (op) {
      case 'HELLO':
        return this.hello(p);
      case 'AUTH': {
        if (p.method !== 'bearer') throw new OpError('BAD_REQUEST', `unsupported auth method '${String(p.method)}'`);
        const token = str(p, 'token');
        const expected = this.server.options.token;
        if (expected !== undefined && token !== expected) {
          throw new OpError('AUTH_FAILED', 'invalid token');
        }
        this.authenticated = true;
        return { authenticated: true };
      }
      case 'PING':
        return { pong: true };
      case 'BYE':
        return { goodbye: true };
      case 'INFO':
        return {
          server_name: SERVER_NAME,
          server_version: SERVER_VERSION,
          protocol_version: 1,
          features: SERVER_FEATURES,
          max_frame_bytes: 16 * 1024 * 1024,
          max_batch_ops: MAX_BATCH_OPS,
        };
      case 'PUT_MACHINE':
        return db.putMachine(p);
      case 'GET_MACHINE':
        return db.getMachine(p);
      case 'LIST_MACHINES':
        return db.listMachines();
      case 'CREATE_INSTANCE':
        return db.createInstance(p);
      case 'GET_INSTANCE':
        return db.getInstance(p);
      case 'LIST_INSTANCES':
        return db.listInstances(p);
      case 'DELETE_INSTANCE':
        return db.deleteInstance(p);
      case 'APPLY_EVENT':
        return db.applyEvent(p);
      case 'BATCH':
        return db.batch(p);
      case 'SNAPSHOT_INSTANCE':
        return db.snapshotInstance(p);
      case 'WAL_READ':
        return db.walRead(p);
      case 'WAL_STATS':
        return db.walStats();
      case 'COMPACT':
        return db.compact(p);
      case 'WATCH_INSTANCE': {
        const instanceId = str(p, 'instance_id');
        const inst = db.store.instances.get(instanceId);
        if (!inst) throw new OpError('INSTANCE_NOT_FOUND', `instance '${instanceId}' not found`);
        // from_offset is accepted and ignored, as the server does: no replay.
        const sub = this.subscribe({ instanceId, includeCtx: optBool(p, 'include_ctx') ?? true });
        return { subscription_id: sub.id, instance_id: instanceId, current_state: inst.state, current_wal_offset: inst.last_wal_offset };
      }
      case 'WATCH_ALL': {
        const sub = this.subscribe({
          machines: optStrList(p, 'machines'),
          events: optStrList(p, 'events'),
          fromStates: optStrList(p, 'from_states'),
          toStates: optStrList(p, 'to_states'),
          includeCtx: optBool(p, 'include_ctx') ?? true,
        });
        return { subscription_id: sub.id, wal_offset: db.store.latestOffset };
      }
      case 'UNWATCH': {
        const sid = str(p, 'subscription_id');
        return { subscription_id: sid, removed: this.subscriptions.delete(sid) };
      }
      default:
        throw new OpError('BAD_REQUEST', `unknown op ${op}`);
    }
  }

  private hello(p: Params): unknown {
    this.clientName = typeof p.client_name === 'string' ? p.client_name : undefined;
    if (p.protocol_version !== 1) {
      throw new OpError('UNSUPPORTED_PROTOCOL', `protocol version ${String(p.protocol_version)} is not supported (server speaks 1)`);
    }
    const modes = optStrList(p, 'wire_modes');
    // binary_json wins wherever it is listed; jsonl only when binary_json is absent.
    this.wireMode = !modes || modes.includes('binary_json') || !modes.includes('jsonl') ? 'binary_json' : 'jsonl';
    const asked = optStrList(p, 'features') ?? [];
    return {
      protocol_version: 1,
      wire_mode: this.wireMode,
      server_name: SERVER_NAME,
      server_version: SERVER_VERSION,
      features: SERVER_FEATURES.filter((f) => asked.includes(f)),
    };
  }

  private subscribe(spec: Omit<Subscription, 'id'>): Subscription {
    const sub = { id: `sub-${bootTag}-${++subscriptionCounter}`, ...spec };
    this.subscriptions.set(sub.id, sub);
    return sub;
  }

  deliver(e: AppliedEvent): void {
    if (this.subscriptions.size === 0 || this.socket.writableLength > SLOW_SUBSCRIBER_BYTES) return;
    const fault = this.server.options.fault;
    if (fault?.startsWith('lose-events-for:') && fault.slice('lose-events-for:'.length) === this.clientName) return;
    for (const sub of this.subscriptions.values()) {
      if (sub.instanceId !== undefined && sub.instanceId !== e.instance.id) continue;
      if (sub.machines && !sub.machines.includes(e.instance.machine)) continue;
      if (sub.events && !sub.events.includes(e.event)) continue;
      if (sub.fromStates && !sub.fromStates.includes(e.from_state)) continue;
      if (sub.toStates && !sub.toStates.includes(e.to_state)) continue;
      const msg: Record<string, unknown> = {
        type: 'event',
        subscription_id: sub.id,
        instance_id: e.instance.id,
        machine: e.instance.machine,
        version: e.instance.version,
        event: e.event,
        from_state: e.from_state,
        to_state: e.to_state,
        payload: e.payload,
      };
      if (sub.includeCtx) msg.ctx = e.ctx;
      msg.wal_offset = e.wal_offset;
      this.send(msg);
    }
  }
}

const KNOWN_OPS = new Set([
  'HELLO', 'AUTH', 'PING', 'BYE', 'INFO', 'PUT_MACHINE', 'GET_MACHINE', 'LIST_MACHINES', 'CREATE_INSTANCE',
  'GET_INSTANCE', 'LIST_INSTANCES', 'DELETE_INSTANCE', 'APPLY_EVENT', 'BATCH', 'WATCH_INSTANCE', 'WATCH_ALL',
  'UNWATCH', 'SNAPSHOT_INSTANCE', 'WAL_READ', 'WAL_STATS', 'COMPACT',
]);

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
    this.unsubscribe = db.onApplied((e) => {
      for (const s of this.sessions) s.deliver(e);
    });
  }

  knows(op: string): boolean {
    return KNOWN_OPS.has(op);
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
