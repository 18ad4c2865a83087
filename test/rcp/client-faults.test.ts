import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RcpClient, RcpConnectionError } from '../../src/rcp';
import { encodeFrame, encodeMessage, HEADER_BYTES, MAX_PAYLOAD_BYTES } from '../../src/rcp/frame';
import { startEmulator } from '../emulator/process';
import { fakeServer, type Request } from './fake-server';

/** Starts three requests, then lets the fake server misbehave; all three must fail with a clear error. */
async function allInFlightFail(misbehave: (socket: import('node:net').Socket) => void, expected: RegExp) {
  let seen = 0;
  const server = await fakeServer((_req, socket) => {
    if (++seen === 3) misbehave(socket);
  });
  const client = await RcpClient.connect({ host: '127.0.0.1', port: server.port, requestTimeoutMs: 60_000 });
  try {
    const results = await Promise.allSettled([
      client.getInstance({ instance_id: 'a' }),
      client.getInstance({ instance_id: 'b' }),
      client.listMachines(),
    ]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      const err = (r as PromiseRejectedResult).reason;
      assert.ok(err instanceof RcpConnectionError, String(err));
      assert.match(err.message, expected);
      assert.ok(err.message.includes(`127.0.0.1:${server.port}`), 'the error names the server');
    }
    assert.equal(client.state, 'closed');
  } finally {
    await client.close();
    await server.close();
  }
}

describe('a server that breaks the protocol', () => {
  test('a frame with a bad CRC fails every request in flight', async () => {
    await allInFlightFail((s) => {
      const f = encodeMessage({ type: 'response', id: '2', status: 'ok', result: {} });
      f[f.length - 1] ^= 0x55;
      s.write(f);
    }, /CRC32C mismatch/);
  });

  test('an oversize frame header is refused before its payload arrives', async () => {
    await allInFlightFail((s) => {
      const h = encodeFrame(Buffer.alloc(0)).subarray(0, HEADER_BYTES);
      h.writeUInt32BE(MAX_PAYLOAD_BYTES + 1, 10);
      s.write(h);
    }, /exceeds the 16777216-byte limit/);
  });

  test('foreign bytes (an HTTP server on the port) are a protocol error', async () => {
    await allInFlightFail((s) => s.write('HTTP/1.1 400 Bad Request\r\n\r\n'), /bad frame magic/);
  });

  test('a frame whose payload is not JSON is a protocol error', async () => {
    await allInFlightFail((s) => s.write(encodeFrame(Buffer.from('{"type":"resp'))), /not valid JSON/);
  });

  test('a server that vanishes mid-request fails everything in flight at once', async () => {
    await allInFlightFail((s) => s.destroy(), /closed the connection/);
  });

  test('10,000 pipelined requests answered out of order each get their own answer', async () => {
    const held: { req: Request; reply: (r: unknown) => void }[] = [];
    const server = await fakeServer((req, socket, reply) => {
      held.push({ req, reply });
      if (held.length % 1000 !== 0) return;
      // Answer each batch of 1000 in a shuffled order.
      const batch = held.splice(0);
      for (let i = batch.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [batch[i], batch[j]] = [batch[j], batch[i]];
      }
      socket.cork();
      for (const h of batch) h.reply({ machine: 'm', version: 1, state: h.req.params?.instance_id, ctx: null, last_wal_offset: 0 });
      socket.uncork();
    });
    const client = await RcpClient.connect({ host: '127.0.0.1', port: server.port });
    try {
      const ids = Array.from({ length: 10_000 }, (_, i) => `inst-${i}`);
      const results = await Promise.all(ids.map((id) => client.getInstance({ instance_id: id })));
      assert.deepEqual(
        results.map((r) => r.state),
        ids,
      );
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('timeouts and unreachable servers', () => {
  test('a request the server never answers times out with a clear error; the next one does too, nothing hangs', async () => {
    const emu = await startEmulator({ fault: 'never-respond' });
    const client = await RcpClient.connect({ host: emu.host, port: emu.port, requestTimeoutMs: 300 });
    try {
      for (const p of [client.getInstance({ instance_id: 'x' }), client.listMachines()]) {
        await assert.rejects(p, (e: unknown) => e instanceof RcpConnectionError && e.kind === 'timeout' && /LIST_MACHINES|GET_INSTANCE/.test(e.message) && /300 ms/.test(e.message));
      }
    } finally {
      await client.close();
      await emu.stop();
    }
  });

  test('nothing listening: connect fails with "connection refused" naming the address', async () => {
    const emu = await startEmulator();
    const port = emu.port;
    await emu.stop();
    await assert.rejects(RcpClient.connect({ host: '127.0.0.1', port }), (e: unknown) => {
      assert.ok(e instanceof RcpConnectionError);
      assert.equal(e.kind, 'connect_failed');
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}.*refused`));
      return true;
    });
  });

  test('a server that accepts but never says HELLO back: connect times out', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    try {
      await assert.rejects(RcpClient.connect({ host: '127.0.0.1', port, connectTimeoutMs: 300 }), (e: unknown) => e instanceof RcpConnectionError && e.kind === 'timeout');
    } finally {
      silent.close();
    }
  });
});
