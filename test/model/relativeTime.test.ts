import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relativeTime } from '../../src/model/relativeTime';

test('relative times read naturally', () => {
  const now = 1_700_000_000_000;
  assert.equal(relativeTime(now - 1000, now), 'just now');
  assert.equal(relativeTime(now - 90_000, now), '1m ago');
  assert.equal(relativeTime(now - 3 * 86_400_000, now), '3d ago');
});
