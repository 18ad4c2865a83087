import { crc32c } from '@node-rs/crc32';
import * as net from 'node:net';

/**
 * A broken or malicious RCP server on a real socket, for the client's
 * hardening tests. It has its own framing (written from rcp-notes, sharing no
 * code with src/rcp), answers HELLO as the server does unless told otherwise,
 * and hands every other request to the test, which may answer, stay silent,
 * push events, write garbage or hang up. Randomness comes from `rng(seed)`,
 * so a failing round is replayed by its seed.
 */

export type Request = { id: string; op: string; params?: Record<string, unknown> };

export interface HostileConnection {
  readonly socket: net.Socket;
  /** Which connection this is (0 = the first one accepted). */
  readonly index: number;
  /** One message as one frame (one write). */
  send(message: unknown): void;
  /** Several messages in one write: they arrive in the same read. */
  sendTogether(messages: unknown[]): void;
  /** A frame around bytes that need not be JSON (or UTF-8). */
  sendPayload(payload: Buffer): void;
  /** Raw bytes, no framing. */
  sendRaw(bytes: Buffer | string): void;
  ok(req: Request, result: unknown): void;
}

export interface HostileServerOptions {
  /** What to do with a HELLO: answer it (default) or never answer. */
  hello?: (conn: HostileConnection, req: Request) => 'answer' | 'ignore';
  onRequest: (conn: HostileConnection, req: Request) => void;
  onConnection?: (conn: HostileConnection) => void;
}

export interface HostileServer {
  port: number;
  /** Sockets the server still has open. */
  readonly open: number;
  readonly connections: HostileConnection[];
  close(): Promise<void>;
}

/** An RCPX frame: magic, version 1, CRC flag, no header extension, length, CRC32C (big-endian). */
export function frame(payload: Buffer): Buffer {
  const out = Buffer.alloc(18 + payload.length);
  out.write('RCPX', 0, 'latin1');
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt32BE(payload.length, 10);
  out.writeUInt32BE(crc32c(payload) >>> 0, 14);
  payload.copy(out, 18);
  return out;
}

const json = (m: unknown) => Buffer.from(typeof m === 'string' ? m : JSON.stringify(m), 'utf8');

export const HELLO_RESULT = { protocol_version: 1, wire_mode: 'binary_json', server_name: 'hostile', server_version: '0', features: ['idempotency', 'batch', 'wal_read'] };

export async function hostileServer(options: HostileServerOptions): Promise<HostileServer> {
  const sockets = new Set<net.Socket>();
  const connections: HostileConnection[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const write = (b: Buffer | string) => {
      if (!socket.destroyed && socket.writable) socket.write(b);
    };
    const conn: HostileConnection = {
      socket,
      index: connections.length,
      send: (m) => write(frame(json(m))),
      sendTogether: (ms) => write(Buffer.concat(ms.map((m) => frame(json(m))))),
      sendPayload: (p) => write(frame(p)),
      sendRaw: (b) => write(b),
      ok: (req, result) => write(frame(json({ type: 'response', id: req.id, status: 'ok', result }))),
    };
    connections.push(conn);
    options.onConnection?.(conn);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 18) {
        const len = buffered.readUInt32BE(10) + buffered.readUInt16BE(8);
        if (buffered.length < 18 + len) break;
        const payload = buffered.subarray(18 + buffered.readUInt16BE(8), 18 + len);
        buffered = buffered.subarray(18 + len);
        const req = JSON.parse(payload.toString('utf8')) as Request;
        if (req.op === 'HELLO') {
          if ((options.hello?.(conn, req) ?? 'answer') === 'answer') conn.ok(req, HELLO_RESULT);
        } else if (req.op === 'BYE') {
          conn.ok(req, { goodbye: true });
          socket.end();
        } else {
          options.onRequest(conn, req);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    get open() {
      return sockets.size;
    },
    connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function rng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
  };
}

export { waitFor } from './waitFor';

/** A well-formed event. */
export function event(subscriptionId: string, walOffset: unknown, instance = 'i-1'): Record<string, unknown> {
  return {
    type: 'event',
    subscription_id: subscriptionId,
    instance_id: instance,
    machine: 'm',
    version: 1,
    event: 'go',
    from_state: 'a',
    to_state: 'b',
    payload: null,
    wal_offset: walOffset,
  };
}
