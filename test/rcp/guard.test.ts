import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { evaluateGuard, GuardSyntaxError, parseGuard, readGuard, type GuardAst } from '../../src/rcp/guard';

/** The error a guard the server refuses is read with. */
function refusal(src: string): GuardSyntaxError {
  try {
    readGuard(src);
  } catch (e) {
    assert.ok(e instanceof GuardSyntaxError, String(e));
    return e;
  }
  assert.fail(`${src} parsed`);
}

// Each case is one point of rcp-notes "Guards (the server's parser, exactly)", as the server reads it.

describe('guards the server accepts parse, and read as the server reads them', () => {
  const accepted: [source: string, read: string, ignored: string, note: string][] = [
    ['ctx.a', 'ctx.a', '', 'a field alone'],
    ['  ctx.a \t\n', 'ctx.a', '', 'surrounding whitespace is trimmed'],
    ['ctx.a\v&&\fctx.b\r', 'ctx.a\v&&\fctx.b', '', 'every ASCII whitespace the server skips'],
    ['ctx.a.0', 'ctx.a.0', '', 'digits after a dot are a field'],
    ['ctx.a..b', 'ctx.a..b', '', 'an empty segment is a field'],
    ['ctx.a==1', 'ctx.a==1', '', 'no spaces needed'],
    ['ctx.a == 1 and ctx.b', 'ctx.a == 1', 'and ctx.b', 'trailing text ignored'],
    ['ctx.a = 1', 'ctx.a', '= 1', 'a single = is not an operator'],
    ['ctx.a => 1', 'ctx.a', '=> 1', '=> is not an operator'],
    ['ctx.a | ctx.b', 'ctx.a', '| ctx.b', 'a single | is not an operator'],
    ['ctx.a & ctx.b', 'ctx.a', '& ctx.b', 'a single & is not an operator'],
    ['ctx.a > 1e3', 'ctx.a > 1', 'e3', 'no exponent: 1e3 reads as 1'],
    ['ctx.a == 1e3', 'ctx.a == 1', 'e3', 'no exponent after == either'],
    ['ctx.a == truex', 'ctx.a == true', 'x', 'a keyword ends where its letters end'],
    ['ctx.a-b', 'ctx.a', '-b', 'a field ends at the first other character'],
    ['(ctx.a) == 1', '(ctx.a)', '== 1', 'a parenthesised field is not compared'],
    ['ctx.a )', 'ctx.a', ')', 'an unmatched ) is ignored'],
    ['ctx.a > 1.', 'ctx.a > 1.', '', 'digits then a dot'],
    ['ctx.a > .5', 'ctx.a > .5', '', 'a dot then digits'],
    ['ctx.a > -.5', 'ctx.a > -.5', '', 'negative, no integer part'],
    ['ctx.a >= 007', 'ctx.a >= 007', '', 'leading zeros'],
    ['ctx.a == "x\\"y"', 'ctx.a == "x\\"y"', '', 'an escaped quote stays inside the string'],
    ['!!ctx.a', '!!ctx.a', '', 'double negation'],
    ['! ( ctx.a && ctx.b )', '! ( ctx.a && ctx.b )', '', 'spaces around ! and parentheses'],
    [`ctx.a > ${'9'.repeat(400)}`, `ctx.a > ${'9'.repeat(400)}`, '', 'an ordering literal too large for a double is infinity'],
  ];
  for (const [source, read, ignored, note] of accepted) {
    test(`${note}: ${JSON.stringify(source)}`, () => {
      const r = readGuard(source);
      assert.equal(r.read, read);
      assert.equal(r.ignored, ignored);
      if (ignored) assert.equal(source.slice(r.ignoredAt, r.ignoredAt + ignored.length), ignored);
    });
  }

  test('the parse keeps paths, literals and precedence as the server builds them', () => {
    const f = (field: string): GuardAst => ({ kind: 'field', field, path: field.split('.') });
    assert.deepEqual(parseGuard('ctx.a.0'), { kind: 'field', field: 'a.0', path: ['a', '0'] });
    assert.deepEqual(parseGuard('ctx.a..b').kind === 'field' && (parseGuard('ctx.a..b') as { path: string[] }).path, ['a', '', 'b']);
    assert.deepEqual(parseGuard('ctx.a || ctx.b && ctx.c'), { kind: 'or', left: f('a'), right: { kind: 'and', left: f('b'), right: f('c') } });
    const lit = (src: string) => {
      const ast = parseGuard(src);
      assert.equal(ast.kind, 'compare', src);
      return (ast as { value: unknown }).value;
    };
    assert.equal(lit('ctx.a == "x\\"y"'), 'x\\"y', 'backslashes are kept as written');
    assert.equal(lit('ctx.a == "a\\\\b"'), 'a\\\\b');
    assert.equal(lit('ctx.a == "a\\nb"'), 'a\\nb', 'no unescaping of \\n');
    assert.equal(lit('ctx.a == ""'), '');
    assert.equal(lit('ctx.a == nullish'), null);
    assert.equal(lit('ctx.a == false'), false);
    assert.equal(lit('ctx.a > -1.5'), -1.5);
    assert.equal(lit('ctx.a > -.5'), -0.5);
    assert.equal(lit('ctx.a > 1e3'), 1);
    assert.equal(lit(`ctx.a > ${'9'.repeat(400)}`), Infinity);
  });
});

