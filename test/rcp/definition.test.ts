import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definitionProblems, validateDefinition } from '../../src/rcp/definition';

const flow = (guard: unknown) => ({ states: ['a', 'b'], initial: 'a', transitions: [{ from: 'a', event: 'go', to: 'b' }, { from: ['b'], event: 'back', to: 'a', guard }] });

test('definition validation finds every problem the server would refuse', () => {
  assert.deepEqual(validateDefinition({ states: ['a', 'b'], initial: 'a', transitions: [{ from: ['a'], event: 'go', to: 'b', guard: 'ctx.x == 1' }] }), []);
  const problems = validateDefinition({
    states: ['a', 'b'],
    initial: 'c',
    transitions: [
      { from: 'a', event: 'go', to: 'z' },
      { from: ['a', 'q'], event: 'go', to: 'b' },
      { from: 'b', event: 'back', to: 'a', guard: 'ctx.x >' },
    ],
  });
  assert.equal(problems.length, 5, problems.join('\n'));
  assert.ok(problems.some((p) => /initial state 'c'/.test(p)));
  assert.ok(problems.some((p) => /target state 'z'/.test(p)));
  assert.ok(problems.some((p) => /source state 'q'/.test(p)));
  assert.ok(problems.some((p) => /already has a transition on event 'go'/.test(p)));
  assert.ok(problems.some((p) => /guard does not parse/.test(p)));
  assert.deepEqual(validateDefinition({ states: [], initial: 'a', transitions: [] }), ['states must be a non-empty array of state names']);
});

test('a guard the server reads only in part is a warning that says where it stops reading', () => {
  const problems = definitionProblems(flow('ctx.a == 1 and ctx.b'));
  assert.equal(problems.length, 1);
  const [p] = problems;
  assert.equal(p.severity, 'warning');
  assert.match(p.message, /^transition 2: guard: everything after `ctx\.a == 1` is ignored by the server \(`and ctx\.b`\)$/);
  assert.equal(p.transition, 1);
  assert.deepEqual(p.guardRange, { start: 11, end: 20 });
  // Accepted by the server, so not an error: nothing stops it from being deployed.
  assert.deepEqual(validateDefinition(flow('ctx.a == 1 and ctx.b')), []);
  for (const [guard, read] of [
    ['ctx.a = 1', 'ctx.a'],
    ['ctx.total > 1e3', 'ctx.total > 1'],
    ['(ctx.a) == 1', '(ctx.a)'],
  ]) {
    assert.match(definitionProblems(flow(guard))[0]?.message ?? '', new RegExp(`everything after \`${read.replace(/[().]/g, '\\$&')}\` is ignored by the server`), guard);
  }
  assert.deepEqual(definitionProblems(flow('  ctx.a == 1  ')), [], 'surrounding whitespace is not a tail');
});

test('a guard with a non-ASCII character is an error, so the definition is never deployed', () => {
  const problems = definitionProblems(flow('ctx.name == "café"'));
  assert.equal(problems.length, 1);
  assert.equal(problems[0].severity, 'error');
  assert.match(problems[0].message, /guard must never be sent: non-ASCII character 'é' at position 17, on which the server drops the connection/);
  assert.deepEqual(problems[0].guardRange, { start: 16, end: 17 });
  assert.equal(validateDefinition(flow('ctx.ok // ✓')).length, 1, 'even in the part the server would ignore');
});

test('guard errors carry their position inside the guard string', () => {
  const [p] = definitionProblems(flow('ctx.a > ctx.b'));
  assert.equal(p.severity, 'error');
  assert.equal(p.transition, 1);
  assert.deepEqual(p.guardRange, { start: 8, end: 9 });
});

test('what the server accepts as sent is at most a warning', () => {
  assert.deepEqual(definitionProblems(flow(null)), [], 'guard: null is no guard');
  const accepted = {
    states: ['a', 'b', 'a'],
    initial: 'a',
    transitions: [
      { from: [], event: 'go', to: 'b' },
      { from: 'a', event: '', to: 'b' },
    ],
    meta: 5,
  };
  const problems = definitionProblems(accepted);
  assert.equal(problems.length, 4, problems.map((p) => p.message).join('\n'));
  assert.ok(problems.every((p) => p.severity === 'warning'));
  assert.deepEqual(validateDefinition(accepted), []);
});
