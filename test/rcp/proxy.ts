import * as net from 'node:net';

/** A TCP proxy in front of a real server, for faults the server itself would not produce. */
export interface FaultProxy {
  port: number;
  /** Cut every connection through the proxy (both sides). */
  dropAll(): void;
  /**
   * The link goes silent without closing anything, as after laptop sleep or a
   * NAT timeout: bytes already on their way and every later byte are lost, in
   * both directions, and neither side sees an error or a close. Connections
   * made while the link is down are accepted and then hear nothing.
   */
  halfOpen(): void;
  /**
   * The link is back: new connections work again. Connections that went
   * silent stay silent (their NAT entry, their peer's state, is gone).
   */
  restore(): void;
  /** Connections open through the proxy right now (client side). */
  readonly open: number;
  /** Cut every connection and refuse new ones until resume(): the server is unreachable for the client. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export interface ProxyFaults {
  /** Sees what the client sends; true drops that connection instead of forwarding. */
  cut?: (bytes: Buffer) => boolean;
  /**
   * Sees what the client sends; true forwards it, waits for the server's answer,
   * drops that answer and cuts the connection: the request was carried out, and
   * the client never hears so (a link lost mid-send).
   */
  cutAfterAnswer?: (bytes: Buffer) => boolean;
  /** Sees what the client sends; true forwards nothing, as a server that never answers. */
  swallow?: (bytes: Buffer) => boolean;
  /**
   * Cut a connection whose client has sent nothing for this long, as the real
   * server's idle timer does: events flowing to the client do not count.
   */
  clientIdleTimeoutMs?: number;
}

export async function startProxy(target: { host: string; port: number }, faults: ProxyFaults = {}): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>();
  const clients = new Set<net.Socket>();
  /** Freezes every connection that exists, and every one made while the link is down. */
  const freezers = new Set<() => void>();
  let linkDown = false;
  let paused = false;
  const server = net.createServer((client) => {
    if (paused) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    let silent = false;
    let idleTimer: NodeJS.Timeout | undefined;
    const freeze = () => {
      silent = true;
      clearTimeout(idleTimer); // a silent link closes nothing, not even by the server's idle timer
    };
    clients.add(client);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    const armIdle = () => {
      if (!faults.clientIdleTimeoutMs) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        client.destroy();
        upstream.destroy();
      }, faults.clientIdleTimeoutMs);
    };
    armIdle();
    freezers.add(freeze);
    if (linkDown) freeze();
    client.on('data', (d) => {
      if (silent) return;
      armIdle();
      if (faults.cut?.(d)) {
        client.destroy();
        upstream.destroy();
      } else if (faults.cutAfterAnswer?.(d)) {
        silent = true;
        upstream.write(d);
        upstream.once('data', () => {
          client.destroy();
          upstream.destroy();
        });
      } else if (!faults.swallow?.(d)) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!silent) client.write(d);
    });
    client.on('close', () => {
      clearTimeout(idleTimer);
      clients.delete(client);
      freezers.delete(freeze);
      upstream.destroy();
    });
    upstream.on('close', () => {
      // A silent link carries no FIN either: the client keeps believing in the connection.
      if (!silent) client.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get open() {
      return clients.size;
    },
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    halfOpen: () => {
      linkDown = true;
      for (const freeze of freezers) freeze();
    },
    restore: () => {
      linkDown = false;
    },
    pause: () => {
      paused = true;
      for (const s of sockets) s.destroy();
    },
    resume: () => {
      paused = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
