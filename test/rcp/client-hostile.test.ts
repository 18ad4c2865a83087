import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient, RcpConnectionError, RcpError, Subscription, type RcpEvent } from '../../src/rcp';
import { formatTrace } from '../../src/model/traceFormat';
import { event, hostileServer, rng, waitFor, type HostileConnection, type HostileServer, type Request } from './hostile-server';

/**
 * The client against a broken or malicious server (test/rcp/hostile-server.ts).
 * Randomised rounds are replayable: RSTMDB_HOSTILE_SEED=<seed> RSTMDB_HOSTILE_ROUNDS=<n>.
 */

// Invariant for every test here: nothing the server sends escapes as an uncaught exception or unhandled rejection.
const escaped: unknown[] = [];
const onEscape = (err: unknown) => escaped.push(err);
before(() => {
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
});
after(() => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
  assert.deepEqual(escaped, [], 'nothing escaped the client');
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
});

/** A rejection the way a person meets it: a library error with a code and a readable message. */
function assertLibraryError(err: unknown, context: string): asserts err is RcpError | RcpConnectionError {
  assert.ok(err instanceof RcpError || err instanceof RcpConnectionError, `${context}: ${String(err)} is a library error`);
  assert.ok(err.message.trim().length > 0, `${context}: the message is not empty`);
  assert.doesNotMatch(err.message, /\[object Object\]|undefined/, `${context}: the message reads well (${err.message})`);
  if (err instanceof RcpError) {
    assert.equal(typeof err.code, 'string', `${context}: the code is a string`);
    assert.ok(err.code.length > 0, `${context}: the code is not empty`);
    assert.equal(typeof err.retryable, 'boolean');
  }
}

async function withClient(server: HostileServer, fn: (c: RcpClient) => Promise<void>, extra: Parameters<typeof RcpClient.connect>[0] extends infer O ? Partial<O> : never = {}): Promise<void> {
  const client = await RcpClient.connect({ host: '127.0.0.1', port: server.port, requestTimeoutMs: 2000, keepAliveMs: 0, ...extra });
  try {
    await fn(client);
  } finally {
    await client.close();
    await waitFor(() => server.open === 0, 'close() to leave no socket open');
    await server.close();
  }
}

const DEFINITION = { states: ['a', 'b'], initial: 'a', transitions: [{ from: 'a', event: 'go', to: 'b' }] };

/** One call per op, with a result that breaks its shape and the field the error must name. */
const MALFORMED: { op: string; call: (c: RcpClient) => Promise<unknown>; result: unknown; field: RegExp }[] = [
  { op: 'INFO', call: (c) => c.info(), result: { server_name: 'x' }, field: /result\.server_version/ },
  { op: 'PUT_MACHINE', call: (c) => c.putMachine({ machine: 'm', version: 1, definition: DEFINITION }), result: { machine: 'm', version: '1', stored_checksum: 'x', created: true }, field: /result\.version/ },
  { op: 'GET_MACHINE', call: (c) => c.getMachine({ machine: 'm', version: 1 }), result: { definition: { states: 'a' }, checksum: 'x' }, field: /result\.definition\.states/ },
  { op: 'LIST_MACHINES', call: (c) => c.listMachines(), result: { items: [{ machine: 5, versions: [1] }] }, field: /result\.items\[0\]\.machine/ },
  { op: 'CREATE_INSTANCE', call: (c) => c.createInstance({ machine: 'm', version: 1 }), result: { instance_id: 'i', state: 'a', wal_offset: 2 ** 60 }, field: /result\.wal_offset/ },
  { op: 'GET_INSTANCE', call: (c) => c.getInstance({ instance_id: 'i' }), result: null, field: /result should be an object but is null/ },
  { op: 'LIST_INSTANCES', call: (c) => c.listInstances(), result: 'ok', field: /result should be an object/ },
  { op: 'LIST_INSTANCES', call: (c) => c.listInstances(), result: { instances: [], total: '3', has_more: false }, field: /result\.total/ },
  { op: 'DELETE_INSTANCE', call: (c) => c.deleteInstance({ instance_id: 'i' }), result: { instance_id: 'i', deleted: 'yes', wal_offset: 1 }, field: /result\.deleted/ },
  { op: 'APPLY_EVENT', call: (c) => c.applyEvent({ instance_id: 'i', event: 'go' }), result: { from_state: 'a', to_state: 'b', ctx: null, wal_offset: -1, applied: true }, field: /result\.wal_offset/ },
  { op: 'BATCH', call: (c) => c.batch({ mode: 'best_effort', ops: [{ op: 'GET_INSTANCE', params: { instance_id: 'i' } }] }), result: { results: [{ status: 'ok', result: { machine: 1 }, error: null }] }, field: /result\.results\[0\]\.result\.machine/ },
  { op: 'WATCH_INSTANCE', call: (c) => c.watchInstance({ instance_id: 'i' }), result: null, field: /result should be an object/ },
  { op: 'WATCH_ALL', call: (c) => c.watchAll(), result: { subscription_id: 's', wal_offset: '5' }, field: /result\.wal_offset/ },
  { op: 'SNAPSHOT_INSTANCE', call: (c) => c.snapshotInstance({ instance_id: 'i' }), result: { instance_id: 'i' }, field: /result\.snapshot_id/ },
  { op: 'WAL_READ', call: (c) => c.walRead({ from_offset: 0 }), result: { records: [{ sequence: 1, offset: 5, entry: { type: 'delete_instance', instance_id: 'i' } }], next_offset: null }, field: /result\.next_offset/ },
  { op: 'WAL_READ', call: (c) => c.walRead({ from_offset: 0 }), result: { records: [], next_offset: 2 ** 60 }, field: /result\.next_offset/ },
  { op: 'WAL_STATS', call: (c) => c.walStats(), result: { entry_count: 1, latest_offset: null }, field: /result\.latest_offset/ },
  { op: 'COMPACT', call: (c) => c.compact(), result: 'done', field: /result should be an object/ },
];

