/**
 * The emulator against rcp-notes.md, point by point. Each case names the
 * section and point of the notes it pins ("The server at its edges" unless
 * said otherwise), so a change that drifts from the real server fails here
 * with the point it broke.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startEmulator, type EmulatorProcess } from './process';
import { NO_PARAMS, Raw, type Msg } from './raw';
import { crc32c, encodeFrame, encodeJsonFrame } from './wire';

const FLOW = {
  states: ['a', 'b', 'c'],
  initial: 'a',
  transitions: [
    { from: 'a', event: 'go', to: 'b' },
    { from: 'b', event: 'go', to: 'c' },
    { from: ['a', 'b', 'c'], event: 'loop', to: 'a' },
  ],
};

let emu: EmulatorProcess;
let c: Raw;
let seq = 0;
/** A fresh instance id per case, so cases do not share state. */
const fresh = (p = 'i') => `${p}-${++seq}`;

async function walAfter(from: number): Promise<Msg[]> {
  return (await c.ok('WAL_READ', { from_offset: from })).records;
}
async function latest(): Promise<number> {
  return (await c.ok('WAL_STATS')).latest_offset;
}
async function listedIds(params: Msg = {}): Promise<string[]> {
  return (await c.ok('LIST_INSTANCES', { limit: 100000, ...params })).instances.map((i: Msg) => i.id);
}