describe('guards the server rejects fail', () => {
  const rejected: [source: string, note: string][] = [
    ['', 'empty'],
    [' \t ', 'only whitespace'],
    ['true', 'a literal alone'],
    ['1 == 1', 'a literal on the left'],
    ['"x" == ctx.a', 'a string on the left'],
    ['null == ctx.a', 'null on the left'],
    ['ctx.a > ctx.b', 'field to field (ordering)'],
    ['ctx.a == ctx.b', 'field to field (equality)'],
    ['ctx.a > "x"', 'a string with >'],
    ['ctx.a < "x"', 'a string with <'],
    ['ctx.a >= true', 'a boolean with >='],
    ['ctx . a', 'spaces inside a field'],
    ['ctx. a', 'a space after ctx.'],
    ['ctx.', 'ctx. alone'],
    ['Ctx.a', 'ctx is lower case'],
    ['ctxa', 'ctx without its dot'],
    ['amount > 1', 'no ctx. at all'],
    ['ctx.a == "unterminated', 'an unterminated string'],
    ['ctx.a == "abc\\"', 'a string whose closing quote is escaped'],
    ['ctx.a == "abc\\', 'a backslash at the very end'],
    ['(ctx.a', 'an unclosed parenthesis'],
    ['(ctx.a == 1', 'an unclosed parenthesis after a comparison'],
    ['()', 'empty parentheses'],
    ['!', 'a lone !'],
    ['!= 1', '!= with nothing on the left'],
    ['ctx.a &&', '&& with nothing after'],
    ['ctx.a ||', '|| with nothing after'],
    ['ctx.a ||| ctx.b', 'a third |'],
    ['ctx.a &&& ctx.b', 'a third &'],
    ['ctx.a ==', '== with nothing after'],
    ['ctx.a >', '> with nothing after'],
    ['ctx.a > -', 'a sign alone'],
    ['ctx.a > .', 'a dot alone'],
    ['ctx.a > -.', 'a sign and a dot'],
    ['ctx.a > e3', 'an exponent alone'],
    ['ctx.a == tru', 'a truncated keyword'],
    ['ctx.a <> 1', '<> is < followed by no number'],
    [`ctx.a == ${'9'.repeat(400)}`, 'an == literal too large for a double (the server fails on it)'],
  ];
  for (const [source, note] of rejected) {
    test(`${note}: ${JSON.stringify(source)}`, () => {
      assert.throws(() => readGuard(source), GuardSyntaxError);
      assert.throws(() => evaluateGuard(source, { a: 1 }), GuardSyntaxError);
    });
  }

  test('errors say where: the position of what is wrong', () => {
    const at = (src: string) => refusal(src).position;
    assert.equal(at('ctx.amount >'), 12);
    assert.equal(at('ctx.amount > > 1'), 13);
    assert.equal(at('(ctx.a == 1'), 11);
    assert.equal(at('ctx.a == "unterminated'), 9);
    assert.equal(at('amount > 1'), 0);
    assert.equal(at('  1 == 1'), 2, 'positions count the whitespace the server trims');
    assert.equal(at('ctx.a == "café"'), 13);
  });

  test('the messages name the rule that was broken', () => {
    assert.throws(() => readGuard('1 == ctx.a'), /left side of a comparison must be a field/);
    assert.throws(() => readGuard('ctx.a > "x"'), /> takes a number only/);
    assert.throws(() => readGuard('ctx.a > ctx.b'), /> takes a number only/);
    assert.throws(() => readGuard('ctx.a == ctx.b'), /== takes true, false, null, a "string" or a number/);
    assert.throws(() => readGuard('(ctx.a'), /expected '\)'/);
  });
});