/** Valid answers by op, for the random rounds. */
const VALID: Record<string, (req: Request) => unknown> = {
  GET_INSTANCE: () => ({ machine: 'm', version: 1, state: 'a', ctx: null, last_wal_offset: 3 }),
  LIST_INSTANCES: () => ({ instances: [{ id: 'i', machine: 'm', version: 1, state: 'a', created_at: 1, updated_at: 2, last_wal_offset: 3 }], total: 1, has_more: false }),
  INFO: () => ({ server_name: 'h', server_version: '0', protocol_version: 1, features: [], max_frame_bytes: 16777216, max_batch_ops: 100 }),
  WAL_READ: () => ({ records: [{ sequence: 1, offset: 7, entry: { type: 'delete_instance', instance_id: 'i' } }], next_offset: 8 }),
  BATCH: () => ({ results: [{ status: 'error', result: null, error: { code: 'INSTANCE_NOT_FOUND', message: 'no', retryable: false } }] }),
  UNWATCH: (req) => ({ subscription_id: req.params?.subscription_id, removed: true }),
};

/** Error answers a broken server sends, for every op. */
const BAD_ERRORS: unknown[] = [{}, 'boom', { code: 5, message: { a: 1 } }, { code: 'X' }, null, { code: '', message: '' }, { message: 'only a message' }];

