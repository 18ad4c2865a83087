import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RowClicks } from '../../src/views/rowClick';

test('two clicks on the same row in quick succession are a double-click; slow, other-row and third clicks are not', () => {
  let now = 1000;
  const clicks = new RowClicks(() => now);
  assert.equal(clicks.click('a'), false);
  now += 200;
  assert.equal(clicks.click('a'), true);
  now += 100;
  assert.equal(clicks.click('a'), false, 'a third click starts a new pair');
  now += 900;
  assert.equal(clicks.click('a'), false, 'too slow');
  now += 100;
  assert.equal(clicks.click('b'), false, 'another row');
  now += 100;
  assert.equal(clicks.click('b'), true);
});