describe('emulator: the server at its edges', { timeout: 120_000 }, () => {
  before(async () => {
    emu = await startEmulator();
    c = await Raw.open(emu.port);
    await c.ok('HELLO', { protocol_version: 1 });
    await c.ok('PUT_MACHINE', { machine: 'flow', version: 1, definition: FLOW });
  });
  after(async () => {
    c?.close();
    await emu?.stop();
  });

  const cases: { point: string; run: () => Promise<void> }[] = [
    {
      point: 'Instances: DELETE_INSTANCE is a soft delete (lists drop it; GET, APPLY, DELETE, WATCH, SNAPSHOT still work; CREATE says INSTANCE_EXISTS; the WAL says delete_instance)',
      run: async () => {
        const id = fresh('del');
        await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: id, initial_ctx: {} });
        const before = (await c.ok('LIST_INSTANCES', { machine: 'flow' })).total;
        const from = await latest();
        const del = await c.ok('DELETE_INSTANCE', { instance_id: id });
        assert.deepEqual(Object.keys(del).sort(), ['deleted', 'instance_id', 'wal_offset']);
        assert.equal(del.deleted, true);
        assert.ok(!(await listedIds()).includes(id));
        assert.equal((await c.ok('LIST_INSTANCES', { machine: 'flow' })).total, before - 1);
        assert.equal((await c.ok('GET_INSTANCE', { instance_id: id })).state, 'a');
        const w = await c.ok('WATCH_INSTANCE', { instance_id: id });
        const applied = await c.ok('APPLY_EVENT', { instance_id: id, event: 'go' });
        assert.equal(applied.to_state, 'b');
        await c.waitFor(() => c.events().find((e) => e.subscription_id === w.subscription_id), 'the event of a deleted instance');
        const again = await c.ok('DELETE_INSTANCE', { instance_id: id });
        assert.equal(again.wal_offset, applied.wal_offset, 'a second delete writes nothing and answers the last offset');
        assert.equal((await c.ok('SNAPSHOT_INSTANCE', { instance_id: id })).instance_id, id);
        assert.equal((await c.err('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: id })).code, 'INSTANCE_EXISTS');
        assert.ok(!(await listedIds()).includes(id), 'still not listed after an APPLY');
        const types = (await walAfter(from)).filter((r) => r.entry.instance_id === id).map((r) => r.entry.type);
        assert.deepEqual(types, ['delete_instance', 'apply_event']);
        await c.ok('UNWATCH', { subscription_id: w.subscription_id });
      },
    },
    {
      point: 'Instances: created without initial_ctx (or with null), ctx stays null: payloads never merge (APPLY, GET and WAL say null) and guards see null',
      run: async () => {
        await c.ok('PUT_MACHINE', { machine: 'nullctx', version: 1, definition: { states: ['a', 'b'], initial: 'a', transitions: [{ from: 'a', event: 'go', to: 'b', guard: '!ctx.x' }, { from: 'b', event: 'back', to: 'a' }] } });
        for (const initial of [{}, { initial_ctx: null }]) {
          const id = fresh('null');
          const from = await latest();
          await c.ok('CREATE_INSTANCE', { machine: 'nullctx', version: 1, instance_id: id, ...initial });
          assert.equal((await c.ok('GET_INSTANCE', { instance_id: id })).ctx, null);
          const r = await c.ok('APPLY_EVENT', { instance_id: id, event: 'go', payload: { x: 1 } });
          assert.equal(r.ctx, null);
          await c.ok('APPLY_EVENT', { instance_id: id, event: 'back' });
          // The guard `!ctx.x` still passes: x was never merged.
          await c.ok('APPLY_EVENT', { instance_id: id, event: 'go' });
          assert.equal((await c.ok('GET_INSTANCE', { instance_id: id })).ctx, null);
          const wal = (await walAfter(from)).filter((x) => x.entry.instance_id === id);
          assert.equal(wal[0].entry.initial_ctx, null);
          assert.ok(wal.slice(1).every((x) => x.entry.ctx === null));
        }
      },
    },
    {
      point: 'Instances: a non-object initial_ctx or payload is accepted; APPLY moves the instance and ignores the payload',
      run: async () => {
        for (const ctx of [[1, 2], 'text', 5]) {
          const id = fresh('odd');
          await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: id, initial_ctx: ctx });
          const r = await c.ok('APPLY_EVENT', { instance_id: id, event: 'go', payload: { x: 1 } });
          assert.deepEqual(r.ctx, ctx);
        }
        const id = fresh('odd');
        await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: id, initial_ctx: { k: 1 } });
        for (const payload of [[1], 'p', 7]) {
          const r = await c.ok('APPLY_EVENT', { instance_id: id, event: 'loop', payload });
          assert.deepEqual(r.ctx, { k: 1 });
        }
      },
    },
    {
      point: 'Instances: empty strings are ordinary values (instance_id "" works, event "" is INVALID_TRANSITION, idempotency_key "" is a key)',
      run: async () => {
        await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: '', initial_ctx: {} });
        assert.equal((await c.ok('GET_INSTANCE', { instance_id: '' })).state, 'a');
        assert.equal((await c.err('APPLY_EVENT', { instance_id: '', event: '' })).code, 'INVALID_TRANSITION');
        const first = await c.ok('APPLY_EVENT', { instance_id: '', event: 'go', idempotency_key: '' });
        const replay = await c.ok('APPLY_EVENT', { instance_id: '', event: 'go', idempotency_key: '' });
        assert.deepEqual(replay, first);
      },
    },
    {
      point: 'APPLY_EVENT: expected_state and expected_wal_offset are checked before the event is looked up: CONFLICT with the server message',
      run: async () => {
        const id = fresh('occ');
        const created = await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: id });
        const e = await c.err('APPLY_EVENT', { instance_id: id, event: 'no-such-event', expected_state: 'c' });
        assert.deepEqual(e, { code: 'CONFLICT', message: "core error: state conflict: expected 'c', actual 'a'", retryable: false });
        const o = await c.err('APPLY_EVENT', { instance_id: id, event: 'no-such-event', expected_wal_offset: created.wal_offset + 1 });
        assert.equal(o.code, 'CONFLICT');
        assert.equal(o.message, `core error: WAL offset conflict: expected ${created.wal_offset + 1}, actual ${created.wal_offset}`);
      },
    },
    {
      point: 'APPLY_EVENT / DELETE_INSTANCE: idempotency_key is scoped to the instance (another instance applies anew, an unknown one is INSTANCE_NOT_FOUND); a replay answers the first result and writes nothing',
      run: async () => {
        const [x, y] = [fresh('idem'), fresh('idem')];
        for (const id of [x, y]) await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: id, initial_ctx: {} });
        const from = await latest();
        const first = await c.ok('APPLY_EVENT', { instance_id: x, event: 'go', idempotency_key: 'k' });
        const replay = await c.ok('APPLY_EVENT', { instance_id: x, event: 'go', idempotency_key: 'k' });
        assert.deepEqual(replay, first);
        assert.equal(replay.applied, true);
        const other = await c.ok('APPLY_EVENT', { instance_id: y, event: 'go', idempotency_key: 'k' });
        assert.notEqual(other.wal_offset, first.wal_offset);
        assert.equal((await c.err('APPLY_EVENT', { instance_id: 'nobody', event: 'go', idempotency_key: 'k' })).code, 'INSTANCE_NOT_FOUND');
        assert.equal((await c.err('DELETE_INSTANCE', { instance_id: 'nobody', idempotency_key: 'k' })).code, 'INSTANCE_NOT_FOUND');
        assert.equal((await walAfter(from)).length, 2);
      },
    },
    {
      point: 'CREATE_INSTANCE ignores idempotency_key: with an id a replay is INSTANCE_EXISTS; without one every replay creates an instance',
      run: async () => {
        const id = fresh('create');
        await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: id, idempotency_key: 'ck' });
        assert.equal((await c.err('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: id, idempotency_key: 'ck' })).code, 'INSTANCE_EXISTS');
        const a = await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, idempotency_key: 'anon' });
        const b = await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, idempotency_key: 'anon' });
        assert.notEqual(a.instance_id, b.instance_id);
      },
    },
    {
      point: 'event_id is stored (last_event_id) but never deduplicated; an APPLY without event_id clears last_event_id',
      run: async () => {
        const id = fresh('evid');
        await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: id });
        const one = await c.ok('APPLY_EVENT', { instance_id: id, event: 'go', event_id: 'e-1' });
        const two = await c.ok('APPLY_EVENT', { instance_id: id, event: 'go', event_id: 'e-1' });
        assert.equal(one.event_id, 'e-1');
        assert.equal(two.to_state, 'c', 'the same event_id applied again');
        assert.equal((await c.ok('GET_INSTANCE', { instance_id: id })).last_event_id, 'e-1');
        await c.ok('APPLY_EVENT', { instance_id: id, event: 'loop' });
        assert.ok(!('last_event_id' in (await c.ok('GET_INSTANCE', { instance_id: id }))));
      },
    },
    {
      point: 'More observed behaviour: an APPLY replayed with the same idempotency_key is broadcast again with the same wal_offset; payload is null in events when none was sent',
      run: async () => {
        const id = fresh('rebroadcast');
        await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: id, initial_ctx: {} });
        const w = await c.ok('WATCH_INSTANCE', { instance_id: id });
        const first = await c.ok('APPLY_EVENT', { instance_id: id, event: 'go', idempotency_key: 'again' });
        await c.ok('APPLY_EVENT', { instance_id: id, event: 'go', idempotency_key: 'again' });
        const seen = await c.waitFor(() => {
          const e = c.events().filter((x) => x.subscription_id === w.subscription_id);
          return e.length === 2 && e;
        }, 'two events');
        assert.deepEqual(seen.map((e) => e.wal_offset), [first.wal_offset, first.wal_offset]);
        assert.deepEqual(Object.keys(seen[0]), ['type', 'subscription_id', 'instance_id', 'machine', 'version', 'wal_offset', 'from_state', 'to_state', 'event', 'payload', 'ctx']);
        assert.equal(seen[0].payload, null);
        await c.ok('UNWATCH', { subscription_id: w.subscription_id });
      },
    },
    {
      point: 'Machines: every invalid definition or guard answers INTERNAL_ERROR, retryable, `core error: …`, never BAD_REQUEST',
      run: async () => {
        const bad: unknown[] = [
          5,
          {},
          { states: 'a', initial: 'a', transitions: [] },
          { states: ['a'], initial: 'b', transitions: [] },
          { states: ['a'], initial: 'a', transitions: [{ from: 'a', event: 'e', to: 'z' }] },
          { states: ['a'], initial: 'a', transitions: [{ from: 'z', event: 'e', to: 'a' }] },
          { states: ['a'], initial: 'a', transitions: [{ from: 'a', event: 'e', to: 'a' }, { from: ['a'], event: 'e', to: 'a', guard: 'ctx.x' }] },
          { states: ['a'], initial: 'a', transitions: [{ from: 'a', event: 'e', to: 'a', guard: 'ctx.x >' }] },
          { states: ['a'], initial: 'a', transitions: [{ from: 'a', event: 'e', to: 'a', guard: '' }] },
          { states: ['a'], initial: 'a', transitions: [{ from: 5, event: 'e', to: 'a' }] },
        ];
        for (const definition of bad) {
          const e = await c.err('PUT_MACHINE', { machine: 'bad', version: 1, definition });
          assert.equal(e.code, 'INTERNAL_ERROR', JSON.stringify(definition));
          assert.equal(e.retryable, true);
          assert.match(e.message, /^core error: /);
        }
      },
    },
    {
      point: 'Machines: not validated — duplicate states, from: [], event "", guard null, a non-object meta, version 0, machine ""; the checksum parameter is ignored; no cap on versions; version ≥ 2^32 is BAD_REQUEST; version 0 not put is MACHINE_NOT_FOUND',
      run: async () => {
        const accepted: Msg[] = [
          { machine: 'lax1', version: 1, definition: { states: ['a', 'a'], initial: 'a', transitions: [] } },
          { machine: 'lax2', version: 1, definition: { states: ['a'], initial: 'a', transitions: [{ from: [], event: 'e', to: 'a' }] } },
          { machine: 'lax3', version: 1, definition: { states: ['a'], initial: 'a', transitions: [{ from: 'a', event: '', to: 'a', guard: null }] } },
          { machine: 'lax4', version: 1, definition: { states: ['a'], initial: 'a', transitions: [], meta: 'just text' } },
          { machine: 'lax5', version: 0, definition: { states: ['a'], initial: 'a', transitions: [] } },
          { machine: '', version: 1, definition: { states: ['a'], initial: 'a', transitions: [] } },
          { machine: 'lax6', version: 1, checksum: 'not-the-checksum', definition: { states: ['a'], initial: 'a', transitions: [] } },
        ];
        for (const p of accepted) assert.equal((await c.ok('PUT_MACHINE', p)).created, true, JSON.stringify(p));
        for (let v = 1; v <= 70; v++) await c.ok('PUT_MACHINE', { machine: 'many', version: v, definition: { states: [`s${v}`], initial: `s${v}`, transitions: [] } });
        assert.equal((await c.err('PUT_MACHINE', { machine: 'big', version: 2 ** 32, definition: FLOW })).code, 'BAD_REQUEST');
        assert.equal((await c.err('GET_MACHINE', { machine: 'flow', version: 0 })).code, 'MACHINE_NOT_FOUND');
        assert.equal((await c.err('CREATE_INSTANCE', { machine: 'flow', version: 0 })).code, 'MACHINE_NOT_FOUND');
      },
    },
    {
      point: 'Machines / More observed behaviour: the WAL keeps the definition as sent (from a string); GET_MACHINE normalises from to an array, keeps meta (keys sorted) and drops unknown keys; checksums are 8 hex digits of CRC-32C, in the WAL as definition_hash',
      run: async () => {
        const from = await latest();
        const definition = { extra: true, states: ['x', 'y'], initial: 'x', transitions: [{ from: 'x', event: 'e', to: 'y', guard: 'ctx.ok' }], meta: { z: 1, a: { d: 1, b: 2 } } };
        const put = await c.ok('PUT_MACHINE', { machine: 'shape', version: 1, definition });
        const got = await c.ok('GET_MACHINE', { machine: 'shape', version: 1 });
        assert.deepEqual(got.definition.transitions[0].from, ['x']);
        assert.ok(!('extra' in got.definition));
        assert.deepEqual(Object.keys(got.definition.meta), ['a', 'z']);
        assert.deepEqual(Object.keys(got.definition.meta.a), ['b', 'd']);
        assert.match(put.stored_checksum, /^[0-9a-f]{8}$/);
        const hashed = { states: ['x', 'y'], initial: 'x', transitions: [{ from: ['x'], event: 'e', to: 'y', guard: 'ctx.ok' }], meta: { a: { b: 2, d: 1 }, z: 1 } };
        assert.equal(put.stored_checksum, crc32c(Buffer.from(JSON.stringify(hashed))).toString(16).padStart(8, '0'));
        assert.equal(got.checksum, put.stored_checksum);
        const [rec] = await walAfter(from);
        assert.equal(rec.entry.type, 'put_machine');
        assert.equal(rec.entry.definition_hash, put.stored_checksum);
        assert.equal(rec.entry.definition.transitions[0].from, 'x');
        assert.equal(rec.entry.definition.extra, true);
        assert.equal((await c.ok('PUT_MACHINE', { machine: 'shape', version: 1, definition: { ...definition, extra: false } })).created, false, 'unknown keys do not change the checksum');
      },
    },
    {
      point: 'Guards (the server’s parser, exactly): what parses, what is ignored after a complete expression, and what is refused',
      run: async () => {
        const table: [guard: string, parses: boolean][] = [
          ['ctx.a', true],
          ['ctx.a.0', true],
          ['ctx.a == 1 and ctx.b', true],
          ['ctx.a = 1', true],
          ['ctx.a > 1e3', true],
          ['!(ctx.a || ctx.b) && !!ctx.c', true],
          ['ctx.s == "a\\"b"', true],
          ['ctx.a == -1.5', true],
          ['true', false],
          ['1 == 1', false],
          ['ctx.a > ctx.b', false],
          ['ctx.a > "x"', false],
          ['ctx . a', false],
          ['ctx.', false],
          ['(ctx.a', false],
          ['ctx.a == "open', false],
        ];
        let v = 0;
        for (const [guard, parses] of table) {
          const r = await c.request('PUT_MACHINE', { machine: 'guards', version: ++v, definition: { states: ['a'], initial: 'a', transitions: [{ from: 'a', event: 'e', to: 'a', guard }] } });
          assert.equal(r.status === 'ok', parses, `${guard}: ${JSON.stringify(r.error ?? r.result)}`);
          if (!parses) assert.match(r.error.message, /^core error: invalid guard expression: /);
        }
      },
    },
    {
      point: 'Guards: evaluation against the context before the payload (missing path null, path through a non-object null, truthiness, == on like types only, > only on numbers, trailing text ignored, 1e3 read as 1, backslashes kept)',
      run: async () => {
        const table: [guard: string, ctx: unknown, passes: boolean][] = [
          ['ctx.a', { a: 'x' }, true],
          ['ctx.a', { a: '' }, false],
          ['ctx.a', { a: 0 }, false],
          ['ctx.a', { a: [] }, false],
          ['ctx.a', { a: [0] }, true],
          ['ctx.a', { a: {} }, false],
          ['ctx.a', { a: { b: 1 } }, true],
          ['ctx.a.b == null', { a: 5 }, true],
          ['ctx.a.0 == 1', { a: [1] }, false],
          ['ctx.missing == null', {}, true],
          ['ctx.a == 1', { a: '1' }, false],
          ['ctx.a == 1', { a: 1.0 }, true],
          ['ctx.a != 1', { a: true }, true],
          ['ctx.a > 0', { a: '5' }, false],
          ['ctx.a > 999', { a: 5 }, false],
          ['ctx.a > 1e3', { a: 5 }, true],
          ['ctx.a == 1 and ctx.b', { a: 1 }, true],
          ['ctx.a = 1', { a: 2 }, true],
          ['ctx.s == "a\\"b"', { s: 'a\\"b' }, true],
          ['ctx.s == "a\\"b"', { s: 'a"b' }, false],
          ['ctx.constructor', {}, false],
          ['!ctx.a || ctx.b && ctx.c', { a: 1, b: 1, c: 0 }, false],
          ['(ctx.a || ctx.b) && ctx.c', { a: 1, c: 1 }, true],
        ];
        let v = 0;
        for (const [guard, ctx, passes] of table) {
          const machine = `eval-${++v}`;
          await c.ok('PUT_MACHINE', { machine, version: 1, definition: { states: ['a', 'b'], initial: 'a', transitions: [{ from: 'a', event: 'e', to: 'b', guard }] } });
          const id = fresh('g');
          await c.ok('CREATE_INSTANCE', { machine, version: 1, instance_id: id, initial_ctx: ctx });
          // The payload would make every guard pass if it were merged first.
          const r = await c.request('APPLY_EVENT', { instance_id: id, event: 'e', payload: { a: 1, b: 1, c: 1, s: 'a\\"b' } });
          assert.equal(r.status === 'ok', passes, `${guard} on ${JSON.stringify(ctx)}: ${JSON.stringify(r.error ?? r.result)}`);
          if (!passes) assert.equal(r.error.code, 'GUARD_FAILED');
        }
      },
    },
    {
      point: 'Guards: a non-ASCII character makes the server drop the connection without a response; the emulator closes it the same way',
      run: async () => {
        const other = await Raw.open(emu.port);
        other.write({ type: 'request', id: '1', op: 'PUT_MACHINE', params: { machine: 'utf', version: 1, definition: { states: ['a'], initial: 'a', transitions: [{ from: 'a', event: 'e', to: 'a', guard: 'ctx.name == "Zoë"' }] } } });
        await other.whenClosed;
        assert.equal(other.inbox.length, 0);
        assert.equal((await c.err('GET_MACHINE', { machine: 'utf', version: 1 })).code, 'MACHINE_NOT_FOUND');
      },
    },
    {
      point: 'BATCH: any op is allowed inside, HELLO included (it switches the wire mode) and BYE (it closes the connection after the answer)',
      run: async () => {
        const b = await Raw.open(emu.port);
        const r = await b.request('BATCH', { mode: 'best_effort', ops: [{ op: 'PING', params: {} }, { op: 'INFO', params: {} }, { op: 'LIST_MACHINES' }, { op: 'HELLO', params: { protocol_version: 1, wire_modes: ['jsonl'] } }] });
        assert.deepEqual(r.result.results.map((x: Msg) => x.status), ['ok', 'ok', 'ok', 'ok']);
        assert.equal(r.result.results[3].result.wire_mode, 'jsonl');
        const pong = await b.request('PING');
        assert.deepEqual(pong.result, { pong: true }, 'answered as a JSONL line');
        const bye = await b.request('BATCH', { ops: [{ op: 'BYE', params: {} }, { op: 'PING', params: {} }] });
        assert.deepEqual(bye.result.results.map((x: Msg) => x.status), ['ok', 'ok']);
        await b.whenClosed;
      },
    },
    {
      point: 'BATCH: mode missing or unknown ("ATOMIC", 5) runs as best_effort; a failed op has status error and result null',
      run: async () => {
        for (const mode of [undefined, 'ATOMIC', 5]) {
          const id = fresh('be');
          const r = await c.ok('BATCH', { mode, ops: [{ op: 'CREATE_INSTANCE', params: { machine: 'flow', version: 1, instance_id: id } }, { op: 'APPLY_EVENT', params: { instance_id: id, event: 'nope' } }, { op: 'GET_INSTANCE', params: { instance_id: id } }] });
          assert.deepEqual(r.results.map((x: Msg) => x.status), ['ok', 'error', 'ok']);
          assert.equal(r.results[1].result, null);
          assert.equal(r.results[1].error.code, 'INVALID_TRANSITION');
          assert.equal(r.results[0].error, null);
        }
      },
    },
    {
      point: 'BATCH: an atomic batch that fails answers BAD_REQUEST (`atomic batch failed: …`) and keeps the earlier ops applied',
      run: async () => {
        const id = fresh('atomic');
        const e = await c.err('BATCH', { mode: 'atomic', ops: [{ op: 'CREATE_INSTANCE', params: { machine: 'flow', version: 1, instance_id: id } }, { op: 'APPLY_EVENT', params: { instance_id: id, event: 'nope' } }, { op: 'APPLY_EVENT', params: { instance_id: id, event: 'go' } }] });
        assert.equal(e.code, 'BAD_REQUEST');
        assert.match(e.message, /^invalid request: atomic batch failed: Some\(ResponseError \{ code: InvalidTransition, /);
        assert.equal((await c.ok('GET_INSTANCE', { instance_id: id })).state, 'a', 'the create stayed, the op after the failure did not run');
      },
    },
    {
      point: 'BATCH: a malformed entry (5, {}, an unknown op) fails the whole batch',
      run: async () => {
        for (const entry of [5, {}, { op: 'FROBNICATE', params: {} }]) {
          const id = fresh('malformed');
          const e = await c.err('BATCH', { mode: 'best_effort', ops: [{ op: 'CREATE_INSTANCE', params: { machine: 'flow', version: 1, instance_id: id } }, entry] });
          assert.equal(e.code, 'BAD_REQUEST');
          assert.equal((await c.ok('GET_INSTANCE', { instance_id: id })).state, 'a', 'ops before it stay applied');
        }
        assert.equal((await c.err('BATCH', { ops: Array.from({ length: 101 }, () => ({ op: 'PING' })) })).code, 'BAD_REQUEST');
      },
    },
    {
      point: 'Lists: LIST_INSTANCES is in the server’s hash order, not creation order (the same on every call); limit is not capped at 1000; no params or limit/offset ≥ 2^32 is BAD_REQUEST',
      run: async () => {
        await c.ok('PUT_MACHINE', { machine: 'order-check', version: 1, definition: { states: ['s'], initial: 's', transitions: [] } });
        const created: string[] = [];
        for (let b = 0; b < 11; b++) {
          const ops = Array.from({ length: 100 }, (_, i) => ({ op: 'CREATE_INSTANCE', params: { machine: 'order-check', version: 1, instance_id: `oc-${String(b * 100 + i).padStart(5, '0')}` } }));
          created.push(...ops.map((o) => o.params.instance_id));
          await c.ok('BATCH', { mode: 'atomic', ops });
        }
        const listed = await listedIds({ machine: 'order-check', limit: 2000 });
        assert.equal(listed.length, 1100);
        assert.notDeepEqual(listed, created);
        assert.deepEqual([...listed].sort(), created);
        assert.deepEqual(await listedIds({ machine: 'order-check', limit: 2000 }), listed);
        const paged = [...(await listedIds({ machine: 'order-check', limit: 600 })), ...(await listedIds({ machine: 'order-check', limit: 600, offset: 600 }))];
        assert.deepEqual(paged, listed);
        assert.equal((await c.request('LIST_INSTANCES', NO_PARAMS)).error.code, 'BAD_REQUEST');
        assert.equal((await c.err('LIST_INSTANCES', { limit: 2 ** 32 })).code, 'BAD_REQUEST');
        assert.equal((await c.err('LIST_INSTANCES', { offset: 2 ** 32 })).code, 'BAD_REQUEST');
      },
    },
    {
      point: 'WAL: limit 0 answers {records: [], next_offset: null}; a negative or string limit is no limit; no records means next_offset null; apply_event and delete_instance carry event_id and idempotency_key; payload and initial_ctx null when absent',
      run: async () => {
        assert.deepEqual(await c.ok('WAL_READ', { from_offset: 0, limit: 0 }), { next_offset: null, records: [] });
        const total = (await c.ok('WAL_STATS')).entry_count;
        assert.equal((await c.ok('WAL_READ', { from_offset: 0, limit: -1 })).records.length, total);
        assert.equal((await c.ok('WAL_READ', { from_offset: 0, limit: '5' })).records.length, total);
        assert.deepEqual(await c.ok('WAL_READ', { from_offset: await latest() }), { next_offset: null, records: [] });
        const id = fresh('walent');
        const from = await latest();
        await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: id });
        await c.ok('APPLY_EVENT', { instance_id: id, event: 'go', event_id: 'ev', idempotency_key: 'ik' });
        await c.ok('DELETE_INSTANCE', { instance_id: id, idempotency_key: 'dk' });
        const [create, apply, del] = (await walAfter(from)).map((r) => r.entry);
        assert.equal(create.initial_ctx, null);
        assert.equal(apply.payload, null);
        assert.equal(apply.event_id, 'ev');
        assert.equal(apply.idempotency_key, 'ik');
        assert.ok(!('machine' in apply) && !('version' in apply));
        assert.equal(del.idempotency_key, 'dk');
        const page = await c.ok('WAL_READ', { from_offset: from, limit: 1 });
        assert.equal(page.next_offset, page.records[0].offset + 1);
      },
    },
    {
      point: 'WAL: SNAPSHOT_INSTANCE writes nothing to the WAL and answers the instance’s last_wal_offset',
      run: async () => {
        const id = fresh('snap');
        const created = await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: id });
        const before = await c.ok('WAL_STATS');
        const snap = await c.ok('SNAPSHOT_INSTANCE', { instance_id: id });
        assert.equal(snap.wal_offset, created.wal_offset);
        assert.match(snap.checksum, /^[0-9a-f]{8}$/);
        const after = await c.ok('WAL_STATS');
        assert.equal(after.entry_count, before.entry_count);
        assert.equal(after.latest_offset, before.latest_offset);
      },
    },
    {
      point: 'Watches: an empty filter list means no filter; from_offset -1 and a missing params object are BAD_REQUEST; UNWATCH of an unknown id answers removed:false',
      run: async () => {
        const w = await c.ok('WATCH_ALL', { machines: [], events: [], from_states: [], to_states: [] });
        const id = fresh('filter');
        await c.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: id });
        await c.ok('APPLY_EVENT', { instance_id: id, event: 'go' });
        await c.waitFor(() => c.events().find((e) => e.subscription_id === w.subscription_id && e.instance_id === id), 'the event through empty filters');
        assert.equal((await c.err('WATCH_ALL', { from_offset: -1 })).code, 'BAD_REQUEST');
        assert.equal((await c.request('WATCH_ALL', NO_PARAMS)).error.code, 'BAD_REQUEST');
        assert.deepEqual(await c.ok('UNWATCH', { subscription_id: 'nope' }), { removed: false, subscription_id: 'nope' });
        await c.ok('UNWATCH', { subscription_id: w.subscription_id });
      },
    },
    {
      point: 'Session: HELLO with protocol_version 2 or 1.0, a non-string client_name or wire_modes null is BAD_REQUEST; AUTH with an empty token or another method is AUTH_FAILED; a server without auth takes any other token',
      run: async () => {
        const s = await Raw.open(emu.port);
        try {
          for (const p of [{ protocol_version: 2 }, { protocol_version: 1, client_name: 5 }, { protocol_version: 1, wire_modes: null }]) {
            assert.equal((await s.err('HELLO', p)).code, 'BAD_REQUEST', JSON.stringify(p));
          }
          s.socket.write(encodeFrame(Buffer.from('{"type":"request","id":"f","op":"HELLO","params":{"protocol_version":1.0}}')));
          const f = await s.waitFor(() => s.inbox.find((m) => m.id === 'f'), 'HELLO 1.0');
          assert.equal(f.error.code, 'BAD_REQUEST');
          assert.equal((await s.err('AUTH', { method: 'bearer', token: '' })).code, 'AUTH_FAILED');
          assert.equal((await s.err('AUTH', { method: 'basic', token: 'x' })).code, 'AUTH_FAILED');
          assert.deepEqual(await s.ok('AUTH', { method: 'bearer', token: 'anything' }), { authenticated: true });
        } finally {
          s.close();
        }
      },
    },
    {
      point: 'Session and envelope: params null, [], "x", 5, a type other than "request" and ids over 256 bytes are answered',
      run: async () => {
        for (const params of [null, [], 'x', 5]) {
          assert.deepEqual((await c.request('PING', params)).result, { pong: true });
          assert.equal((await c.request('GET_INSTANCE', params)).error.code, 'BAD_REQUEST');
        }
        assert.deepEqual((await c.request('PING', {}, { type: 'hello' })).result, { pong: true });
        const long = 'x'.repeat(300);
        c.write({ type: 'request', id: long, op: 'PING', params: {} });
        await c.waitFor(() => c.inbox.find((m) => m.id === long), 'the answer to a long id');
      },
    },
    {
      point: 'Session and envelope: an unknown op, duplicate envelope keys, invalid UTF-8 in a string, a bad frame close the connection without a response; a valid frame followed by garbage is answered, then closed',
      run: async () => {
        const closes: [string, Buffer][] = [
          ['unknown op', encodeJsonFrame({ type: 'request', id: '1', op: 'NOT_AN_OP', params: {} })],
          ['duplicate id', encodeFrame(Buffer.from('{"type":"request","id":"1","id":"2","op":"PING","params":{}}'))],
          ['invalid UTF-8', encodeFrame(Buffer.concat([Buffer.from('{"type":"request","id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","op":"PING","params":{}}')]))],
          ['bad magic', Buffer.from('RCP1' + 'x'.repeat(40))],
          ['bad CRC', (() => { const f = encodeJsonFrame({ type: 'request', id: '1', op: 'PING', params: {} }); f[f.length - 1] ^= 1; return f; })()],
          ['bad flags', (() => { const f = encodeJsonFrame({ type: 'request', id: '1', op: 'PING', params: {} }); f.writeUInt16BE(0x10, 6); return f; })()],
        ];
        for (const [what, bytes] of closes) {
          const r = await Raw.open(emu.port);
          r.socket.write(bytes);
          await r.whenClosed;
          assert.equal(r.inbox.length, 0, what);
        }
        const g = await Raw.open(emu.port);
        g.socket.write(Buffer.concat([encodeJsonFrame({ type: 'request', id: 'ok', op: 'PING', params: {} }), Buffer.from('garbage that is not a frame at all')]));
        await g.whenClosed;
        assert.deepEqual(g.inbox.map((m) => m.id), ['ok']);
      },
    },
    {
      point: 'More observed behaviour: errors never carry details; messages carry the server prefixes',
      run: async () => {
        const errors = [
          await c.err('GET_INSTANCE', { instance_id: 'nobody' }),
          await c.err('GET_INSTANCE', {}),
          await c.err('APPLY_EVENT', { instance_id: '', event: 'nope' }),
          await c.err('PUT_MACHINE', { machine: 'x', version: 1, definition: {} }),
        ];
        for (const e of errors) {
          assert.deepEqual(Object.keys(e), ['code', 'message', 'retryable']);
          assert.match(e.message, /^(core error|invalid request): /);
        }
      },
    },
  ];

  for (const k of cases) test(k.point, { timeout: 60_000 }, k.run);
});

