import assert from 'node:assert/strict';
import { test } from 'node:test';
import { treeId } from '../../src/views/nodes/treeId';

test('names containing the separator never give two rows one id', () => {
  assert.notEqual(treeId('machine', 'a:b', 'c'), treeId('machine', 'a', 'b:c'));
  assert.notEqual(treeId('state', 'prod', 'order', 1, 'a:b'), treeId('state', 'prod', 'order:1', 'a', 'b'));
  assert.notEqual(treeId('instance', 'x"]', 'y'), treeId('instance', 'x', '"]y'));
  // A version number and a name that reads like it are different rows.
  assert.notEqual(treeId('version', 'c', 'm', 1), treeId('version', 'c', 'm', '1'));
  assert.equal(treeId('connection', 'Local demo'), treeId('connection', 'Local demo'));
});
