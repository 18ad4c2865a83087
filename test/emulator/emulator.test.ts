import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { RcpClient, type RcpEvent } from '../../src/rcp';
import { encodeMessage, FrameDecoder, parseMessage } from '../../src/rcp/frame';
import { waitFor } from '../rcp/waitFor';
import { startEmulator, type EmulatorProcess } from './process';

/** A bare socket speaking frames, for behaviour the client would hide. */
async function raw(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const decoder = new FrameDecoder();
  const inbox: Record<string, unknown>[] = [];
  const text: string[] = [];
  socket.on('data', (c: Buffer) => {
    if (c[0] === 0x7b) text.push(c.toString());
    else for (const f of decoder.push(c)) inbox.push(parseMessage(f.payload));
  });
  const closed = once(socket, 'close');
  return {
    socket,
    inbox,
    text,
    closed,
    send: (m: object) => socket.write(encodeMessage(m)),
    /** The answer to request `id` (frames). */
    answered: (id: string) => waitFor(() => inbox.some((m) => m.id === id), `the answer to request ${id}`),
  };
}

describe('emulator fidelity', { timeout: 120_000 }, () => {
  let emu: EmulatorProcess;
  let client: RcpClient;

  before(async () => {
    emu = await startEmulator({ seed: 'demo' });
    client = await RcpClient.connect({ host: emu.host, port: emu.port });
  });
  after(async () => {
    await client?.close();
    await emu?.stop();
  });

  test('the demo seed holds three machines and about a thousand instances spread over their states', async () => {
    const machines = await client.listMachines();
    assert.deepEqual(machines.items.map((m) => m.machine), ['approval', 'order', 'task']);
    const all = await client.listInstances({ limit: 1 });
    assert.equal(all.total, 1000);
    const paid = await client.listInstances({ machine: 'order', state: 'paid', limit: 1 });
    const delivered = await client.listInstances({ machine: 'order', state: 'delivered', limit: 1 });
    assert.ok(paid.total > 0 && delivered.total > 0);
  });

  test('WATCH_ALL accepts from_offset but replays nothing, as the server does', async () => {
    const [inst] = (await client.listInstances({ machine: 'order', state: 'created', limit: 1 })).instances;
    await client.applyEvent({ instance_id: inst.id, event: 'cancel' });
    const sub = await client.watchAll({ from_offset: 0 });
    const seen: RcpEvent[] = [];
    sub.on('event', (e: RcpEvent) => seen.push(e));
    // A later event is the marker: a replay would have come before it.
    const [marker] = (await client.listInstances({ machine: 'order', state: 'created', limit: 1 })).instances;
    await client.applyEvent({ instance_id: marker.id, event: 'cancel' });
    await waitFor(() => seen.length > 0, 'the live event');
    assert.deepEqual(seen.map((e) => e.instance_id), [marker.id]);
    await sub.close();
  });

  test('filters pick the events a subscriber asked for; create and delete make no events', async () => {
    const sub = await client.watchAll({ machines: ['task'], to_states: ['in_progress'], include_ctx: false });
    const seen: RcpEvent[] = [];
    sub.on('event', (e: RcpEvent) => seen.push(e));
    const { instance_id } = await client.createInstance({ machine: 'task', version: 1, initial_ctx: { assignee: 'ada' } });
    await client.applyEvent({ instance_id, event: 'start' });
    await client.applyEvent({ instance_id, event: 'submit' }); // to review: filtered out
    await client.deleteInstance({ instance_id });
    // A later event the filter passes is the marker: anything wrongly delivered would have come before it.
    const marker = await client.createInstance({ machine: 'task', version: 1, initial_ctx: { assignee: 'bob' } });
    await client.applyEvent({ instance_id: marker.instance_id, event: 'start' });
    await waitFor(() => seen.some((e) => e.instance_id === marker.instance_id), 'the marker event');
    assert.deepEqual(seen.map((e) => [e.instance_id, e.event, e.to_state, 'ctx' in e]), [
      [instance_id, 'start', 'in_progress', false],
      [marker.instance_id, 'start', 'in_progress', false],
    ]);
    await sub.close();
  });

  test('a subscriber that stops reading silently loses events, which the WAL still has', async () => {
    await client.putMachine({ machine: 'pingpong', version: 1, definition: { states: ['ping', 'pong'], initial: 'ping', transitions: [{ from: 'ping', event: 'hit', to: 'pong' }, { from: 'pong', event: 'hit', to: 'ping' }] } });
    // With a context (an instance created without one keeps ctx null and events stay small).
    await client.createInstance({ machine: 'pingpong', version: 1, instance_id: 'ball', initial_ctx: {} });
    const slow = await raw(emu.port);
    slow.send({ type: 'request', id: '1', op: 'HELLO', params: { protocol_version: 1 } });
    slow.send({ type: 'request', id: '2', op: 'WATCH_ALL', params: { machines: ['pingpong'] } });
    await slow.answered('2');
    const { wal_offset: from } = slow.inbox.find((m) => m.id === '2')!.result as { wal_offset: number };
    slow.socket.pause();
    const applied = 120;
    const bulk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < applied; i++) await client.applyEvent({ instance_id: 'ball', event: 'hit', payload: { bulk } });
    slow.socket.resume();
    // The answer to a later PING comes after every event still queued for this subscriber.
    slow.send({ type: 'request', id: '3', op: 'PING' });
    await slow.answered('3');
    const delivered = slow.inbox.filter((m) => m.type === 'event').length;
    assert.ok(delivered > 0 && delivered < applied, `some events were dropped for the slow subscriber (${delivered} of ${applied})`);
    let inWal = 0;
    for (let next = from; ; ) {
      const page = await client.walRead({ from_offset: next, limit: 1000 });
      inWal += page.records.filter((r) => r.entry.type === 'apply_event' && r.entry.instance_id === 'ball').length;
      if (page.records.length === 0 || page.next_offset === null || page.next_offset <= next) break;
      next = page.next_offset;
    }
    assert.equal(inWal, applied);
    slow.socket.destroy();
  });

  test('after HELLO negotiates jsonl, responses are lines while requests stay frames; jsonl only when binary_json is absent', async () => {
    const both = await raw(emu.port);
    both.send({ type: 'request', id: '1', op: 'HELLO', params: { protocol_version: 1, wire_modes: ['jsonl', 'binary_json'] } });
    await both.answered('1');
    assert.equal((both.inbox[0].result as { wire_mode: string }).wire_mode, 'binary_json');
    both.socket.destroy();

    const lines = await raw(emu.port);
    lines.send({ type: 'request', id: '1', op: 'HELLO', params: { protocol_version: 1, wire_modes: ['jsonl'] } });
    lines.send({ type: 'request', id: '2', op: 'PING' });
    await waitFor(() => lines.text.join('').split('\n').filter((l) => l.trim()).length >= 2, 'both answers as lines');
    const got = lines.text.join('').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(got[0].result.wire_mode, 'jsonl');
    assert.deepEqual(got[1].result, { pong: true });
    lines.socket.destroy();
  });

  test('an unknown op or a bad frame closes the connection without any response', async () => {
    const a = await raw(emu.port);
    a.send({ type: 'request', id: '1', op: 'NOT_AN_OP' });
    await a.closed;
    assert.equal(a.inbox.length, 0);

    const b = await raw(emu.port);
    const f = encodeMessage({ type: 'request', id: '1', op: 'PING' });
    f[f.length - 1] ^= 1;
    b.socket.write(f);
    await b.closed;
    assert.equal(b.inbox.length, 0);
  });

  test('state and WAL survive the process being killed and restarted on the same port', async () => {
    const [inst] = (await client.listInstances({ machine: 'approval', state: 'draft', limit: 1 })).instances;
    const applied = await client.applyEvent({ instance_id: inst.id, event: 'submit' });
    const stats = await client.walStats();
    const port = emu.port;
    await emu.kill();
    await emu.restart();
    assert.equal(emu.port, port);
    const again = await RcpClient.connect({ host: emu.host, port: emu.port });
    try {
      const now = await again.getInstance({ instance_id: inst.id });
      assert.equal(now.state, 'submitted');
      assert.equal(now.last_wal_offset, applied.wal_offset);
      const after = await again.walStats();
      assert.equal(after.entry_count, stats.entry_count);
      assert.equal(after.latest_offset, stats.latest_offset);
      const next = await again.applyEvent({ instance_id: inst.id, event: 'reject' });
      assert.ok(next.wal_offset > applied.wal_offset);
    } finally {
      await again.close();
    }
    await client.close();
    client = await RcpClient.connect({ host: emu.host, port: emu.port });
  });
});
