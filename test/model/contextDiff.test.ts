import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffContext } from '../../src/model/contextDiff';

test('added, removed and changed keys are reported with their paths', { timeout: 5000 }, () => {
  const changes = diffContext({ a: 1, b: 'x', gone: true }, { a: 2, b: 'x', fresh: null });
  assert.deepEqual(changes, [
    { path: ['gone'], kind: 'removed', before: true },
    { path: ['a'], kind: 'changed', before: 1, after: 2 },
    { path: ['fresh'], kind: 'added', after: null },
  ]);
});

test('a change deep in an object has its own path; unchanged siblings are not listed', { timeout: 5000 }, () => {
  const before = { address: { city: 'Oslo', zip: '0150' }, items: [{ sku: 'A' }] };
  const after = { address: { city: 'Riga', zip: '0150', floor: 3 }, items: [{ sku: 'A' }] };
  assert.deepEqual(diffContext(before, after), [
    { path: ['address', 'city'], kind: 'changed', before: 'Oslo', after: 'Riga' },
    { path: ['address', 'floor'], kind: 'added', after: 3 },
  ]);
});

test('arrays are compared whole, and a type change is a change', { timeout: 5000 }, () => {
  assert.deepEqual(diffContext({ tags: ['a', 'b'] }, { tags: ['b', 'a'] }), [{ path: ['tags'], kind: 'changed', before: ['a', 'b'], after: ['b', 'a'] }]);
  assert.deepEqual(diffContext({ v: { x: 1 } }, { v: 'x' }), [{ path: ['v'], kind: 'changed', before: { x: 1 }, after: 'x' }]);
  assert.deepEqual(diffContext({ tags: [1, 2] }, { tags: [1, 2] }), []);
});

test('a null context (the server sends one for an instance created without one) is empty', { timeout: 5000 }, () => {
  assert.deepEqual(diffContext(null, { amount: 5 }), [{ path: ['amount'], kind: 'added', after: 5 }]);
  assert.deepEqual(diffContext({ amount: 5 }, null), [{ path: ['amount'], kind: 'removed', before: 5 }]);
  assert.deepEqual(diffContext(null, null), []);
});

test('keys that look like object internals are ordinary keys', { timeout: 5000 }, () => {
  const before = JSON.parse('{"__proto__": {"x": 1}, "constructor": 1}') as Record<string, unknown>;
  const after = JSON.parse('{"__proto__": {"x": 2}, "hasOwnProperty": 3}') as Record<string, unknown>;
  assert.deepEqual(diffContext(before, after), [
    { path: ['constructor'], kind: 'removed', before: 1 },
    { path: ['__proto__', 'x'], kind: 'changed', before: 1, after: 2 },
    { path: ['hasOwnProperty'], kind: 'added', after: 3 },
  ]);
});
