import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Coalescer } from '../../src/model/coalescer';

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
