import * as net from 'node:net';

/** A TCP proxy in front of a real server, for faults the server itself would not produce. */
export interface FaultProxy {
  port: number;
  /** Cut every connection through the proxy (both sides). */
  dropAll(): void;
  close(): Promise<void>;
}

export interface ProxyFaults {
  /** Sees what the client sends; true drops that connection instead of forwarding. */
  cut?: (bytes: Buffer) => boolean;
  /** Sees what the client sends; true forwards nothing, as a server that never answers. */
  swallow?: (bytes: Buffer) => boolean;
}

export async function startProxy(target: { host: string; port: number }, faults: ProxyFaults = {}): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (d) => {
      if (faults.cut?.(d)) {
        client.destroy();
        upstream.destroy();
      } else if (!faults.swallow?.(d)) upstream.write(d);
    });
    upstream.on('data', (d) => client.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
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