describe('a hostile server: every answer is checked', () => {
  for (const { op, call, result, field } of MALFORMED) {
    test(`a malformed ${op} result is BAD_RESPONSE naming the op and ${field.source}`, { timeout: 10_000 }, async () => {
      const server = await hostileServer({ onRequest: (conn, req) => conn.ok(req, result) });
      await withClient(server, async (client) => {
        const err = await call(client).then(
          () => assert.fail('resolved'),
          (e: unknown) => e,
        );
        assertLibraryError(err, op);
        assert.ok(err instanceof RcpError);
        assert.equal(err.code, 'BAD_RESPONSE');
        assert.equal(err.op, op);
        assert.match(err.message, new RegExp(op));
        assert.match(err.message, field);
        assert.equal(err.retryable, false);
      });
    });
  }

  test('a HELLO result of null fails connect with BAD_RESPONSE instead of handing out a client without a server', { timeout: 10_000 }, async () => {
    const server = await hostileServer({
      hello: (conn, req) => (conn.ok(req, null), 'ignore'),
      onRequest: () => undefined,
    });
    try {
      const err = await RcpClient.connect({ host: '127.0.0.1', port: server.port }).then(
        (c) => (void c.close(), assert.fail('connected')),
        (e: unknown) => e,
      );
      assertLibraryError(err, 'HELLO');
      assert.equal((err as RcpError).code, 'BAD_RESPONSE');
      assert.match(err.message, /HELLO/);
      await waitFor(() => server.open === 0, 'the refused connection to be closed');
    } finally {
      await server.close();
    }
  });

  test('a response with no result, and a status that is neither ok nor error, are BAD_RESPONSE', { timeout: 10_000 }, async () => {
    let n = 0;
    const server = await hostileServer({
      onRequest: (conn, req) => conn.send(n++ === 0 ? { type: 'response', id: req.id, status: 'ok' } : { type: 'response', id: req.id, status: 'maybe', result: {} }),
    });
    await withClient(server, async (client) => {
      for (const what of [/has no result/, /status should be "ok" or "error" but is the string "maybe"/]) {
        const err = await client.getInstance({ instance_id: 'i' }).catch((e: unknown) => e);
        assertLibraryError(err, 'GET_INSTANCE');
        assert.equal((err as RcpError).code, 'BAD_RESPONSE');
        assert.match(err.message, what);
      }
    });
  });

  test('malformed error answers become readable library errors; retryable only when the server sent true', { timeout: 10_000 }, async () => {
    const answers: unknown[] = [...BAD_ERRORS, { code: 'RATE_LIMITED', message: 'slow down', retryable: 'yes' }, { code: 'RATE_LIMITED', message: 'slow down', retryable: true }];
    let n = 0;
    const server = await hostileServer({ onRequest: (conn, req) => conn.send({ type: 'response', id: req.id, status: 'error', error: answers[n++] }) });
    await withClient(server, async (client) => {
      const errors: RcpError[] = [];
      for (let i = 0; i < answers.length; i++) {
        const err = await client.getInstance({ instance_id: 'i' }).catch((e: unknown) => e);
        assertLibraryError(err, `error answer ${JSON.stringify(answers[i])}`);
        errors.push(err as RcpError);
      }
      assert.deepEqual(errors.map((e) => e.retryable), [...BAD_ERRORS.map(() => false), false, true]);
      assert.match(errors[1].message, /error is the string "boom"/);
      assert.match(errors[2].message, /error\.code is the number 5/);
      assert.equal(errors[3].code, 'X');
      assert.match(errors[3].message, /the server answered X without a message/);
      assert.equal(errors.at(-1)!.code, 'RATE_LIMITED');
      assert.equal(errors.at(-1)!.message, 'slow down');
    });
  });

  test('PUT_MACHINE INTERNAL_ERROR with retryable true reads as a rejected definition and is not retryable', { timeout: 10_000 }, async () => {
    const server = await hostileServer({
      onRequest: (conn, req) => conn.send({ type: 'response', id: req.id, status: 'error', error: { code: 'INTERNAL_ERROR', message: 'core error: duplicate transition', retryable: true } }),
    });
    await withClient(server, async (client) => {
      const err = (await client.putMachine({ machine: 'm', version: 1, definition: DEFINITION }).catch((e: unknown) => e)) as RcpError;
      assert.ok(err instanceof RcpError);
      assert.equal(err.message, 'the server rejected this definition: core error: duplicate transition');
      assert.equal(err.retryable, false);
    });
  });

  test('invalid UTF-8 in a payload is a protocol error, not silently replaced', { timeout: 10_000 }, async () => {
    const server = await hostileServer({
      onRequest: (conn, req) => {
        const text = Buffer.from(`{"type":"response","id":"${req.id}","status":"ok","result":{"machine":"m\u0000","version":1,"state":"a","ctx":null,"last_wal_offset":1}}`, 'utf8');
        text[text.indexOf(0)] = 0xff; // a lone 0xFF inside a JSON string
        conn.sendPayload(text);
      },
    });
    await withClient(server, async (client) => {
      const err = await client.getInstance({ instance_id: 'i' }).catch((e: unknown) => e);
      assertLibraryError(err, 'GET_INSTANCE');
      assert.ok(err instanceof RcpConnectionError);
      assert.equal(err.kind, 'protocol');
      assert.match(err.message, /not valid UTF-8/);
    });
  });

  test('100,000 nested arrays with tracing on: the trace formatter caps it, a throwing trace hook is ignored, the answer arrives', { timeout: 20_000 }, async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const server = await hostileServer({
      onRequest: (conn, req) =>
        conn.sendPayload(Buffer.from(`{"type":"response","id":"${req.id}","status":"ok","result":{"machine":"m","version":1,"state":"a","ctx":${deep},"last_wal_offset":1}}`)),
    });
    const lines: string[] = [];
    await withClient(
      server,
      async (client) => {
        const inst = await client.getInstance({ instance_id: 'i' });
        assert.equal(inst.state, 'a');
      },
      { trace: (_d, m) => lines.push(formatTrace(m)) },
    );
    assert.ok(lines.some((l) => l.includes('[…]') && l.length <= 4100), 'the deep result is traced, capped');
    const again = await hostileServer({
      onRequest: (conn, req) => conn.sendPayload(Buffer.from(`{"type":"response","id":"${req.id}","status":"ok","result":{"machine":"m","version":1,"state":"a","ctx":${deep},"last_wal_offset":1}}`)),
    });
    await withClient(again, async (client) => assert.equal((await client.getInstance({ instance_id: 'i' })).state, 'a'), {
      trace: (_d, m) => void JSON.stringify(m), // throws RangeError on the deep result
    });
  });

  test('"__proto__" and "constructor" keys in answers pollute nothing', { timeout: 10_000 }, async () => {
    const server = await hostileServer({
      onRequest: (conn, req) =>
        conn.sendPayload(
          Buffer.from(`{"type":"response","id":"${req.id}","status":"ok","__proto__":{"polluted":1},"result":{"__proto__":{"polluted":2},"constructor":{"prototype":{"polluted":3}},"machine":"m","version":1,"state":"a","ctx":{"__proto__":{"polluted":4}},"last_wal_offset":1}}`),
        ),
    });
    await withClient(server, async (client) => {
      const inst = await client.getInstance({ instance_id: 'i' });
      assert.equal(inst.state, 'a');
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  });
});

/** Answers WATCH_ALL with a subscription id; `then` may push events in the same write. */
function watchServer(then: (conn: HostileConnection, req: Request, answer: (extraBefore?: unknown[], extraAfter?: unknown[]) => void) => void, other: (conn: HostileConnection, req: Request) => void = () => undefined) {
  return hostileServer({
    onRequest: (conn, req) => {
      if (req.op === 'WATCH_ALL' || req.op === 'WATCH_INSTANCE') {
        const result = req.op === 'WATCH_ALL' ? { subscription_id: 's1', wal_offset: 10 } : { subscription_id: 's1', instance_id: 'i-1', current_state: 'a', current_wal_offset: 9 };
        then(conn, req, (before = [], afterIt = []) => conn.sendTogether([...before, { type: 'response', id: req.id, status: 'ok', result }, ...afterIt]));
      } else if (req.op === 'UNWATCH') {
        conn.ok(req, { subscription_id: req.params?.subscription_id, removed: true });
      } else {
        other(conn, req);
      }
    },
  });
}

function collect(sub: Subscription): number[] {
  const seen: number[] = [];
  sub.on('event', (e: RcpEvent) => seen.push(e.wal_offset));
  return seen;
}

describe('a hostile server: events', () => {
  test('events just before and in the same read as the WATCH answer all reach a listener attached after the await', { timeout: 10_000 }, async () => {
    const server = await watchServer((_c, _r, answer) => answer([event('s1', 10)], [event('s1', 11), event('s1', 12)]));
    await withClient(server, async (client) => {
      const sub = await client.watchAll();
      const seen = collect(sub);
      await waitFor(() => seen.length >= 3, 'the three events');
      assert.deepEqual(seen, [10, 11, 12]);
      // An iterator attached later still sees what it has not consumed.
    });
  });

  test('the same events reach an iterator started after the await', { timeout: 10_000 }, async () => {
    const server = await watchServer((_c, _r, answer) => answer([event('s1', 10)], [event('s1', 11), event('s1', 12)]));
    await withClient(server, async (client) => {
      const sub = await client.watchAll();
      const seen: number[] = [];
      for await (const e of sub) {
        seen.push(e.wal_offset);
        if (seen.length === 3) break;
      }
      assert.deepEqual(seen, [10, 11, 12]);
    });
  });

  test('absurd offsets and malformed events are skipped with a warning; later events still arrive', { timeout: 10_000 }, async () => {
    const bad = [2 ** 60, '7', -1, 1.5, null, undefined].map((o) => event('s1', o));
    const missingField = { ...event('s1', 13), instance_id: 5 };
    const server = await watchServer((conn, _r, answer) => {
      answer([], [...bad, missingField]);
      conn.sendPayload(Buffer.from(JSON.stringify(event('s1', 0)).replace('"wal_offset":0', '"wal_offset":1e400'))); // Infinity once parsed
      conn.sendTogether([event('s1', 20), event('s1', 21)]);
    });
    const warnings: string[] = [];
    await withClient(
      server,
      async (client) => {
        const sub = await client.watchAll();
        const seen = collect(sub);
        await waitFor(() => seen.length >= 2, 'the valid events');
        assert.deepEqual(seen, [20, 21]);
        assert.equal(sub.resumeFrom, 22, 'the resume position is only moved by valid events');
        await waitFor(() => warnings.length >= 8, 'a warning per skipped event');
        assert.ok(warnings.every((w) => /malformed event from the server skipped: event\.(wal_offset|instance_id)/.test(w)), warnings.join('\n'));
      },
      { warn: (m) => warnings.push(m) },
    );
  });

  test('an event broadcast twice with the same wal_offset (an idempotent APPLY replay) is delivered once', { timeout: 10_000 }, async () => {
    const server = await watchServer((conn, _r, answer) => {
      answer();
      conn.sendTogether([event('s1', 30), event('s1', 30), event('s1', 31), event('s1', 30)]);
    });
    await withClient(server, async (client) => {
      const sub = await client.watchAll();
      const seen = collect(sub);
      await waitFor(() => seen.length >= 2, 'the events');
      // A later marker proves the replays were dropped, not just slow.
      server.connections[1].send(event('s1', 40));
      await waitFor(() => seen.includes(40), 'the marker');
      assert.deepEqual(seen, [30, 31, 40]);
    });
  });

  test('a flood of events for unknown subscription ids is dropped, not kept', { timeout: 30_000 }, async () => {
    let watchReq: Request | undefined;
    const server = await watchServer((_c, req, answer) => {
      if (!watchReq) answer();
      else watchReq = req; // the second WATCH stays unanswered for a while
    });
    await withClient(server, async (client) => {
      const sub = await client.watchAll();
      const seen = collect(sub);
      const conn = server.connections[1];
      const flood = (n: number) => {
        for (let i = 0; i < n; i += 1000) conn.sendTogether(Array.from({ length: 1000 }, (_, j) => event(`gone-${(i + j) % 5000}`, i + j)));
      };
      flood(50_000);
      conn.send(event('s1', 99));
      await waitFor(() => seen.includes(99), 'the marker after the flood');
      const internals = client as unknown as { orphans: unknown[]; orphanBytes: number };
      assert.equal(internals.orphans.length, 0, 'with no WATCH in flight nothing is kept');
      // With a WATCH in flight, events for ids not known yet are kept within a byte budget.
      watchReq = {} as Request;
      const pending = client.watchAll();
      pending.catch(() => undefined); // awaited below; not unhandled meanwhile
      await waitFor(() => watchReq !== undefined && watchReq.id !== undefined, 'the second WATCH to arrive');
      flood(50_000);
      conn.send(event('s1', 100));
      await waitFor(() => seen.includes(100), 'the marker after the second flood');
      assert.ok(internals.orphanBytes <= 1024 * 1024, `kept ${internals.orphanBytes} bytes`);
      conn.sendTogether([event('s2', 5), { type: 'response', id: watchReq.id, status: 'ok', result: { subscription_id: 's2', wal_offset: 5 } }]);
      const second = await pending;
      const seen2 = collect(second);
      await waitFor(() => seen2.length === 1, 'the early event of the second subscription');
      assert.equal(internals.orphans.length, 0, 'kept events are let go once no WATCH is in flight');
    }, { requestTimeoutMs: 60_000 }); // the WATCH waits while two floods are read, however slow the machine
  });
});

describe('a hostile server: closing and racing', () => {
  test('close() while the subscription connection waits for HELLO ends it at once; the watchAll() rejects', { timeout: 10_000 }, async () => {
    const server = await hostileServer({ hello: (conn) => (conn.index === 0 ? 'answer' : 'ignore'), onRequest: () => undefined });
    const client = await RcpClient.connect({ host: '127.0.0.1', port: server.port, connectTimeoutMs: 60_000, reconnect: { enabled: true } });
    try {
      const watching = client.watchAll().catch((e: unknown) => e);
      await waitFor(() => server.connections.length === 2, 'the subscription connection');
      await client.close();
      const err = await watching;
      assertLibraryError(err, 'watchAll');
      await waitFor(() => server.open === 0, 'every socket closed');
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('a watchAll() whose answer comes while close() runs never hands out a subscription that does not end', { timeout: 10_000 }, async () => {
    let answer: (() => void) | undefined;
    const server = await watchServer((_c, _r, a) => (answer = () => a()));
    const client = await RcpClient.connect({ host: '127.0.0.1', port: server.port });
    try {
      const watching = client.watchAll();
      await waitFor(() => answer !== undefined, 'the WATCH to arrive');
      const closing = client.close();
      answer!();
      const outcome = await watching.then(
        (sub) => sub,
        (e: unknown) => e,
      );
      await closing;
      if (outcome instanceof Subscription) assert.ok(outcome.closed, 'a subscription handed out is ended');
      else assertLibraryError(outcome, 'watchAll');
      await waitFor(() => server.open === 0, 'every socket closed');
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('close() during a reconnect whose HELLO never comes ends at once, not after the connect timeout', { timeout: 10_000 }, async () => {
    const server = await hostileServer({ hello: (conn) => (conn.index === 0 ? 'answer' : 'ignore'), onRequest: () => undefined });
    const client = await RcpClient.connect({ host: '127.0.0.1', port: server.port, connectTimeoutMs: 60_000, reconnect: { enabled: true, initialDelayMs: 1, maxDelayMs: 1 } });
    try {
      server.connections[0].socket.destroy();
      await waitFor(() => server.connections.length >= 2, 'the reconnect attempt');
      await client.close(); // the test's timeout is far below the 60 s connect timeout
      assert.equal(client.state, 'closed');
      await waitFor(() => server.open === 0, 'every socket closed');
    } finally {
      await server.close();
    }
  });
});

describe('a hostile server: gap filling', () => {
  test('after a reconnect the gap is filled with one BATCH of GET_INSTANCE for what passes the filters; too many live events meanwhile give up the fill with resync', { timeout: 30_000 }, async () => {
    const seenOps: string[] = [];
    let walRead: { conn: HostileConnection; req: Request } | undefined;
    let batchOps: unknown[] = [];
    let watches = 0;
    const server = await hostileServer({
      onRequest: (conn, req) => {
        seenOps.push(req.op);
        if (req.op === 'WATCH_ALL') {
          watches++;
          conn.ok(req, { subscription_id: `s${watches}`, wal_offset: watches === 1 ? 100 : 200 });
        } else if (req.op === 'WAL_READ') {
          walRead = { conn, req };
        } else if (req.op === 'BATCH') {
          batchOps = req.params?.ops as unknown[];
          conn.ok(req, { results: batchOps.map((_, i) => ({ status: 'ok', result: { machine: `m${i}`, version: 1, state: 'b', ctx: null, last_wal_offset: 1 }, error: null })) });
        } else if (req.op === 'UNWATCH') {
          conn.ok(req, { subscription_id: req.params?.subscription_id, removed: true });
        }
      },
    });
    await withClient(
      server,
      async (client) => {
        const sub = await client.watchAll({ events: ['go'] });
        const seen = collect(sub);
        let resumed = 0;
        let resyncs = 0;
        sub.on('resumed', () => resumed++);
        sub.on('resync', () => resyncs++);
        // First reconnect: the gap is filled from the WAL.
        server.connections[1].socket.destroy();
        await waitFor(() => walRead !== undefined, 'the gap fill to read the WAL');
        const rec = (offset: number, instance: string, ev: string) => ({ sequence: offset, offset, entry: { type: 'apply_event', instance_id: instance, event: ev, from_state: 'a', to_state: 'b', payload: null, ctx: null } });
        walRead!.conn.ok(walRead!.req, { records: [rec(150, 'x', 'go'), rec(160, 'y', 'stop'), rec(170, 'z', 'go'), rec(180, 'x', 'go')], next_offset: 200 });
        await waitFor(() => resumed === 1, 'the fill to finish');
        assert.deepEqual(seen, [150, 170, 180]);
        assert.equal(seenOps.filter((o) => o === 'BATCH').length, 1, 'one BATCH');
        assert.equal(seenOps.filter((o) => o === 'GET_INSTANCE').length, 0, 'no request per instance');
        assert.deepEqual(
          (batchOps as { params: { instance_id: string } }[]).map((o) => o.params.instance_id),
          ['x', 'z'],
          'only instances whose events pass the filters are looked up, each once',
        );
        // Second reconnect: the WAL read hangs while more live events than the cap arrive.
        walRead = undefined;
        server.connections.at(-1)!.socket.destroy();
        await waitFor(() => walRead !== undefined && watches === 3, 'the second gap fill');
        const live = server.connections.at(-1)!;
        for (let i = 0; i <= 10_000; i += 1000) live.sendTogether(Array.from({ length: Math.min(1000, 10_001 - i) }, (_, j) => event('s3', 1000 + i + j)));
        await waitFor(() => resyncs === 1, "'resync' once the cap is passed");
        await waitFor(() => seen.at(-1) === 11_000, 'live events to flow again');
        assert.equal(seen[3], 11_000, 'the held events were dropped, the one past the cap delivered');
        walRead!.conn.ok(walRead!.req, { records: [rec(250, 'x', 'go')], next_offset: 251 });
        live.send(event('s3', 11_001));
        await waitFor(() => seen.at(-1) === 11_001, 'the next live event');
        assert.ok(!seen.includes(250), 'the abandoned fill delivers nothing');
        assert.equal(resumed, 1, "no 'resumed' for a fill that was given up");
      },
      { reconnect: { enabled: true, initialDelayMs: 1, maxDelayMs: 5 }, requestTimeoutMs: 30_000 },
    );
  });
});

describe('a hostile server: randomised rounds', () => {
  const seed = Number(process.env.RSTMDB_HOSTILE_SEED ?? Date.now() % 1_000_000);
  const rounds = Number(process.env.RSTMDB_HOSTILE_ROUNDS ?? 60);

  test(`${rounds} rounds from seed ${seed} (replay: RSTMDB_HOSTILE_SEED=${seed})`, { timeout: 120_000 }, async () => {
    for (let round = 0; round < rounds; round++) {
      await playRound(seed + round).catch((err: Error) => {
        throw new Error(`round seed ${seed + round} (replay: RSTMDB_HOSTILE_SEED=${seed + round} RSTMDB_HOSTILE_ROUNDS=1): ${err.message}`, { cause: err });
      });
    }
  });
});

const BEHAVIOURS = ['valid', 'valid', 'valid', 'malformed', 'badError', 'silence', 'garbage', 'hangup', 'invalidUtf8', 'deep', 'proto', 'unknownIds'] as const;

async function playRound(seed: number): Promise<void> {
  const r = rng(seed);
  const expected = new Map<string, number[]>();
  let subs = 0;
  const server = await hostileServer({
    onRequest: (conn, req) => {
      const b = r.pick(BEHAVIOURS);
      if (req.op === 'UNWATCH') return conn.ok(req, { subscription_id: req.params?.subscription_id, removed: true });
      if (req.op === 'WATCH_ALL' && b === 'valid') {
        const id = `r${subs++}`;
        const offsets: number[] = [];
        const msgs: unknown[] = [];
        for (let o = 10, n = r.int(20); n > 0; n--) {
          o += 1 + r.int(3);
          offsets.push(o);
          msgs.push(event(id, o));
          if (r.chance(0.2)) msgs.push(event(id, o)); // a replay
          if (r.chance(0.2)) msgs.push(event(id, r.pick([2 ** 60, -5, '12', null]))); // absurd
          if (r.chance(0.2)) msgs.push(event(`x${r.int(1e6)}`, o)); // unknown id
        }
        expected.set(id, offsets);
        conn.sendTogether([...(r.chance(0.5) ? msgs.splice(0, r.int(3)) : []), { type: 'response', id: req.id, status: 'ok', result: { subscription_id: id, wal_offset: 10 } }, ...msgs]);
        return;
      }
      switch (b) {
        case 'valid':
          return VALID[req.op] ? conn.ok(req, VALID[req.op](req)) : conn.ok(req, null);
        case 'malformed':
          return conn.ok(req, r.pick([null, 'ok', 5, [], { total: '3' }, { records: [], next_offset: 2 ** 60 }]));
        case 'badError':
          return conn.send({ type: 'response', id: req.id, status: r.pick(['error', 'weird', undefined]), error: r.pick(BAD_ERRORS) });
        case 'silence':
          return;
        case 'garbage':
          return conn.sendRaw(Buffer.from(Array.from({ length: 1 + r.int(40) }, () => r.int(256))));
        case 'hangup':
          return conn.socket.destroy();
        case 'invalidUtf8':
          return conn.sendPayload(Buffer.concat([Buffer.from(`{"type":"response","id":"${req.id}","status":"ok","result":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]));
        case 'deep':
          return conn.sendPayload(Buffer.from(`{"type":"response","id":"${req.id}","status":"ok","result":${'['.repeat(20_000)}${']'.repeat(20_000)}}`));
        case 'proto':
          return conn.sendPayload(Buffer.from(`{"type":"response","id":"${req.id}","status":"ok","result":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}`));
        case 'unknownIds':
          conn.sendTogether(Array.from({ length: 200 }, (_, i) => event(`u${i}`, i)));
          return conn.ok(req, VALID[req.op]?.(req) ?? null);
      }
    },
  });
  const client = await RcpClient.connect({
    host: '127.0.0.1',
    port: server.port,
    requestTimeoutMs: 150,
    keepAliveMs: 0,
    trace: (_d, m) => void formatTrace(m),
    reconnect: { enabled: r.chance(0.5), initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 },
  });
  /** Per subscription (by its first id): what it delivered, with the id each event came under (a reconnect changes it). */
  const delivered = new Map<string, { id: string; offset: number }[]>();
  const calls: Promise<unknown>[] = [];
  const ops: ((c: RcpClient) => Promise<unknown>)[] = [
    (c) => c.getInstance({ instance_id: 'i' }),
    (c) => c.listInstances(),
    (c) => c.walRead({ from_offset: 0 }),
    (c) => c.info(),
    (c) => c.batch({ mode: 'best_effort', ops: [{ op: 'GET_INSTANCE', params: { instance_id: 'i' } }] }),
    (c) =>
      c.watchAll().then((sub) => {
        const list: { id: string; offset: number }[] = [];
        delivered.set(sub.id, list);
        sub.on('event', (e: RcpEvent) => list.push({ id: e.subscription_id, offset: e.wal_offset }));
        sub.on('error', () => undefined);
        return sub;
      }),
  ];
  try {
    for (let i = 0, n = 1 + r.int(6); i < n; i++) calls.push(r.pick(ops)(client));
    const closeEarly = r.chance(0.2);
    if (closeEarly) calls.push(client.close());
    const settled = await Promise.race([Promise.allSettled(calls), new Promise<'hung'>((res) => setTimeout(() => res('hung'), 5000).unref())]);
    assert.notEqual(settled, 'hung', 'every call settles');
    for (const s of settled as PromiseSettledResult<unknown>[]) if (s.status === 'rejected') assertLibraryError(s.reason, `seed ${seed}`);
    // Every event delivered to a subscription was a valid one, once, in order; with the connection still up, all of them.
    for (const [id, got] of delivered) {
      const want = expected.get(id) ?? [];
      if (client.state === 'ready') await waitFor(() => got.length >= want.length, `all of ${id}'s events`, 2000).catch(() => undefined);
      const offsets = got.map((g) => g.offset);
      assert.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]), `${id}: in order, none twice (${offsets})`);
      for (const g of got) assert.ok((expected.get(g.id) ?? []).includes(g.offset), `${id}: only valid events (${g.id}@${g.offset})`);
      const resubscribed = got.some((g) => g.id !== id);
      if (client.state === 'ready' && !closeEarly && !resubscribed) assert.deepEqual(offsets, want, `${id}: every valid event`);
    }
  } finally {
    await client.close();
    await waitFor(() => server.open === 0, 'close() to leave no socket open', 5000);
    await server.close();
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
}