describe('non-ASCII characters are refused, since the server drops the connection on them', () => {
  for (const source of ['ctx.é', 'ctx.a == "café"', 'ctx.a == 1 // ok ✓', 'ctx.a\u00a0== 1', '\u2003ctx.a', 'ctx.a == "😀"']) {
    test(JSON.stringify(source), () => {
      assert.throws(() => readGuard(source), (e: unknown) => e instanceof GuardSyntaxError && /non-ASCII/.test(e.message));
    });
  }

  test('they, and the other guards the server fails on while reading, are marked as breaking the connection', () => {
    const breaks = (src: string) => refusal(src).breaksConnection;
    assert.equal(breaks('ctx.é'), true);
    assert.equal(breaks('ctx.a == "abc\\'), true, 'a backslash as the last character of a string');
    assert.equal(breaks('ctx.a == "abc\\  '), true, 'trailing whitespace is trimmed first');
    assert.equal(breaks(`ctx.a == ${'9'.repeat(400)}`), true, 'an == number too large');
    assert.equal(breaks('ctx.a == "abc\\"'), false, 'an escaped quote and then the end: unterminated, answered');
    assert.equal(breaks('ctx.a > ctx.b'), false);
    assert.equal(breaks(''), false);
  });

  test('anywhere in any guard: a random guard with a non-ASCII character inserted never parses', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii' }), fc.string({ unit: 'binary', minLength: 1 }).filter((s) => /[^\x00-\x7f]/.test(s)), fc.nat(), (ascii, other, at) => {
        const i = at % (ascii.length + 1);
        assert.throws(() => readGuard(ascii.slice(0, i) + other + ascii.slice(i)), GuardSyntaxError);
      }),
    );
  });
});

