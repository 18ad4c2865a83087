import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTrace, TRACE_MAX_CHARS, TRACE_MAX_DEPTH } from '../../src/model/traceFormat';

test('a trace line of 100,000 nested arrays is written without throwing, cut at the depth cap', () => {
  let deep: unknown = [];
  for (let i = 0; i < 100_000; i++) deep = [deep];
  const line = formatTrace({ type: 'response', result: deep });
  assert.ok(line.includes('[…]'));
  assert.equal(line.split('[').length - 1, TRACE_MAX_DEPTH, 'nesting shown up to the cap (the object is the first level)');
});

test('a huge message is cut at the length cap and says so; small messages read as JSON', () => {
  const line = formatTrace({ items: Array.from({ length: 10_000 }, (_, i) => ({ id: `instance-${i}`, state: 'paid' })) });
  assert.ok(line.length <= TRACE_MAX_CHARS + 60, `${line.length} characters`);
  assert.match(line, /cut at 4000 characters|…\+/);
  assert.equal(formatTrace({ type: 'request', id: '1', op: 'PING', params: { a: [1, 'x', null, true] } }), '{"type":"request","id":"1","op":"PING","params":{"a":[1,"x",null,true]}}');
});
