import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  idAtCursor,
  InstanceCatalog,
  listingFooter,
  pickRows,
  RECENT_CONNECTIONS,
  RecentInstances,
  type RecentInstance,
} from '../../src/model/instancePick';
import type { InstanceSummary, ListInstancesResult } from '../../src/rcp/types';

function memoryStore(initial?: Record<string, RecentInstance[]>) {
  let value = initial;
  return { get: () => value, set: (v: Record<string, RecentInstance[]>) => (value = v), peek: () => value };
}

function summary(id: string, state = 'queued', machine = 'bulk'): InstanceSummary {
  return { id, machine, version: 1, state, created_at: 0, updated_at: 0, last_wal_offset: 0 };
}

/** A server of `count` instances listed in a shuffled (hash-like) order, counting the pages asked for. */
function server(count: number) {
  const all = Array.from({ length: count }, (_, i) => summary(`job-${String(i).padStart(6, '0')}`));
  // A fixed shuffle, as the server lists in hash order.
  for (let i = all.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  const calls: { offset: number; limit: number }[] = [];
  const list = async (offset: number, limit: number): Promise<ListInstancesResult> => {
    calls.push({ offset, limit });
    const instances = all.slice(offset, offset + limit);
    return { instances, total: all.length, has_more: offset + instances.length < all.length };
  };
  return { all, calls, list };
}

test('recent instances: the latest first, one entry per id, capped per connection, facts kept', () => {
  let now = 1000;
  const store = memoryStore();
  const recent = new RecentInstances(store, 3, () => now++);
  recent.add('A', 'one', { machine: 'order', version: 1, state: 'paid' });
  recent.add('A', 'two');
  recent.add('B', 'elsewhere');
  recent.add('A', 'one'); // again: to the top, with what was known of it
  assert.deepEqual(recent.list('A').map((r) => r.id), ['one', 'two']);
  assert.equal(recent.list('A')[0].state, 'paid');
  recent.add('A', 'three');
  recent.add('A', 'four');
  assert.deepEqual(recent.list('A').map((r) => r.id), ['four', 'three', 'one']);
  assert.deepEqual(recent.list('B').map((r) => r.id), ['elsewhere']);
  recent.update('A', 'three', { state: 'done' });
  assert.equal(recent.list('A')[1].state, 'done');
  assert.deepEqual(recent.list('A').map((r) => r.id), ['four', 'three', 'one'], 'an update does not reorder');
  recent.forget('A', 'three');
  assert.deepEqual(recent.list('A').map((r) => r.id), ['four', 'one']);
});

test('recent instances: garbage in storage is ignored, ids that cannot be ids are not kept, old connections age out', () => {
  const store = memoryStore({ A: [{ id: 'ok', seenAt: 1 }, null as unknown as RecentInstance, { id: '', seenAt: 2 }], B: 'nonsense' as unknown as RecentInstance[] });
  const recent = new RecentInstances(store);
  assert.deepEqual(recent.list('A').map((r) => r.id), ['ok']);
  assert.deepEqual(recent.list('B'), []);
  recent.add('A', 'x'.repeat(300));
  recent.add('A', '');
  assert.deepEqual(recent.list('A').map((r) => r.id), ['ok']);
  for (let i = 0; i < RECENT_CONNECTIONS + 5; i++) recent.add(`conn-${i}`, 'id');
  assert.equal(Object.keys(store.peek()!).length, RECENT_CONNECTIONS);
  assert.equal(recent.list('conn-0').length, 0, 'the connection used longest ago is dropped');
  assert.equal(recent.list(`conn-${RECENT_CONNECTIONS + 4}`).length, 1);
});

test('the catalog pages LIST_INSTANCES lazily, one request at a time, and stops at its cap', async () => {
  const s = server(1000);
  const catalog = new InstanceCatalog(s.list, undefined, 200, 500);
  assert.equal(s.calls.length, 0, 'nothing is read before it is asked for');
  await Promise.all([catalog.loadMore(), catalog.loadMore()]);
  assert.equal(s.calls.length, 1, 'two asks while one page loads make one request');
  assert.equal(catalog.held, 200);
  assert.equal(catalog.total, 1000);
  await catalog.loadMore();
  await catalog.loadMore();
  assert.deepEqual(
    s.calls.map((c) => [c.offset, c.limit]),
    [
      [0, 200],
      [200, 200],
      [400, 100],
    ],
    'the last page asks only for what the cap leaves',
  );
  assert.equal(catalog.held, 500);
  assert.ok(catalog.full && !catalog.canLoadMore);
  assert.equal(await catalog.loadMore(), false);
  assert.equal(s.calls.length, 3, 'nothing more is read past the cap');
  assert.match(listingFooter({ held: catalog.held, total: catalog.total, exhausted: catalog.exhausted, full: catalog.full }), /Showing 500 of 1,000 instances; type a full id/);
});

test('the catalog drops duplicates and deleted instances, and never loops on a server that claims more forever', async () => {
  const deleted = new Set(['b']);
  let calls = 0;
  const catalog = new InstanceCatalog(
    async (offset) => {
      calls++;
      // The same rows again (a create shifted the hash order), then an empty page that still says has_more.
      if (offset === 0) return { instances: [summary('a'), summary('b')], total: 3, has_more: true };
      if (offset === 2) return { instances: [summary('a'), summary('c')], total: 3, has_more: true };
      return { instances: [], total: 3, has_more: true };
    },
    (id) => deleted.has(id),
  );
  while (await catalog.loadMore());
  assert.deepEqual(catalog.rows.map((r) => r.id), ['a', 'c']);
  assert.equal(calls, 3);
  assert.ok(catalog.exhausted);
  assert.equal(catalog.get('b'), undefined, 'a deleted instance is not offered though the server listed it');
});

test('a failed page stops loading until retried, and says why', async () => {
  let fail = true;
  const s = server(300);
  const catalog = new InstanceCatalog(async (o, l) => {
    if (fail) throw new Error('connection closed');
    return s.list(o, l);
  });
  assert.equal(await catalog.loadMore(), false);
  assert.match((catalog.error as Error).message, /connection closed/);
  fail = false;
  catalog.retry();
  assert.equal(await catalog.loadMore(), true);
  assert.equal(catalog.held, 200);
});

test('typing loads more pages only while too few listed rows match', async () => {
  const s = server(1000);
  const catalog = new InstanceCatalog(s.list, undefined, 200, 5000);
  await catalog.loadMore();
  assert.equal(catalog.wantsMoreFor(''), false, 'an empty query loads as the user scrolls, not by itself');
  // job-00093x: ten ids, spread over the shuffled pages.
  let pages = 1;
  while (catalog.wantsMoreFor('job-00093')) {
    await catalog.loadMore();
    pages++;
  }
  assert.equal(catalog.matching('job-00093').length, 10);
  assert.equal(pages, 5, 'every page was read, as fewer than a screenful match');
  assert.ok(catalog.exhausted);
  // Matching is by id or by machine and state, word by word, ignoring case.
  assert.equal(catalog.matching('BULK queued').length, 1000);
  assert.equal(catalog.matching('job-000001').length, 1);
});

test('pick rows: suggestions, then recent, then listed, each id once; a typed id that names none comes first', () => {
  const rows = pickRows({
    connection: 'A',
    suggestions: [
      { id: 's1', connection: 'A', why: 'selected in the tree' },
      { id: 's1', connection: 'A', why: 'shown in the active editor' },
      { id: 'other', connection: 'B', why: 'open in the inspector' },
    ],
    recent: [{ id: 'r1', seenAt: 2, machine: 'order', version: 1, state: 'paid' }, { id: 's1', seenAt: 1 }, { id: 'gone', seenAt: 0 }],
    listed: [summary('r1'), summary('l1'), summary('l2')],
    query: '',
    isDeleted: (id) => id === 'gone',
  });
  assert.deepEqual(
    rows.map((r) => `${r.kind}:${r.id}${r.connection ? `@${r.connection}` : ''}`),
    ['suggested:s1', 'suggested:other@B', 'recent:r1', 'listed:l1', 'listed:l2'],
  );
  assert.equal(rows[0].why, 'selected in the tree', 'the first suggestion wins');

  const typed = pickRows({ connection: 'A', suggestions: [], recent: [], listed: [summary('l1')], query: '  l9 ' });
  assert.deepEqual(typed.map((r) => `${r.kind}:${r.id}`), ['typed:l9', 'listed:l1']);
  const exact = pickRows({ connection: 'A', suggestions: [], recent: [], listed: [summary('l1')], query: 'l1' });
  assert.deepEqual(exact.map((r) => `${r.kind}:${r.id}`), ['listed:l1'], 'an id already listed is not offered twice');
  const elsewhere = pickRows({ connection: 'A', suggestions: [{ id: 'x', connection: 'B', why: 'selected in the tree' }], recent: [], listed: [], query: 'x' });
  assert.equal(elsewhere[0].kind, 'typed', 'the same id on another connection is another instance');
  assert.deepEqual(pickRows({ connection: 'A', suggestions: [], recent: [], listed: [], query: 'a\nb' }), [], 'not an id: nothing typed to offer');
});

test('the id under the cursor: a selection, the string literal around the cursor, or the word under it', () => {
  const line = `  await client.applyEvent({ instance_id: "order-0042", event: 'pay' });`;
  const at = (needle: string, offset = 1) => line.indexOf(needle) + offset;
  assert.equal(idAtCursor(line, at('order-0042', 3)), 'order-0042');
  assert.equal(idAtCursor(line, at('"order-0042"', 0)), 'order-0042', 'on the opening quote');
  assert.equal(idAtCursor(line, at('"order-0042"', 12)), 'order-0042', 'just after the closing quote');
  assert.equal(idAtCursor(line, at("'pay'", 2)), 'pay');
  assert.equal(idAtCursor(line, at('applyEvent', 3)), 'client.applyEvent', 'a bare word');
  assert.equal(idAtCursor(`id = "a \\"quoted\\" id"`, 8), 'a "quoted" id', 'escapes undone');
  assert.equal(idAtCursor(`"unterminated`, 3), 'unterminated', 'an unterminated quote is no literal: the word');
  assert.equal(idAtCursor(`   `, 1), undefined);
  assert.equal(idAtCursor(`x = ""`, 5), undefined, 'an empty literal');
  // A selection wins over the cursor; quotes around it are dropped; several lines are no id.
  assert.equal(idAtCursor(line, 0, ` "order-0042" `), 'order-0042');
  assert.equal(idAtCursor(line, 0, 'ab\ncd'), undefined);
  assert.equal(idAtCursor(`"${'x'.repeat(300)}"`, 3), undefined, 'too long to be an id');
  assert.equal(idAtCursor('see job-000935.', 6), 'job-000935', 'trailing punctuation is not part of the id');
});