describe('evaluation gives the server’s result on every context', () => {
  const cases: [guard: string, ctx: unknown, want: boolean, note: string][] = [
    ['ctx.a', { a: [] }, false, 'an empty array is falsy'],
    ['ctx.a', { a: [0] }, true, 'a non-empty array is truthy'],
    ['ctx.a', { a: {} }, false, 'an empty object is falsy'],
    ['ctx.a', { a: { x: 0 } }, true, 'a non-empty object is truthy'],
    ['ctx.a', { a: 0 }, false, '0 is falsy'],
    ['ctx.a', { a: 0.5 }, true, 'a non-zero number is truthy'],
    ['ctx.a', { a: '' }, false, '"" is falsy'],
    ['ctx.a', { a: '0' }, true, 'a non-empty string is truthy'],
    ['ctx.a', { a: false }, false, 'false is falsy'],
    ['ctx.a', { a: null }, false, 'null is falsy'],
    ['ctx.a', {}, false, 'a missing field is null'],
    ['ctx.a == 1', { a: 1 }, true, 'equal numbers'],
    ['ctx.a == 0.3', { a: 0.1 + 0.2 }, true, 'numbers within f64 epsilon are equal'],
    ['ctx.a == 1', { a: 1 + Number.EPSILON }, false, 'a difference of one epsilon is not equal'],
    ['ctx.a == 100000000000000000000', { a: 1e20 }, true, 'large equal numbers'],
    ['ctx.a == 100000000000000000000', { a: 1e20 + 16384 }, false, 'neighbouring large numbers differ'],
    ['ctx.a == 1', { a: '1' }, false, 'a string never equals a number'],
    ['ctx.a == 1', { a: true }, false, 'true never equals 1'],
    ['ctx.a == true', { a: 1 }, false, '1 never equals true'],
    ['ctx.a == "x"', { a: ['x'] }, false, 'an array never equals a string'],
    ['ctx.a == null', {}, true, 'a missing field equals null'],
    ['ctx.a == null', { a: false }, false, 'false is not null'],
    ['ctx.a == null', { a: [] }, false, 'an empty array is not null'],
    ['ctx.a != null', { a: 0 }, true, '0 is not null'],
    ['ctx.a != "x"', { a: 5 }, true, 'unlike types are unequal'],
    ['ctx.a > 1', { a: 5 }, true, 'ordering on a number'],
    ['ctx.a > 1', { a: '5' }, false, 'ordering is false on a string'],
    ['ctx.a > -1', { a: true }, false, 'ordering is false on a boolean'],
    ['ctx.a < 1', { a: null }, false, 'ordering is false on null'],
    ['ctx.a > 1', { a: [5] }, false, 'ordering is false on an array'],
    ['!(ctx.a > 1)', { a: '5' }, true, 'so its negation is true'],
    ['ctx.a <= 1', { a: 1 }, true, '<= includes equality'],
    ['ctx.a >= 2', { a: 2 }, true, '>= includes equality'],
    ['ctx.a > 2', { a: 2 }, false, '> excludes equality'],
    ['ctx.a < 2', { a: 2 }, false, '< excludes equality'],
    ['ctx.a >= 2', { a: 1.999 }, false, '>= is exact, no epsilon'],
    [`ctx.a > ${'9'.repeat(400)}`, { a: 1e308 }, false, 'nothing is above infinity'],
    [`ctx.a < ${'9'.repeat(400)}`, { a: 1e308 }, true, 'every number is below infinity'],
    ['ctx.a.0', { a: [1] }, false, 'a path through an array is null'],
    ['ctx.a.0', { a: { 0: 1 } }, true, 'a digit key of an object'],
    ['ctx.a..b', { a: { '': { b: 1 } } }, true, 'an empty key'],
    ['ctx.a.b', { a: 'text' }, false, 'a path through a string is null'],
    ['ctx.a.length', { a: 'abc' }, false, 'strings have no fields'],
    ['ctx.a.length', { a: [1, 2] }, false, 'arrays have no fields'],
    ['ctx.constructor', {}, false, 'only the context’s own properties: ctx.constructor is null'],
    ['ctx.constructor == null', {}, true, 'ctx.constructor equals null'],
    ['ctx.toString', {}, false, 'no inherited methods'],
    ['ctx.hasOwnProperty', {}, false, 'no inherited methods'],
    ['ctx.__proto__', {}, false, 'no prototype'],
    ['ctx.__proto__ == 1', JSON.parse('{"__proto__": 1}'), true, 'a key named __proto__ is an ordinary key'],
    ['ctx.a.constructor', { a: {} }, false, 'own properties only, at every depth'],
    ['ctx.a', null, false, 'a null context: every field is null'],
    ['ctx.a == null', null, true, 'a null context: every field equals null'],
    ['!ctx.a', null, true, 'a null context: a negated field is true'],
    ['ctx.0', [1, 2], false, 'an array context has no fields'],
    ['ctx.length', 'abc', false, 'a string context has no fields'],
    ['ctx.a == "x\\"y"', { a: 'x"y' }, false, 'backslashes are compared as written...'],
    ['ctx.a == "x\\"y"', { a: 'x\\"y' }, true, '...so the string holds the backslash'],
    ['ctx.a == 1 and ctx.b', { a: 1, b: 0 }, true, 'the ignored tail does not count'],
    ['ctx.a = 1', { a: 2 }, true, 'ctx.a = 1 is ctx.a'],
    ['ctx.a > 1e3', { a: 2 }, true, 'ctx.a > 1e3 is ctx.a > 1'],
    ['ctx.a || ctx.b && ctx.c', { a: true, b: false, c: false }, true, '&& binds tighter than ||'],
    ['(ctx.a || ctx.b) && ctx.c', { a: true, b: false, c: false }, false, 'parentheses group'],
  ];
  for (const [guard, ctx, want, note] of cases) {
    test(`${note}: ${guard} on ${JSON.stringify(ctx)}`, () => assert.equal(evaluateGuard(guard, ctx), want));
  }

  test('a missing field is null, so a guard on it fails even when the payload would add it', () => {
    assert.equal(evaluateGuard('ctx.amount > 0', {}), false);
  });
});

