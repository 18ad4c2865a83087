import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guardPreview, payloadIgnoredNote, unmergeableContext, unmergeableContextNote } from '../../src/model/guardPreview';

test('on an object context, the preview says whether the guard passes before the payload is merged', () => {
  assert.equal(guardPreview(undefined, { a: 1 }), 'no guard');
  assert.equal(guardPreview(null, { a: 1 }), 'no guard');
  assert.equal(guardPreview('ctx.amount > 0', { amount: 5 }), 'guard ctx.amount > 0 — $(pass) passes on the current context');
  assert.equal(guardPreview('ctx.amount > 0', {}), 'guard ctx.amount > 0 — $(error) fails on the current context (payload merged after)');
  assert.equal(unmergeableContextNote({}), undefined);
  assert.equal(payloadIgnoredNote({ a: 1 }), undefined);
});

test('on a null context, the preview says the context is null and payloads are not merged into it', () => {
  assert.equal(guardPreview('ctx.amount > 0', null), 'guard ctx.amount > 0 — $(error) fails on the null context (payloads are not merged)');
  assert.equal(guardPreview('!ctx.hold', null), 'guard !ctx.hold — $(pass) passes on the null context (payloads are not merged)');
  assert.equal(guardPreview('ctx.a', [1]), 'guard ctx.a — $(error) fails on the context, which is an array (payloads are not merged)');
  assert.match(unmergeableContextNote(null)!, /^The context is null: payloads will not be merged into it, and guards read every field as null\.$/);
  assert.match(payloadIgnoredNote(null)!, /^The payload will be ignored: this instance's context is null/);
});

test('any context that is not an object is treated like null: the server merges only into objects', () => {
  assert.equal(unmergeableContext([1]), 'an array');
  assert.equal(unmergeableContext('text'), 'a string');
  assert.equal(unmergeableContext(5), 'a number');
  assert.equal(unmergeableContext({}), undefined);
  assert.match(payloadIgnoredNote([1])!, /context is an array/);
});

test('a guard the server reads only in part, or not at all, says so', () => {
  assert.equal(guardPreview('ctx.a == 1 and ctx.b', { a: 1 }), 'guard ctx.a == 1 and ctx.b — $(pass) passes on the current context — the server ignores `and ctx.b`');
  assert.match(guardPreview('ctx.a > ctx.b', {}), /^guard ctx\.a > ctx\.b — cannot be evaluated: expected a literal after >/);
});
