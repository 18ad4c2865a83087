import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDefinitionText, guardAtOffset, type DefinitionDiagnostic } from '../../src/model/definitionCheck';
import { summarizeGuard } from '../../src/model/guardSummary';

/** A definition file as a user writes it: one transition per line. */
function file(def: { states: string[]; initial: string; transitions: object[]; meta?: object }): string {
  const transitions = def.transitions.map((t) => `    ${JSON.stringify(t)}`).join(',\n');
  return `{\n  "states": ${JSON.stringify(def.states)},\n  "initial": ${JSON.stringify(def.initial)},\n  "transitions": [\n${transitions}\n  ]\n}\n`;
}

/** Where a diagnostic is: its line (0-based), its column and the text it underlines. */
function where(text: string, d: { start: number; end: number }) {
  const before = text.slice(0, d.start);
  const line = before.split('\n').length - 1;
  return { line, column: d.start - before.lastIndexOf('\n') - 1, text: text.slice(d.start, d.end) };
}

const pick = (ds: DefinitionDiagnostic[], code: DefinitionDiagnostic['code']) => ds.filter((d) => d.code === code);

const ORDER = {
  states: ['created', 'paid', 'shipped', 'cancelled'],
  initial: 'created',
  transitions: [
    { from: 'created', event: 'pay', to: 'paid', guard: 'ctx.amount > 0' },
    { from: ['created', 'paid'], event: 'cancel', to: 'cancelled' },
    { from: 'paid', event: 'ship', to: 'shipped' },
  ],
};

test('a sound definition has nothing to say', () => {
  assert.deepEqual(checkDefinitionText(file(ORDER)), []);
});

test('initial, from and to that are not among the states are errors on the very string', () => {
  const text = file({
    ...ORDER,
    initial: 'new',
    transitions: [
      { from: 'created', event: 'pay', to: 'payed' },
      { from: ['created', 'pending'], event: 'cancel', to: 'cancelled' },
      { from: 'shiped', event: 'ship', to: 'shipped' },
    ],
  });
  const ds = pick(checkDefinitionText(text), 'unknown-state');
  assert.deepEqual(
    ds.map((d) => ({ severity: d.severity, ...where(text, d) })),
    [
      { severity: 'error', line: 2, column: 13, text: '"new"' },
      { severity: 'error', line: 4, column: 41, text: '"payed"' },
      { severity: 'error', line: 5, column: 23, text: '"pending"' },
      { severity: 'error', line: 6, column: 12, text: '"shiped"' },
    ],
  );
  assert.match(ds[0].message, /initial state 'new' is not among the states/);
  assert.match(ds[1].message, /target state 'payed' is not among the states/);
  assert.match(ds[2].message, /source state 'pending' is not among the states/);
});

test('two transitions on the same (from-state, event) pair: an error on the second event, pointing at the first', () => {
  const text = file({
    ...ORDER,
    transitions: [...ORDER.transitions, { from: ['shipped', 'paid'], event: 'cancel', to: 'created', guard: 'ctx.late' }],
  });
  const [d, ...more] = pick(checkDefinitionText(text), 'duplicate-transition');
  assert.equal(more.length, 0);
  assert.equal(d.severity, 'error');
  assert.match(d.message, /state 'paid' already has a transition on event 'cancel' \(transition 2\)/);
  assert.deepEqual(where(text, d), { line: 7, column: 39, text: '"cancel"' });
  assert.ok(d.related);
  assert.deepEqual(where(text, d.related), { line: 5, column: 39, text: '"cancel"' });
});

test('guard syntax errors are placed at their exact character inside the string, escapes counted', () => {
  const text = file({
    ...ORDER,
    transitions: [
      { from: 'created', event: 'pay', to: 'paid', guard: 'ctx.amount > ctx.limit' },
      { from: ['created', 'paid'], event: 'cancel', to: 'cancelled', guard: 'ctx.reason == "a\\"b" && ctx.x >= "y"' },
      { from: 'paid', event: 'ship', to: 'shipped', guard: 'ctx.a == 1 and ctx.b' },
    ],
  });
  const ds = pick(checkDefinitionText(text), 'guard');
  assert.equal(ds.length, 3, ds.map((d) => d.message).join('\n'));
  // `>` takes a number only: the error is at `ctx.limit`, one character.
  assert.equal(ds[0].severity, 'error');
  assert.deepEqual(where(text, ds[0]), { line: 4, column: 70, text: 'c' });
  assert.match(ds[0].message, /expected a literal after > but found 'ctx.limit'/);
  // The string literal holds an escaped quote: in the file it is `\"a\\\"b\"`, six more characters than in the guard.
  assert.equal(ds[1].severity, 'error');
  assert.equal(where(text, ds[1]).text, '\\"', 'one character of the guard, the quote of "y", is two in the file');
  assert.equal(text.slice(ds[1].start, ds[1].start + 6), '\\"y\\""');
  // What the server silently ignores is a warning over the whole ignored tail.
  assert.equal(ds[2].severity, 'warning');
  assert.equal(where(text, ds[2]).text, 'and ctx.b');
});

