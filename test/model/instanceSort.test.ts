import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SortMemory, sortRows } from '../../src/model/instanceSort';
import type { InstanceSummary } from '../../src/rcp/types';

const row = (id: string, updated_at: number): InstanceSummary => ({ id, machine: 'm', version: 1, state: 's', created_at: 1, updated_at, last_wal_offset: 1 });

test('rows sort last updated first or by id (numbers in ids in numeric order); listed keeps the order', () => {
  const rows = [row('job-10', 5), row('job-9', 7), row('job-2', 5)];
  assert.deepEqual(sortRows(rows, 'updated').map((r) => r.id), ['job-9', 'job-2', 'job-10']);
  assert.deepEqual(sortRows(rows, 'id').map((r) => r.id), ['job-2', 'job-9', 'job-10']);
  assert.deepEqual(sortRows(rows, 'listed').map((r) => r.id), ['job-10', 'job-9', 'job-2']);
});

test('the choice is remembered per state in the store it is given', async () => {
  const data = new Map<string, unknown>();
  const store = { get: <T>(k: string) => data.get(k) as T | undefined, update: async (k: string, v: unknown) => void data.set(k, v) };
  const memory = new SortMemory(store);
  assert.equal(memory.get('state:a'), 'listed');
  await memory.set('state:a', 'id');
  await memory.set('state:b', 'updated');
  assert.equal(new SortMemory(store).get('state:a'), 'id');
  assert.equal(new SortMemory(store).get('state:b'), 'updated');
  await memory.set('state:a', 'listed');
  assert.equal(memory.get('state:a'), 'listed');
});
