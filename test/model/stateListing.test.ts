import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StateListing } from '../../src/model/stateListing';
import type { InstanceSummary } from '../../src/rcp/types';

const row = (id: string): InstanceSummary => ({ id, machine: 'm', version: 1, state: 's', created_at: 1, updated_at: 1, last_wal_offset: 1 });

test('after a refresh, rows that arrived live keep their place on top once the server lists them again', () => {
  const l = new StateListing('m', 1, 's');
  for (const id of ['a', 'b', 'c']) l.paged.set(id, row(id));
  l.arrive(row('new-1'));
  l.arrive(row('new-2'));
  assert.deepEqual(l.rows().map((r) => r.id), ['new-2', 'new-1', 'a', 'b', 'c']);

  l.reset();
  // The server lists everything in its own order (here the arrivals last).
  for (const id of ['a', 'b', 'c', 'new-1', 'new-2']) l.paged.set(id, row(id));
  assert.deepEqual(l.rows().map((r) => r.id), ['new-2', 'new-1', 'a', 'b', 'c']);

  // A second refresh keeps them there too; a newer arrival goes above them.
  l.arrive(row('new-3'));
  l.reset();
  for (const id of ['new-1', 'a', 'new-3', 'b', 'c', 'new-2']) l.paged.set(id, row(id));
  assert.deepEqual(l.rows().map((r) => r.id), ['new-3', 'new-2', 'new-1', 'a', 'b', 'c']);

  // Reset twice in a row (a reconnect resets the stream and the tree): still placed.
  l.loaded = true;
  l.reset();
  l.reset();
  for (const id of ['a', 'new-1', 'b', 'new-3', 'c', 'new-2']) l.paged.set(id, row(id));
  assert.deepEqual(l.rows().map((r) => r.id), ['new-3', 'new-2', 'new-1', 'a', 'b', 'c']);

  // One that left is simply not shown.
  l.remove('new-2');
  assert.deepEqual(l.rows().map((r) => r.id), ['new-3', 'new-1', 'a', 'b', 'c']);
});
