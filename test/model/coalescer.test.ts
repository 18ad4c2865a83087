import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Coalescer } from '../../src/model/coalescer';
import { parseConnections, validateHost, validatePort } from '../../src/model/connectionConfig';
import { relativeTime } from '../../src/model/relativeTime';

test('a burst of 1,000 marks in one second becomes about ten refreshes, and no mark is lost', async () => {
  const seen = new Set<number>();
  const c = new Coalescer<number>(100, (batch) => batch.forEach((k) => seen.add(k)));
  for (let i = 0; i < 1000; i++) {
    c.add(i % 50);
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(seen.size, 50);
  assert.ok(c.flushes <= 12, `${c.flushes} flushes`);
  c.dispose();
});

test('connection settings edited by hand: bad entries are reported, good ones kept', () => {
  const { connections, problems } = parseConnections([
    { name: 'local', host: '127.0.0.1', port: 7401 },
    { name: 'broken', host: '', port: 99999 },
    { name: 'local', host: 'x', port: 1 },
  ]);
  assert.deepEqual(connections.map((c) => c.name), ['local']);
  assert.equal(problems.length, 2);
  assert.match(problems[0], /broken/);
  assert.match(problems[1], /duplicate name/);
  assert.equal(validatePort('0'), 'The port must be between 1 and 65535.');
  assert.equal(validatePort('7401'), undefined);
  assert.ok(validateHost('tcp://x'));
});

test('relative times read naturally', () => {
  const now = 1_700_000_000_000;
  assert.equal(relativeTime(now - 1000, now), 'just now');
  assert.equal(relativeTime(now - 90_000, now), '1m ago');
  assert.equal(relativeTime(now - 3 * 86_400_000, now), '3d ago');
});