test('a guard error at the end of the string underlines the closing quote', () => {
  const text = file({ ...ORDER, transitions: [{ from: 'created', event: 'pay', to: 'paid', guard: 'ctx.amount >' }, ...ORDER.transitions.slice(1)] });
  const [d] = pick(checkDefinitionText(text), 'guard');
  assert.equal(where(text, d).text, '"');
  assert.equal(text[d.start - 1], '>');
});

test('unreachable states and non-final dead ends are warnings on the state\'s name', () => {
  const text = file({
    states: ['created', 'paid', 'stuck', 'loop', 'done', 'orphan'],
    initial: 'created',
    transitions: [
      { from: 'created', event: 'pay', to: 'paid' },
      { from: 'paid', event: 'finish', to: 'done' },
      { from: 'paid', event: 'hold', to: 'stuck' },
      { from: 'stuck', event: 'retry', to: 'loop' },
      { from: 'loop', event: 'retry', to: 'stuck' },
      { from: 'orphan', event: 'go', to: 'done' },
    ],
  });
  const ds = checkDefinitionText(text);
  assert.deepEqual(
    ds.map((d) => [d.code, d.severity, where(text, d).text]),
    [
      ['dead-end', 'warning', '"stuck"'],
      ['dead-end', 'warning', '"loop"'],
      ['unreachable-state', 'warning', '"orphan"'],
    ],
  );
  assert.match(ds[0].message, /state 'stuck' is a dead end: .*no final state \(done\) can be reached from it/);
  assert.match(ds[2].message, /state 'orphan' cannot be reached from the initial state 'created'/);
  assert.equal(where(text, ds[0]).line, 1);
});

test('a machine without any final state is cyclic on purpose: no dead-end warnings', () => {
  const text = file({
    states: ['red', 'green', 'yellow'],
    initial: 'red',
    transitions: [
      { from: 'red', event: 'next', to: 'green' },
      { from: 'green', event: 'next', to: 'yellow' },
      { from: 'yellow', event: 'next', to: 'red' },
    ],
  });
  assert.deepEqual(checkDefinitionText(text), []);
});

test('the graph is not judged while a state name is wrong (one problem at a time)', () => {
  const text = file({ ...ORDER, transitions: [{ from: 'created', event: 'pay', to: 'payed' }] });
  const ds = checkDefinitionText(text);
  assert.deepEqual(ds.map((d) => d.code), ['unknown-state']);
});

test('a state listed twice, an empty from and an empty event are warnings where they are', () => {
  const text = file({
    states: ['a', 'b', 'a'],
    initial: 'a',
    transitions: [
      { from: [], event: 'go', to: 'b' },
      { from: 'a', event: '', to: 'b' },
    ],
  });
  const ds = checkDefinitionText(text);
  const texts = ds.map((d) => [d.code, d.severity, where(text, d).text, where(text, d).line]);
  assert.deepEqual(texts, [
    ['repeated-state', 'warning', '"a"', 1],
    ['never-fires', 'warning', '[]', 4],
    ['empty-event', 'warning', '""', 5],
  ]);
});

test('text that is not JSON, or not a definition\'s shape, is left to the JSON language and the schema', () => {
  assert.deepEqual(checkDefinitionText('{ "states": ['), []);
  assert.deepEqual(checkDefinitionText(''), []);
  assert.deepEqual(checkDefinitionText('{"states": "a", "initial": 5, "transitions": {}}'), []);
  assert.deepEqual(checkDefinitionText('[1, 2]'), []);
  // Comments are tolerated (JSON with comments is what some users write).
  assert.deepEqual(checkDefinitionText(`// order\n${file(ORDER)}`), []);
});

test('the guard under the cursor is found only in a transition\'s guard string', () => {
  const text = file(ORDER) + '\n';
  const at = text.indexOf('ctx.amount') + 3;
  const g = guardAtOffset(text, at);
  assert.ok(g);
  assert.equal(g.guard, 'ctx.amount > 0');
  assert.equal(g.transition, 0);
  assert.equal(text.slice(g.start, g.end), '"ctx.amount > 0"');
  assert.equal(guardAtOffset(text, text.indexOf('"pay"') + 1), undefined, 'an event is not a guard');
  assert.equal(guardAtOffset('{"meta": {"guard": "ctx.a"}}', 21), undefined, 'a guard key outside transitions is not a guard');
});

test('a guard\'s summary lists the paths it reads and its operators, grouped as the server reads it', () => {
  const s = summarizeGuard('ctx.a > 1 && !ctx.b.c || ctx.a == "x" and more');
  assert.ok(s.ok);
  assert.deepEqual(s.paths, ['ctx.a', 'ctx.b.c']);
  assert.deepEqual(s.operators, ['>', '&&', '!', '||', '==']);
  assert.equal(s.grouped, '(ctx.a > 1 && !ctx.b.c) || ctx.a == "x"');
  assert.equal(s.ignored, 'and more');
  const bad = summarizeGuard('1 == ctx.a');
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.position === 0 && /left side of a comparison must be a field/.test(bad.error));
});