describe('emulator: auth and the idle timer', { timeout: 60_000 }, () => {
  let secured: EmulatorProcess;
  before(async () => {
    secured = await startEmulator({ token: 'tok', idleTimeoutMs: 800 });
  });
  after(() => secured?.stop());

  test('More observed behaviour (SECURITY): WATCH_ALL and WATCH_INSTANCE skip the auth check; other ops answer UNAUTHORIZED until AUTH', async () => {
    const writer = await Raw.open(secured.port);
    const spy = await Raw.open(secured.port);
    try {
      await writer.ok('AUTH', { method: 'bearer', token: 'tok' });
      await writer.ok('PUT_MACHINE', { machine: 'flow', version: 1, definition: FLOW });
      await writer.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: 'secret', initial_ctx: { pin: 1234 } });
      assert.deepEqual(await spy.err('GET_INSTANCE', { instance_id: 'secret' }), { code: 'UNAUTHORIZED', message: 'authentication required', retryable: false });
      assert.equal((await spy.err('AUTH', { method: 'bearer', token: 'wrong' })).code, 'AUTH_FAILED');
      await spy.ok('WATCH_ALL', {});
      const one = await spy.ok('WATCH_INSTANCE', { instance_id: 'secret' });
      assert.equal(one.current_state, 'a');
      await writer.ok('APPLY_EVENT', { instance_id: 'secret', event: 'go' });
      const seen = await spy.waitFor(() => spy.events().length === 2 && spy.events(), 'events without AUTH');
      assert.deepEqual(seen[0].ctx, { pin: 1234 });
    } finally {
      writer.close();
      spy.close();
    }
  });

  test('More observed behaviour: the idle timer counts requests only — events pushed do not keep a connection open, PINGs do', async () => {
    const writer = await Raw.open(secured.port);
    const watcher = await Raw.open(secured.port);
    const pinger = await Raw.open(secured.port);
    try {
      const authAt = Date.now();
      await watcher.ok('AUTH', { method: 'bearer', token: 'tok' });
      // WATCH_ALL does not count either: on the server it bypasses the handler that counts requests.
      await watcher.ok('WATCH_ALL', {});
      await writer.ok('AUTH', { method: 'bearer', token: 'tok' });
      await writer.ok('CREATE_INSTANCE', { machine: 'flow', version: 1, instance_id: 'busy', initial_ctx: {} });
      const started = Date.now();
      // Events keep arriving at the watcher (every 100 ms) while it sends nothing, and the pinger pings.
      let n = 0;
      // Two idle timeouts' worth of traffic: the watcher must be cut, the pinger must not.
      while (Date.now() - started < 2000) {
        await writer.ok('APPLY_EVENT', { instance_id: 'busy', event: 'loop' });
        await pinger.ok('PING');
        n++;
        await new Promise((r) => setTimeout(r, 100)); // pacing of the traffic, not synchronisation
      }
      assert.ok(watcher.closed, 'the watcher was closed although events kept coming');
      assert.ok(watcher.events().length >= 3, `it received events before (${watcher.events().length})`);
      assert.ok(Date.now() - authAt >= 750, 'not before the idle timeout after its last request');
      assert.equal(pinger.closed, false, 'a connection that sends requests stays open');
      assert.equal(writer.closed, false);
      assert.ok(n > 10);
    } finally {
      writer.close();
      watcher.close();
      pinger.close();
    }
  });
});
