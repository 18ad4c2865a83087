import * as net from 'node:net';
import { FrameDecoder, parseMessage } from '../../src/rcp/frame';

/**
 * A TCP relay in front of a real server that writes down, per connection and in
 * order, each request the client sent (`>OP`) and each answer it got
 * (`<OP ok` / `<OP CODE`): what really went over the wire, whatever the client
 * believes. Binary frames only (the extension never asks for JSONL).
 */
export interface WireObserver {
  port: number;
  /** One list per connection made through the relay, in the order they were opened. */
  readonly connections: string[][];
  /** Cuts every connection (both sides), as a server restart would. */
  dropAll(): void;
  close(): Promise<void>;
}

/** `listenHost`: where the relay listens (default 127.0.0.1), e.g. this machine's LAN address to look like another machine. */
export async function observeWire(target: { host: string; port: number }, listenHost = '127.0.0.1'): Promise<WireObserver> {
  const sockets = new Set<net.Socket>();
  const connections: string[][] = [];
  const server = net.createServer((client) => {
    const log: string[] = [];
    connections.push(log);
    const ops = new Map<string, string>();
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    const fromClient = new FrameDecoder();
    const fromServer = new FrameDecoder();
    client.on('data', (d) => {
      for (const f of fromClient.push(d)) {
        const m = parseMessage(f.payload) as { id: string; op: string };
        ops.set(m.id, m.op);
        log.push(`>${m.op}`);
      }
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      for (const f of fromServer.push(d)) {
        const m = parseMessage(f.payload) as { type: string; id: string; status: string; error?: { code: string } };
        if (m.type === 'response') log.push(`<${ops.get(m.id)} ${m.status === 'ok' ? 'ok' : m.error?.code}`);
      }
      client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Connections that asked for a subscription before AUTH had succeeded on them (each with what it sent). */
export function subscribedBeforeAuth(connections: string[][]): string[][] {
  return connections.filter((log) => {
    const watch = log.findIndex((e) => /^>WATCH_/.test(e));
    const authOk = log.indexOf('<AUTH ok');
    return watch >= 0 && (authOk < 0 || authOk > watch);
  });
}