// Property tests: guards built from the grammar, rendered with arbitrary spacing and an arbitrary
// ignored tail, read back to the same expression and evaluated like an independent reference.
type Gen = { src: string; eval: (ctx: unknown) => boolean };

const SEGMENT = fc.stringMatching(/^[A-Za-z0-9_]{0,3}$/);
const FIELD = fc.array(SEGMENT, { minLength: 1, maxLength: 3 }).filter((p) => p.join('.') !== '');
const SPACE = fc.stringMatching(/^[ \t\n]{0,2}$/);
const NUMBER = fc.tuple(fc.boolean(), fc.stringMatching(/^[0-9]{1,4}$/), fc.option(fc.stringMatching(/^[0-9]{0,3}$/))).map(([neg, int, frac]) => `${neg ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}`);
const STRING = fc.stringMatching(/^([A-Za-z0-9 _]|\\[A-Za-z"\\])*$/).map((s) => `"${s}"`);
const LITERAL = fc.oneof(NUMBER, STRING, fc.constantFrom('true', 'false', 'null'));

function refGet(ctx: unknown, path: string[]): unknown {
  let cur = ctx;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.keys(cur).includes(k)) return null;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}
function refTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return v !== null && v !== false && v !== 0 && v !== '';
}
function refLiteral(text: string): unknown {
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null') return null;
  if (text.startsWith('"')) return text.slice(1, -1);
  return parseFloat(text);
}
function refEqual(v: unknown, lit: unknown): boolean {
  if (typeof v === 'number' && typeof lit === 'number') return Math.abs(v - lit) < Number.EPSILON;
  return (v === null && lit === null) || ((typeof v === 'string' || typeof v === 'boolean') && v === lit);
}

const guardArb: fc.Memo<Gen> = fc.memo((depth) => {
  const field = fc.tuple(FIELD).map(([p]): Gen => ({ src: `ctx.${p.join('.')}`, eval: (c) => refTruthy(refGet(c, p)) }));
  const eq = fc.tuple(FIELD, SPACE, fc.constantFrom('==', '!='), SPACE, LITERAL).map(([p, s1, op, s2, lit]): Gen => ({
    src: `ctx.${p.join('.')}${s1}${op}${s2}${lit}`,
    eval: (c) => refEqual(refGet(c, p), refLiteral(lit)) === (op === '=='),
  }));
  const ord = fc.tuple(FIELD, SPACE, fc.constantFrom('>', '>=', '<', '<='), SPACE, NUMBER).map(([p, s1, op, s2, n]): Gen => {
    const r = parseFloat(n);
    return {
      src: `ctx.${p.join('.')}${s1}${op}${s2}${n}`,
      eval: (c) => {
        const v = refGet(c, p);
        if (typeof v !== 'number') return false;
        return op === '>' ? v > r : op === '>=' ? v >= r : op === '<' ? v < r : v <= r;
      },
    };
  });
  if (depth <= 1) return fc.oneof(field, eq, ord);
  const sub = guardArb(depth - 1);
  const not = fc.tuple(SPACE, sub).map(([s, g]): Gen => ({ src: `!${s}(${g.src})`, eval: (c) => !g.eval(c) }));
  const bin = fc.tuple(sub, SPACE, fc.constantFrom('&&', '||'), SPACE, sub).map(([a, s1, op, s2, b]): Gen => ({
    src: `(${a.src})${s1}${op}${s2}(${b.src})`,
    eval: (c) => (op === '&&' ? a.eval(c) && b.eval(c) : a.eval(c) || b.eval(c)),
  }));
  return fc.oneof({ depthSize: 'small' }, field, eq, ord, not, bin);
});

// Contexts over the fields the generator uses, with values of every JSON type.
const VALUE = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -3, max: 3 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('', 'x', '0'), fc.constantFrom([], [0], {}, { k: 1 }));
const KEY = fc.stringMatching(/^[A-Za-z0-9_]{0,3}$/);
const CTX = fc.oneof(
  { weight: 5, arbitrary: fc.dictionary(KEY, fc.oneof(VALUE, fc.dictionary(KEY, VALUE, { maxKeys: 3 })), { maxKeys: 5 }) },
  fc.constant(null),
  fc.constant([1]),
);

