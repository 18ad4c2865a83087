import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient, RcpConnectionError, RcpError, type RcpEvent } from '../../src/rcp';
import type { MachineDefinition } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';

const ORDER: MachineDefinition = {
  states: ['created', 'paid', 'shipped', 'cancelled'],
  initial: 'created',
  transitions: [
    { from: 'created', event: 'pay', to: 'paid', guard: 'ctx.amount > 0' },
    { from: ['created', 'paid'], event: 'cancel', to: 'cancelled' },
    { from: 'paid', event: 'ship', to: 'shipped' },
  ],
};

async function rejectsWith(p: Promise<unknown>, code: string, op?: string): Promise<RcpError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof RcpError, `expected RcpError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (op) assert.equal(err.op, op);
    assert.ok(err.message.length > 0);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe('RcpClient against the emulator', () => {
  let emu: EmulatorProcess;
  let client: RcpClient;

  before(async () => {
    emu = await startEmulator();
    client = await RcpClient.connect({ host: emu.host, port: emu.port, clientName: 'ops-test' });
    await client.putMachine({ machine: 'order', version: 1, definition: ORDER });
  }, { timeout: 30_000 });
  after(async () => {
    await client?.close();
    await emu?.stop();
  }, { timeout: 30_000 });

  test('an APPLY_EVENT replayed with its idempotency_key (broadcast again by the server) reaches a subscriber once', { timeout: 10_000 }, async () => {
    await client.createInstance({ machine: 'order', version: 1, instance_id: 'replayed', initial_ctx: { amount: 5 } });
    const sub = await client.watchInstance({ instance_id: 'replayed', include_ctx: false });
    const seen: string[] = [];
    sub.on('event', (e: RcpEvent) => seen.push(`${e.event}@${e.wal_offset}`));
    try {
      const first = await client.applyEvent({ instance_id: 'replayed', event: 'pay', idempotency_key: 'k-1' });
      const replay = await client.applyEvent({ instance_id: 'replayed', event: 'pay', idempotency_key: 'k-1' });
      assert.equal(replay.wal_offset, first.wal_offset, 'the replay answers the first result');
      // A later event proves the replay was dropped rather than still on its way.
      const ship = await client.applyEvent({ instance_id: 'replayed', event: 'ship' });
      await new Promise<void>((resolve) => {
        const check = () => seen.includes(`ship@${ship.wal_offset}`) && (sub.off('event', check), resolve());
        sub.on('event', check);
        check();
      });
      assert.deepEqual(seen, [`pay@${first.wal_offset}`, `ship@${ship.wal_offset}`]);
    } finally {
      await sub.close();
    }
  });

  test('HELLO result, PING and INFO describe the server', async () => {
    assert.equal(client.server.protocol_version, 1);
    assert.equal(client.server.wire_mode, 'binary_json');
    assert.deepEqual([...client.server.features].sort(), ['batch', 'idempotency', 'wal_read']);
    assert.deepEqual(await client.ping(), { pong: true });
    const info = await client.info();
    assert.equal(info.max_batch_ops, 100);
    assert.equal(info.max_frame_bytes, 16 * 1024 * 1024);
    assert.equal(client.state, 'ready');
  });

  test('machines: put (created, identical re-put), get with from normalised to an array, list sorted', async () => {
    const again = await client.putMachine({ machine: 'order', version: 1, definition: ORDER });
    assert.equal(again.created, false);
    const v2 = await client.putMachine({ machine: 'order', version: 2, definition: { ...ORDER, states: [...ORDER.states, 'returned'] } });
    assert.equal(v2.created, true);
    assert.match(v2.stored_checksum, /^[0-9a-f]+$/);
    await client.putMachine({ machine: 'aardvark', version: 1, definition: { states: ['a'], initial: 'a', transitions: [] } });
    const got = await client.getMachine({ machine: 'order', version: 1 });
    assert.deepEqual(got.definition.transitions[0].from, ['created']);
    assert.deepEqual(got.definition.transitions[1].from, ['created', 'paid']);
    const list = await client.listMachines();
    assert.deepEqual(list.items.map((i) => i.machine), ['aardvark', 'order']);
    assert.deepEqual(list.items[1].versions, [1, 2]);
  });

  test('instances: create with and without an id, get, apply events with a shallow merge, delete (soft)', async () => {
    const created = await client.createInstance({ machine: 'order', version: 1, instance_id: 'o-1', initial_ctx: { amount: 10, address: { city: 'Oslo' } } });
    assert.deepEqual({ id: created.instance_id, state: created.state }, { id: 'o-1', state: 'created' });
    const anon = await client.createInstance({ machine: 'order', version: 1 });
    assert.ok(anon.instance_id.length > 0);

    const paid = await client.applyEvent({ instance_id: 'o-1', event: 'pay', payload: { address: { zip: '0150' }, card: 'visa' } });
    assert.equal(paid.from_state, 'created');
    assert.equal(paid.to_state, 'paid');
    assert.equal(paid.applied, true);
    // Top-level keys replace: the nested address is not merged.
    assert.deepEqual(paid.ctx, { amount: 10, address: { zip: '0150' }, card: 'visa' });
    const inst = await client.getInstance({ instance_id: 'o-1' });
    assert.equal(inst.state, 'paid');
    assert.equal(inst.last_wal_offset, paid.wal_offset);

    const del = await client.deleteInstance({ instance_id: anon.instance_id });
    assert.equal(del.deleted, true);
    // The server's delete is soft: the instance leaves the lists, a GET still answers.
    const listed = await client.listInstances({ machine: 'order', limit: 1000 });
    assert.ok(!listed.instances.some((i) => i.id === anon.instance_id));
    assert.equal((await client.getInstance({ instance_id: anon.instance_id })).state, 'created');
  });

  test('guards see the context before the payload is merged', async () => {
    await client.createInstance({ machine: 'order', version: 1, instance_id: 'o-noamount' });
    const err = await rejectsWith(client.applyEvent({ instance_id: 'o-noamount', event: 'pay', payload: { amount: 5 } }), 'GUARD_FAILED', 'APPLY_EVENT');
    assert.match(err.message, /guard failed for transition 'created' -> 'paid' on event 'pay'/);
    assert.equal((await client.getInstance({ instance_id: 'o-noamount' })).state, 'created');
  });

  test('LIST_INSTANCES pages with total and has_more, times in milliseconds', async () => {
    const before = Date.now();
    const ops = Array.from({ length: 25 }, (_, i) => ({ op: 'CREATE_INSTANCE', params: { machine: 'order', version: 2, instance_id: `page-${i}` } }));
    await client.batch({ mode: 'atomic', ops });
    const first = await client.listInstances({ machine: 'order', state: 'created', limit: 10 });
    const total = first.total;
    assert.ok(total >= 25);
    assert.equal(first.instances.length, 10);
    assert.equal(first.has_more, true);
    const seen = new Set<string>();
    for (let offset = 0; offset < total; offset += 10) {
      const page = await client.listInstances({ machine: 'order', state: 'created', limit: 10, offset });
      for (const i of page.instances) seen.add(i.id);
      assert.equal(page.has_more, offset + page.instances.length < total);
    }
    assert.equal(seen.size, total);
    const one = first.instances.find((i) => i.id.startsWith('page-')) ?? (await client.listInstances({ machine: 'order', limit: 1000 })).instances.find((i) => i.id === 'page-0')!;
    assert.ok(one.created_at >= before - 60_000 && one.created_at <= Date.now() + 1000, `created_at ${one.created_at} should be Unix ms`);
  });

  test('BATCH: atomic stops at the first error and keeps what ran; best_effort reports each op, GET_INSTANCE included', async () => {
    const failed = await rejectsWith(
      client.batch({
        mode: 'atomic',
        ops: [
          { op: 'CREATE_INSTANCE', params: { machine: 'order', version: 1, instance_id: 'atomic-1' } },
          { op: 'APPLY_EVENT', params: { instance_id: 'atomic-1', event: 'ship' } },
        ],
      }),
      'BAD_REQUEST',
      'BATCH',
    );
    assert.match(failed.message, /atomic batch failed: .*InvalidTransition/);
    // Not atomic on the server: the create before the failing op stays applied.
    assert.equal((await client.getInstance({ instance_id: 'atomic-1' })).state, 'created');

    const mixed = await client.batch({
      mode: 'best_effort',
      ops: [
        { op: 'CREATE_INSTANCE', params: { machine: 'order', version: 1, instance_id: 'be-1', initial_ctx: { amount: 3 } } },
        { op: 'APPLY_EVENT', params: { instance_id: 'be-1', event: 'ship' } },
        { op: 'GET_INSTANCE', params: { instance_id: 'be-1' } },
      ],
    });
    assert.deepEqual(mixed.results.map((r) => r.status), ['ok', 'error', 'ok']);
    assert.equal(mixed.results[1].result, null);
    assert.equal(mixed.results[1].error?.code, 'INVALID_TRANSITION');
    assert.equal((mixed.results[2].result as { state: string }).state, 'created');

    const tooMany = Array.from({ length: 101 }, () => ({ op: 'GET_INSTANCE', params: { instance_id: 'be-1' } }));
    await rejectsWith(client.batch({ mode: 'best_effort', ops: tooMany }), 'BAD_REQUEST');
  });

  test('an APPLY idempotency key replays the first answer; CREATE ignores its key; event ids are not deduplicated', async () => {
    const a = await client.createInstance({ machine: 'order', version: 1, idempotency_key: 'create-once' });
    const b = await client.createInstance({ machine: 'order', version: 1, idempotency_key: 'create-once' });
    assert.notEqual(a.instance_id, b.instance_id, 'CREATE_INSTANCE ignores idempotency_key: choose the id on the client');
    await client.createInstance({ machine: 'order', version: 1, instance_id: 'idem-1', initial_ctx: { amount: 1 } });
    const first = await client.applyEvent({ instance_id: 'idem-1', event: 'pay', idempotency_key: 'pay-once' });
    const second = await client.applyEvent({ instance_id: 'idem-1', event: 'pay', idempotency_key: 'pay-once' });
    assert.equal(second.wal_offset, first.wal_offset);
    assert.equal(second.applied, true);
    const e1 = await client.applyEvent({ instance_id: 'idem-1', event: 'ship', event_id: 'evt-42' });
    assert.equal(e1.applied, true);
    assert.equal((await client.getInstance({ instance_id: 'idem-1' })).last_event_id, 'evt-42');
  });

  test('optimistic concurrency: a stale expected_wal_offset or expected_state is refused', async () => {
    await client.createInstance({ machine: 'order', version: 1, instance_id: 'occ-1', initial_ctx: { amount: 1 } });
    const now = await client.getInstance({ instance_id: 'occ-1' });
    await rejectsWith(client.applyEvent({ instance_id: 'occ-1', event: 'pay', expected_wal_offset: now.last_wal_offset + 1 }), 'CONFLICT');
    await rejectsWith(client.applyEvent({ instance_id: 'occ-1', event: 'cancel', expected_state: 'paid' }), 'CONFLICT');
    // The expectation is checked before the transition is looked up.
    await rejectsWith(client.applyEvent({ instance_id: 'occ-1', event: 'ship', expected_state: 'paid' }), 'CONFLICT');
    const ok = await client.applyEvent({ instance_id: 'occ-1', event: 'pay', expected_state: 'created', expected_wal_offset: now.last_wal_offset });
    assert.equal(ok.to_state, 'paid');
  });

  test('every error code the server gives for bad input reaches the caller with its op', async () => {
    await rejectsWith(client.getMachine({ machine: 'nope', version: 1 }), 'MACHINE_NOT_FOUND', 'GET_MACHINE');
    await rejectsWith(client.createInstance({ machine: 'nope', version: 1 }), 'MACHINE_NOT_FOUND', 'CREATE_INSTANCE');
    await rejectsWith(client.createInstance({ machine: 'order', version: 1, instance_id: 'o-1' }), 'INSTANCE_EXISTS');
    await rejectsWith(client.applyEvent({ instance_id: 'missing', event: 'pay' }), 'INSTANCE_NOT_FOUND', 'APPLY_EVENT');
    await rejectsWith(client.deleteInstance({ instance_id: 'missing' }), 'INSTANCE_NOT_FOUND', 'DELETE_INSTANCE');
    const invalid = await rejectsWith(client.applyEvent({ instance_id: 'o-1', event: 'fly' }), 'INVALID_TRANSITION');
    assert.equal(invalid.details, undefined);
    await rejectsWith(client.putMachine({ machine: 'order', version: 1, definition: { ...ORDER, initial: 'paid' } }), 'MACHINE_VERSION_EXISTS');
    const bad = await rejectsWith(client.putMachine({ machine: 'bad', version: 1, definition: { states: ['a'], initial: 'b', transitions: [] } }), 'INTERNAL_ERROR');
    assert.match(bad.message, /initial state 'b'/);
    await rejectsWith(client.putMachine({ machine: 'bad', version: 1, definition: { states: ['a'], initial: 'a', transitions: [{ from: 'a', event: 'e', to: 'a', guard: 'ctx.x >' }] } }), 'INTERNAL_ERROR');
    await rejectsWith(client.request('GET_INSTANCE', {}), 'BAD_REQUEST');
    await rejectsWith(client.request('HELLO', { protocol_version: 2 }), 'BAD_REQUEST');
  });

  test('two transitions on the same (state, event) are refused as the server does (INTERNAL_ERROR), and reported as a rejected definition, never retryable', async () => {
    const dup: MachineDefinition = {
      states: ['a', 'b', 'c'],
      initial: 'a',
      transitions: [
        { from: 'a', event: 'go', to: 'b', guard: 'ctx.x == 1' },
        { from: 'a', event: 'go', to: 'c', guard: 'ctx.x == 2' },
      ],
    };
    const err = await rejectsWith(client.putMachine({ machine: 'dup', version: 1, definition: dup }), 'INTERNAL_ERROR', 'PUT_MACHINE');
    // The server says retryable: true; sending the same definition again cannot help.
    assert.equal(err.retryable, false);
    assert.match(err.message, /^the server rejected this definition: \S/);
    await rejectsWith(client.getMachine({ machine: 'dup', version: 1 }), 'MACHINE_NOT_FOUND');
  });

  test('there is no cap on versions per machine', async () => {
    const def = (n: number): MachineDefinition => ({ states: [`s${n}`], initial: `s${n}`, transitions: [] });
    for (let v = 1; v <= 100; v++) await client.putMachine({ machine: 'many', version: v, definition: def(v) });
    const list = await client.listMachines();
    assert.equal(list.items.find((m) => m.machine === 'many')?.versions.length, 100);
  });

  test('WAL: sparse offsets, inclusive from_offset, next_offset paging, stats and compaction', async () => {
    const first = await client.walRead({ from_offset: 0, limit: 5 });
    assert.equal(first.records.length, 5);
    assert.deepEqual(first.records.map((r) => r.sequence), [1, 2, 3, 4, 5]);
    assert.ok(first.records[0].offset >= 2 ** 40, 'offsets carry the segment in the high bits');
    assert.ok(first.records[1].offset - first.records[0].offset > 1, 'offsets are not dense');
    assert.equal(first.next_offset, first.records[4].offset + 1);
    const again = await client.walRead({ from_offset: first.records[4].offset, limit: 1 });
    assert.equal(again.records[0].sequence, 5, 'from_offset is inclusive');
    assert.equal(first.records[0].entry.type, 'put_machine');

    let from = 0;
    let count = 0;
    for (;;) {
      const page = await client.walRead({ from_offset: from, limit: 50 });
      count += page.records.length;
      if (page.records.length === 0 || page.next_offset === null) break;
      from = page.next_offset;
    }
    const stats = await client.walStats();
    assert.equal(stats.entry_count, count);
    assert.ok(stats.latest_offset >= from - 1, 'latest_offset is where the next entry goes');
    const applied = (await client.walRead({ from_offset: 0, limit: 1000 })).records.find((r) => r.entry.type === 'apply_event');
    assert.ok(applied && 'ctx' in applied.entry && 'from_state' in applied.entry);

    const snap = await client.snapshotInstance({ instance_id: 'o-1' });
    assert.equal(snap.instance_id, 'o-1');
    assert.ok(snap.snapshot_id);
    const compacted = await client.compact({ force_snapshot: false });
    assert.equal(typeof compacted.wal_segments, 'number');
  });

  test('an unknown op makes the server hang up; the client says so and fails the other requests in flight', async () => {
    const other = await RcpClient.connect({ host: emu.host, port: emu.port });
    try {
      const inFlight = other.getInstance({ instance_id: 'o-1' });
      const bogus = other.request('FROBNICATE', {});
      await assert.rejects(bogus, (e: unknown) => e instanceof RcpConnectionError && /closed/.test(e.message) && e.address === `${emu.host}:${emu.port}`);
      // The GET was answered before the bogus op or failed with it; it never hangs.
      await inFlight.catch((e: unknown) => assert.ok(e instanceof RcpConnectionError));
      assert.equal(other.state, 'closed');
    } finally {
      await other.close();
    }
  });

  test('JSONL wire mode: responses come as lines and everything still works', async () => {
    const lines = await RcpClient.connect({ host: emu.host, port: emu.port, wireMode: 'jsonl' });
    try {
      assert.equal(lines.server.wire_mode, 'jsonl');
      assert.equal((await lines.getInstance({ instance_id: 'o-1' })).state, 'paid');
      await rejectsWith(lines.getInstance({ instance_id: 'missing' }), 'INSTANCE_NOT_FOUND');
      const sub = await lines.watchInstance({ instance_id: 'o-1' });
      const next = sub[Symbol.asyncIterator]().next();
      await client.applyEvent({ instance_id: 'o-1', event: 'ship' });
      const e = await next;
      assert.equal(e.value?.to_state, 'shipped');
      await sub.close();
    } finally {
      await lines.close();
    }
  });

  test('a pool of connections shares the work and each connection answers', async () => {
    const pooled = await RcpClient.connect({ host: emu.host, port: emu.port, poolSize: 3 });
    try {
      assert.equal(pooled.openConnections, 3);
      const results = await Promise.all(Array.from({ length: 300 }, () => pooled.getInstance({ instance_id: 'o-1' })));
      assert.ok(results.every((r) => r.machine === 'order'));
    } finally {
      await pooled.close();
    }
    assert.equal(pooled.openConnections, 0);
  });
});

describe('authentication', () => {
  let emu: EmulatorProcess;
  before(async () => {
    emu = await startEmulator({ token: 's3cret-token' });
  }, { timeout: 30_000 });
  after(() => emu?.stop(), { timeout: 30_000 });

  test('the right token connects; operations work', async () => {
    const c = await RcpClient.connect({ host: emu.host, port: emu.port, token: 's3cret-token' });
    assert.deepEqual(await c.listMachines(), { items: [] });
    await c.close();
  });

  test('a wrong token fails connect with AUTH_FAILED and the token appears in no message', async () => {
    await assert.rejects(RcpClient.connect({ host: emu.host, port: emu.port, token: 'wrong-token-value' }), (e: unknown) => {
      assert.ok(e instanceof RcpError);
      assert.equal(e.code, 'AUTH_FAILED');
      assert.equal(e.op, 'AUTH');
      assert.ok(!e.message.includes('wrong-token-value'));
      return true;
    });
  });

  test('with tracing on, the token appears in no traced message (AUTH is traced with the token redacted)', { timeout: 20_000 }, async () => {
    const traced: string[] = [];
    const c = await RcpClient.connect({ host: emu.host, port: emu.port, token: 's3cret-token', trace: (dir, msg) => traced.push(`${dir} ${JSON.stringify(msg)}`) });
    try {
      await c.listMachines();
    } finally {
      await c.close();
    }
    const auth = traced.find((t) => t.startsWith('send') && t.includes('"op":"AUTH"'));
    assert.ok(auth, `AUTH is traced: ${traced.join('\n')}`);
    assert.match(auth, /"token":"\*\*\*"/);
    assert.deepEqual(traced.filter((t) => t.includes('s3cret-token')), []);
  });

  test('without a token only HELLO and PING work; everything else is UNAUTHORIZED', async () => {
    const c = await RcpClient.connect({ host: emu.host, port: emu.port });
    assert.deepEqual(await c.ping(), { pong: true });
    await rejectsWith(c.listMachines(), 'UNAUTHORIZED', 'LIST_MACHINES');
    await c.close();
  });
});
