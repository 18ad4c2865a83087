import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HistoryIndex } from '../../src/model/historyIndex';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';

const FLOW = {
  states: ['open', 'busy', 'done'],
  initial: 'open',
  transitions: [
    { from: 'open', event: 'start', to: 'busy' },
    { from: 'busy', event: 'pause', to: 'open' },
    { from: 'busy', event: 'finish', to: 'done' },
  ],
};

describe('the history index, read from the WAL in pages', () => {
  let emu: EmulatorProcess;
  let client: RcpClient;

  before(async () => {
    emu = await startEmulator();
    client = await RcpClient.connect({ host: emu.host, port: emu.port });
    await client.putMachine({ machine: 'flow', version: 1, definition: FLOW });
    // Two instances interleaved, so each one's entries straddle page boundaries.
    await client.createInstance({ machine: 'flow', version: 1, instance_id: 'a', initial_ctx: { n: 0 } });
    // With a context: one created without initial_ctx keeps ctx null on the server and never merges a payload.
    await client.createInstance({ machine: 'flow', version: 1, instance_id: 'b', initial_ctx: {} });
    for (let i = 1; i <= 10; i++) {
      await client.applyEvent({ instance_id: 'a', event: 'start', payload: { n: i } });
      await client.applyEvent({ instance_id: 'b', event: 'start', payload: { round: i } });
      await client.applyEvent({ instance_id: 'a', event: 'pause' });
      await client.applyEvent({ instance_id: 'b', event: 'pause' });
    }
  });
  after(async () => {
    await client?.close();
    await emu?.stop();
  });

  test('each instance gets its own entries, newest first, across pages of 7 records', { timeout: 20_000 }, async () => {
    const progress: number[] = [];
    const index = new HistoryIndex(async () => client, { pageSize: 7, onProgress: (read) => progress.push(read) });
    await index.catchUp();
    const a = index.rows('a');
    assert.equal(a.length, 21);
    assert.deepEqual(a[a.length - 1], { offset: a[a.length - 1].offset, kind: 'create', to: 'open', payloadSize: 0 });
    assert.equal(a[0].event, 'pause');
    assert.equal(a[1].event, 'start');
    assert.equal(a[1].payloadSize, JSON.stringify({ n: 10 }).length);
    for (let i = 1; i < a.length; i++) assert.ok(a[i - 1].offset > a[i].offset, 'newest first');
    assert.equal(index.rows('b').length, 21);
    assert.deepEqual(index.rows('nobody'), []);
    assert.equal(index.truncated('a'), false);
    // 1 machine + 2 creates + 40 events, read in pages with progress after each.
    assert.equal(index.recordsRead, 43);
    assert.ok(progress.length >= 7, `progress after each page: ${progress}`);
    assert.equal(progress[progress.length - 1], 43);
  });

  test('catching up reads only what is new, and a delete ends the history', { timeout: 20_000 }, async () => {
    const changed: string[][] = [];
    const index = new HistoryIndex(async () => client, { pageSize: 7, onChanged: (ids) => changed.push([...ids].sort()) });
    await index.catchUp();
    const before = index.recordsRead;
    await client.applyEvent({ instance_id: 'a', event: 'start', payload: { n: 11 } });
    await client.applyEvent({ instance_id: 'a', event: 'finish' });
    await client.deleteInstance({ instance_id: 'a' });
    await index.catchUp();
    assert.equal(index.recordsRead - before, 3);
    assert.deepEqual(changed[changed.length - 1], ['a']);
    const rows = index.rows('a');
    assert.deepEqual(rows.slice(0, 3).map((r) => r.kind), ['delete', 'event', 'event']);
    assert.equal(rows[0].from, 'done');
    assert.equal(index.deleted('a'), true);
    assert.equal(index.deleted('b'), false);
    // Nothing new: nothing read.
    const now = index.recordsRead;
    await index.catchUp();
    assert.equal(index.recordsRead, now);
  });

  test('callers during a read share one more read, which sees what they just did', { timeout: 20_000 }, async () => {
    const index = new HistoryIndex(async () => client, { pageSize: 5 });
    const first = index.catchUp();
    await client.applyEvent({ instance_id: 'b', event: 'start', payload: { round: 11 } });
    const second = index.catchUp();
    const third = index.catchUp();
    assert.equal(second, third);
    await Promise.all([first, second]);
    assert.equal(index.rows('b')[0].event, 'start');
    assert.equal(index.rows('b')[0].payloadSize, JSON.stringify({ round: 11 }).length);
  });

  test('an entry\'s detail has its payload, the context after it, and what changed from the entry before', { timeout: 20_000 }, async () => {
    const index = new HistoryIndex(async () => client);
    await index.catchUp();
    const rows = index.rows('b');
    const start = rows.find((r) => r.event === 'start')!;
    const d = await index.detail('b', start.offset);
    assert.deepEqual(d.payload, { round: 11 });
    assert.equal(d.ctx.round, 11);
    assert.deepEqual(d.changes, [{ path: ['round'], kind: 'changed', before: 10, after: 11 }]);
    const created = rows[rows.length - 1];
    const c = await index.detail('b', created.offset);
    assert.deepEqual(c.changes, []);
    await assert.rejects(index.detail('b', 1), /no history entry/);
  });

  test('records read by the change stream extend the index when they follow on, and are left alone after a gap', { timeout: 20_000 }, async () => {
    const changed: string[][] = [];
    const index = new HistoryIndex(async () => client, { onChanged: (ids) => changed.push([...ids]) });
    await index.catchUp();
    const read = index.recordsRead;
    const { latest_offset } = await client.walStats();
    await client.applyEvent({ instance_id: 'b', event: 'pause' });
    await client.applyEvent({ instance_id: 'b', event: 'start', payload: { round: 12, via: 'the stream' } });
    const { records } = await client.walRead({ from_offset: latest_offset, limit: 10 });
    assert.equal(records.length, 2);
    // A page that skips a record is not taken.
    index.ingest(records.slice(1));
    assert.equal(index.rows('b')[0].event, 'start');
    assert.notEqual(index.rows('b')[0].payloadSize, JSON.stringify({ round: 12, via: 'the stream' }).length);
    index.ingest(records);
    assert.deepEqual(index.rows('b').slice(0, 2).map((r) => r.event), ['start', 'pause']);
    assert.equal(index.rows('b')[0].payloadSize, JSON.stringify({ round: 12, via: 'the stream' }).length);
    assert.deepEqual(changed[changed.length - 1], ['b']);
    // Taken once: handed in again, nothing is added; the next catch-up reads nothing old.
    index.ingest(records);
    await index.catchUp();
    assert.equal(index.rows('b').filter((r) => r.offset === records[1].offset).length, 1);
    assert.equal(index.recordsRead, read);
  });
});