describe('randomised: built from the grammar, read back whole and evaluated like the server', () => {
  test('every generated guard parses, is read to its end, and agrees with the reference on random contexts', () => {
    fc.assert(
      fc.property(guardArb(3), SPACE, SPACE, fc.array(CTX, { minLength: 1, maxLength: 4 }), (g, lead, trail, ctxs) => {
        const r = readGuard(lead + g.src + trail);
        assert.equal(r.ignored, '');
        assert.equal(r.read, g.src);
        for (const ctx of ctxs) assert.equal(evaluateGuard(r.ast, ctx), g.eval(ctx));
      }),
      { numRuns: 500 },
    );
  });

  test('a tail after a complete guard is ignored, whatever it says', () => {
    const TAIL = fc.tuple(fc.constantFrom('and', 'or', '=', '=>', ')', ';', '#', '|', '&', 'x', '(', '!'), fc.string({ unit: 'grapheme-ascii', maxLength: 12 })).map(([a, b]) => `${a} ${b}`);
    fc.assert(
      fc.property(guardArb(2), TAIL, CTX, (g, tail, ctx) => {
        const r = readGuard(`${g.src} ${tail}`);
        assert.equal(r.read, g.src);
        assert.equal(r.ignored, tail.trimEnd().replace(/^[ \t\n\v\f\r]+/, ''));
        assert.equal(evaluateGuard(r.ast, ctx), g.eval(ctx));
      }),
      { numRuns: 300 },
    );
  });

  test('any ASCII text either parses or fails with a GuardSyntaxError, and evaluation never throws', () => {
    const piece = fc.constantFrom('ctx.', 'a', '.', '0', ' ', '==', '!=', '>', '<', '=', '!', '&&', '||', '(', ')', '"', '\\', '-', '1', 'true', 'null');
    fc.assert(
      fc.property(fc.oneof(fc.array(piece, { maxLength: 12 }).map((p) => p.join('')), fc.string({ unit: 'grapheme-ascii' })), CTX, (src, ctx) => {
        let ast: GuardAst;
        try {
          ast = parseGuard(src);
        } catch (e) {
          assert.ok(e instanceof GuardSyntaxError, String(e));
          return;
        }
        assert.equal(typeof evaluateGuard(ast, ctx), 'boolean');
      }),
      { numRuns: 2000 },
    );
  });
});
