/** A bare RCP connection for emulator tests: frames out, frames or JSONL lines in, nothing hidden. */
import { once } from 'node:events';
import * as net from 'node:net';
import { encodeJsonFrame, FrameReader } from './wire';

/** Leave `params` out of the request altogether. */
export const NO_PARAMS = Symbol('no params');

export type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export class Raw {
  readonly inbox: Msg[] = [];
  closed = false;
  readonly whenClosed: Promise<void>;
  private readonly reader = new FrameReader();
  private text = '';
  private nextId = 0;
  private listeners = new Set<() => void>();

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      // The HELLO answer that negotiates jsonl is already a line: a chunk starting with '{' is JSONL.
      if (this.text !== '' || chunk[0] === 0x7b) {
        this.text += chunk.toString('utf8');
        let nl;
        while ((nl = this.text.indexOf('\n')) >= 0) {
          this.inbox.push(JSON.parse(this.text.slice(0, nl)));
          this.text = this.text.slice(nl + 1);
        }
      } else {
        this.reader.push(chunk);
        for (let p = this.reader.next(); p; p = this.reader.next()) this.inbox.push(JSON.parse(p.toString('utf8')));
      }
      for (const l of this.listeners) l();
    });
    socket.on('error', () => undefined);
    this.whenClosed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        for (const l of this.listeners) l();
        resolve();
      }),
    );
  }

  static async open(port: number): Promise<Raw> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new Raw(socket);
  }

  /** Resolves when check() holds; rejects after ms or when the connection closed first. */
  waitFor<T>(check: () => T | undefined | false, what: string, ms = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error, v?: T) => {
        clearTimeout(timer);
        this.listeners.delete(poll);
        if (err) reject(err);
        else resolve(v as T);
      };
      const poll = () => {
        const v = check();
        if (v) return done(undefined, v);
        if (this.closed) done(new Error(`connection closed while waiting for ${what}`));
      };
      const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}`)), ms);
      this.listeners.add(poll);
      poll();
    });
  }

  write(message: unknown): void {
    this.socket.write(encodeJsonFrame(message));
  }

  /** Sends a request and resolves with its response (matched by id). */
  async request(op: string, params: unknown = {}, envelope: Msg = {}): Promise<Msg> {
    const id = String(++this.nextId);
    const msg: Msg = { type: 'request', id, op, ...envelope };
    if (params !== NO_PARAMS) msg.params = params;
    this.write(msg);
    return this.waitFor(() => this.inbox.find((m) => m.type === 'response' && m.id === id), `the answer to ${op}`);
  }

  /** The result of an ok answer; throws with the error otherwise. */
  async ok(op: string, params: unknown = {}): Promise<Msg> {
    const r = await this.request(op, params);
    if (r.status !== 'ok') throw new Error(`${op} answered ${JSON.stringify(r.error)}`);
    return r.result;
  }

  /** The error of an error answer; throws when it succeeded. */
  async err(op: string, params: unknown = {}): Promise<{ code: string; message: string; retryable: boolean; details?: unknown }> {
    const r = await this.request(op, params);
    if (r.status !== 'error') throw new Error(`${op} succeeded: ${JSON.stringify(r.result)}`);
    return r.error;
  }

  events(): Msg[] {
    return this.inbox.filter((m) => m.type === 'event');
  }

  close(): void {
    this.socket.destroy();
  }
}
