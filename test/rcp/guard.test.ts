import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateGuard, GuardSyntaxError, parseGuard } from '../../src/rcp/guard';
import { validateDefinition } from '../../src/rcp/definition';

test('guards compare context paths with literals', () => {
  const ctx = { amount: 10, customer: { tier: 'gold', vip: true }, note: '', zero: 0, tags: null };
  const cases: [string, boolean][] = [
    ['ctx.amount > 0', true],
    ['ctx.amount >= 10 && ctx.amount <= 10', true],
    ['ctx.amount < 10', false],
    ['ctx.customer.tier == "gold"', true],
    ['ctx.customer.tier != "gold"', false],
    ['ctx.customer.vip', true],
    ['!ctx.customer.vip', false],
    ['ctx.missing == null', true],
    ['ctx.missing.deeper == null', true],
    ['ctx.missing', false],
    ['ctx.note', false],
    ['ctx.zero', false],
    ['ctx.tags', false],
    ['(ctx.amount > 100 || ctx.customer.tier == "gold") && !(ctx.zero == 1)', true],
    ['ctx.amount > -1.5e1', true],
    ['ctx.customer.tier > 5', false],
    ['true', true],
    ['false || null', false],
  ];
  for (const [src, want] of cases) assert.equal(evaluateGuard(src, ctx), want, src);
});

test('a missing field is null, so a guard on it fails even when the payload would add it', () => {
  assert.equal(evaluateGuard('ctx.amount > 0', {}), false);
});

test('syntax errors say what and where', () => {
  for (const [src, where] of [
    ['ctx.amount >', 12],
    ['ctx.amount > > 1', 13],
    ['(ctx.a == 1', 11],
    ['ctx.a == "unterminated', 9],
    ['amount > 1', 0],
    ['ctx.a = 1', 6],
  ] as const) {
    assert.throws(
      () => parseGuard(src),
      (e: unknown) => e instanceof GuardSyntaxError && e.position === where,
      src,
    );
  }
});

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
