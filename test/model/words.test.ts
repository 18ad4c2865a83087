import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acrossVersions, middleEllipsis, plural, versionList } from '../../src/model/words';

test('counts agree in number: "1 instance", "55 instances", "1 version: v1"', () => {
  assert.equal(plural(1, 'instance'), '1 instance');
  assert.equal(plural(55, 'instance'), '55 instances');
  assert.equal(plural(0, 'instance'), '0 instances');
  assert.equal(versionList([1]), '1 version: v1');
  assert.equal(versionList([2, 1]), '2 versions: v1, v2');
});

test('a machine-wide count names the versions it covers, or how many when the list is long', () => {
  assert.equal(acrossVersions([2, 1]), 'v1, v2');
  assert.equal(acrossVersions([1, 2, 3, 4]), '4 versions');
});

test('a long id keeps both ends and is never longer than asked; a short one is unchanged', () => {
  assert.equal(middleEllipsis('order-0001'), 'order-0001');
  const id = 'tenant-eu-west-1/order/2026-11-26/000000042';
  const short = middleEllipsis(id, 28);
  assert.equal([...short].length, 28);
  assert.ok(short.startsWith('tenant-eu-we') && short.endsWith('00000042') && short.includes('…'), short);
  // Astral characters are not cut in half.
  assert.ok(!middleEllipsis('😀'.repeat(40), 10).includes('\uFFFD'));
  assert.equal([...middleEllipsis('😀'.repeat(40), 10)].length, 10);
});
