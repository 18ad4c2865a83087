import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { RcpClient, RcpError, type ClientState, type RcpEvent } from '../../src/rcp';
import { GAP_REPLAY_LIMIT } from '../../src/rcp/client';
import { encodeMessage, FrameDecoder, parseMessage } from '../../src/rcp/frame';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { fakeServer, GOOD_HELLO } from './fake-server';
import { startProxy } from './proxy';
import { waitFor } from './waitFor';

const FLIP = {
  states: ['a', 'b'],
  initial: 'a',
  transitions: [
    { from: 'a', event: 'flip', to: 'b' },
    { from: 'b', event: 'flip', to: 'a' },
  ],
};


/** A reconnecting client that PINGs often and waits little, so a silent link is noticed in well under a second. */
function quickToNotice(port: number): Promise<RcpClient> {
  return RcpClient.connect({
    host: '127.0.0.1',
    port,
    keepAliveMs: 150,
    requestTimeoutMs: 400,
    connectTimeoutMs: 400,
    reconnect: { enabled: true, initialDelayMs: 50, maxDelayMs: 200 },
  });
}

describe('dead links are noticed', { timeout: 120_000 }, () => {
  let emu: EmulatorProcess;
  let writer: RcpClient;

  before(async () => {
    emu = await startEmulator();
    writer = await RcpClient.connect({ host: emu.host, port: emu.port });
    await writer.putMachine({ machine: 'flip', version: 1, definition: FLIP });
  });
  after(async () => {
    await writer?.close();
    await emu?.stop();
  });

  test('a half-open link (nothing forwarded, nothing closed) ends the connection at the first unanswered keep-alive PING; once the link is back the subscription reconnects and fills the gap', async () => {
    await writer.createInstance({ machine: 'flip', version: 1, instance_id: 'half' });
    const proxy = await startProxy(emu);
    const client = await quickToNotice(proxy.port);
    const states: ClientState[] = [];
    client.on('state', (s: ClientState) => states.push(s));
    try {
      const sub = await client.watchAll({ machines: ['flip'] });
      const seen: number[] = [];
      sub.on('event', (e: RcpEvent) => seen.push(e.wal_offset));
      const first = await writer.applyEvent({ instance_id: 'half', event: 'flip' });
      await waitFor(() => seen.includes(first.wal_offset), 'the live event');

      proxy.halfOpen();
      await waitFor(() => states.includes('reconnecting'), 'the client to notice the silent link', 5_000);
      const missed = await writer.applyEvent({ instance_id: 'half', event: 'flip' });
      // Still down: reconnect attempts are accepted and hear nothing; they time out and try again.
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(client.state, 'reconnecting');
      proxy.restore();
      await waitFor(() => client.state === 'ready', 'ready again once the link is back');
      await waitFor(() => seen.includes(missed.wal_offset), 'the event applied while the link was down, from the WAL');
      const live = await writer.applyEvent({ instance_id: 'half', event: 'flip' });
      await waitFor(() => seen.includes(live.wal_offset), 'live events again');
      assert.deepEqual(seen, [first.wal_offset, missed.wal_offset, live.wal_offset], 'each once, in order');
      assert.deepEqual(await client.getInstance({ instance_id: 'half' }).then((i) => i.state), 'b');
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  test('after a half-open gap of more than GAP_REPLAY_LIMIT WAL records, the subscription says resync instead of replaying them; a short gap is still replayed', async () => {
    await writer.createInstance({ machine: 'flip', version: 1, instance_id: 'long' });
    const proxy = await startProxy(emu);
    const client = await quickToNotice(proxy.port);
    try {
      const sub = await client.watchAll({ machines: ['flip'], include_ctx: false });
      const seen: number[] = [];
      let resyncs = 0;
      let resumed = 0;
      sub.on('event', (e: RcpEvent) => seen.push(e.wal_offset));
      sub.on('resync', () => resyncs++);
      sub.on('resumed', () => resumed++);
      const away = async (records: number) => {
        proxy.halfOpen();
        await waitFor(() => client.state === 'reconnecting', 'the client to notice the silent link', 5_000);
        for (let left = records; left > 0; left -= 100) {
          const n = Math.min(100, left);
          await writer.batch({ mode: 'best_effort', ops: Array.from({ length: n }, () => ({ op: 'APPLY_EVENT', params: { instance_id: 'long', event: 'flip' } })) });
        }
        proxy.restore();
        await waitFor(() => client.state === 'ready', 'ready again');
      };

      await away(50);
      await waitFor(() => resumed === 1, "'resumed' after the short gap");
      assert.equal(seen.length, 50, 'a short gap is replayed');
      assert.equal(resyncs, 0);

      await away(GAP_REPLAY_LIMIT + 100);
      await waitFor(() => resumed === 2, "'resumed' after the long gap", 30_000);
      assert.equal(resyncs, 1, "'resync': re-read instead");
      assert.equal(seen.length, 50, 'none of the long gap replayed');
      const live = await writer.applyEvent({ instance_id: 'long', event: 'flip' });
      await waitFor(() => seen.at(-1) === live.wal_offset, 'live events again');
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  test('a connection that only receives events still PINGs, so an idle timer that counts only client requests never cuts it', async () => {
    await writer.createInstance({ machine: 'flip', version: 1, instance_id: 'busy' });
    // The real server's idle timer ignores the events it pushes: the proxy plays that timer.
    const proxy = await startProxy(emu, { clientIdleTimeoutMs: 700 });
    const client = await RcpClient.connect({ host: '127.0.0.1', port: proxy.port, keepAliveMs: 200 });
    const states: ClientState[] = [];
    client.on('state', (s: ClientState) => states.push(s));
    try {
      const sub = await client.watchAll({ machines: ['flip'] });
      let received = 0;
      sub.on('event', () => received++);
      // A steady stream of events for well past the idle timeout.
      const until = Date.now() + 2_000;
      let sent = 0;
      while (Date.now() < until) {
        await writer.applyEvent({ instance_id: 'busy', event: 'flip' });
        sent++;
        await new Promise((r) => setTimeout(r, 50));
      }
      await waitFor(() => received === sent, `all ${sent} events`);
      assert.deepEqual(states, [], 'the connection was never cut');
      assert.equal(client.state, 'ready');
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  test('every request carries params ({} when empty), as the real server requires', async () => {
    const requests: Record<string, unknown>[] = [];
    const decoder = new FrameDecoder();
    const proxy = await startProxy(emu, {
      cut: (bytes) => {
        for (const f of decoder.push(bytes)) requests.push(parseMessage(f.payload));
        return false;
      },
    });
    const client = await RcpClient.connect({ host: '127.0.0.1', port: proxy.port });
    try {
      await client.ping();
      await client.info();
      await client.listMachines();
      await client.walStats();
      await client.close(); // BYE
      const ops = requests.map((r) => r.op);
      for (const op of ['HELLO', 'PING', 'INFO', 'LIST_MACHINES', 'WAL_STATS', 'BYE']) assert.ok(ops.includes(op), `${op} was sent`);
      for (const r of requests) {
        assert.ok(r.params !== null && typeof r.params === 'object' && !Array.isArray(r.params), `${String(r.op)} carries a params object`);
      }
    } finally {
      await client.close();
      await proxy.close();
    }
  });
});

describe('the socket', () => {
  test('has TCP keep-alive on, so the kernel also probes a peer that went away', { skip: !existsSync('/proc/net/tcp') && 'needs Linux /proc/net/tcp' }, async () => {
    const server = await fakeServer(() => undefined);
    const client = await RcpClient.connect({ host: '127.0.0.1', port: server.port });
    try {
      const [accepted] = server.sockets;
      const localPort = accepted.remotePort!.toString(16).toUpperCase().padStart(4, '0');
      // /proc/net/tcp: "sl local rem st tx:rx tr:when ..."; timer 02 on an idle established socket is the keep-alive timer.
      const row = readFileSync('/proc/net/tcp', 'utf8')
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        // Only the established one (st 01): an earlier socket on the same port may linger in TIME_WAIT (timer 03).
        .find((cols) => cols[1] === `0100007F:${localPort}` && cols[3] === '01');
      assert.ok(row, 'the client socket is listed');
      assert.equal(row[5].split(':')[0], '02', 'the keep-alive timer is armed');
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('a server that refuses the session', { timeout: 30_000 }, () => {
  const refusedHello = async (result: Record<string, unknown>, expected: RegExp) => {
    const server = await fakeServer(() => undefined, () => ({ result: { ...GOOD_HELLO, ...result } }));
    try {
      await assert.rejects(RcpClient.connect({ host: '127.0.0.1', port: server.port }), (err: unknown) => {
        assert.ok(err instanceof RcpError, String(err));
        assert.equal(err.code, 'UNSUPPORTED_PROTOCOL');
        assert.match(err.message, expected);
        return true;
      });
    } finally {
      await server.close();
    }
  };

  test('a HELLO result with another protocol version is refused, saying which', () =>
    refusedHello({ protocol_version: 2 }, /protocol version 2; this client speaks 1/));

  test('a HELLO result with a wire mode the client did not offer is refused, saying which', () =>
    refusedHello({ wire_mode: 'msgpack' }, /wire mode "msgpack"; this client offered binary_json, jsonl/));

  /** Connects, then after a drop the server answers the reconnect's HELLO (or AUTH) with `error`: the client must give up, once. */
  const stopsReconnecting = async (refuse: 'HELLO' | 'AUTH', code: string) => {
    const error = { code, message: `invalid request: ${code.toLowerCase()}`, retryable: false };
    let auths = 0;
    const server = await fakeServer(
      (req, _socket, reply) => {
        if (req.op !== 'AUTH') return reply({ pong: true });
        if (++auths === 1) return reply({ authenticated: true });
        _socket.write(encodeMessage({ type: 'response', id: req.id, status: 'error', error }));
      },
      (n) => (refuse === 'HELLO' && n > 1 ? { error } : { result: GOOD_HELLO }),
    );
    const client = await RcpClient.connect({ host: '127.0.0.1', port: server.port, token: 't', reconnect: { enabled: true, initialDelayMs: 20, maxDelayMs: 40 } });
    let closedWith: Error | undefined;
    client.on('state', (s: ClientState, err?: Error) => s === 'closed' && (closedWith = err));
    try {
      for (const s of server.sockets) s.destroy();
      await waitFor(() => client.state === 'closed', 'the client to give up');
      assert.ok(closedWith instanceof RcpError, String(closedWith));
      assert.equal(closedWith.code, code);
      assert.equal(closedWith.op, refuse);
      const attempts = server.hellos;
      await new Promise((r) => setTimeout(r, 300)); // several backoff periods
      assert.equal(server.hellos, attempts, 'no further attempts');
      assert.equal(attempts, 2, 'one reconnect attempt, refused');
    } finally {
      await client.close();
      await server.close();
    }
  };

  test("the real server's BAD_REQUEST to HELLO (an unsupported protocol version) stops reconnecting", () => stopsReconnecting('HELLO', 'BAD_REQUEST'));

  test('an error answer to AUTH other than AUTH_FAILED stops reconnecting too', () => stopsReconnecting('AUTH', 'UNAUTHORIZED'));
});
