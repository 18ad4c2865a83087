import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';

const root = join(__dirname, '..', '..', '..');
const INJECTION = 'rstmdb.machine-definition.injection';

interface Token {
  text: string;
  scopes: string[];
}

/** The grammar as VS Code loads it: JSON's grammar with ours injected into it, as package.json declares. */
async function jsonWithInjection(): Promise<textmate.IGrammar> {
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    contributes: { grammars: { scopeName: string; path: string; injectTo?: string[] }[] };
  };
  const declared = manifest.contributes.grammars.find((g) => g.scopeName === INJECTION);
  assert.ok(declared, 'package.json contributes the injection grammar');
  assert.deepEqual(declared.injectTo, ['source.json']);
  const files: Record<string, string> = {
    'source.json': join(root, 'test', 'syntaxes', 'JSON.tmLanguage.json'),
    [INJECTION]: join(root, declared.path),
  };
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (s) => new oniguruma.OnigScanner(s), createOnigString: (s) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => (files[scope] ? textmate.parseRawGrammar(readFileSync(files[scope], 'utf8'), files[scope]) : null),
    getInjections: (scope) => (scope === 'source.json' ? [INJECTION] : undefined),
  });
  const grammar = await registry.loadGrammar('source.json');
  assert.ok(grammar);
  return grammar;
}

function tokenize(grammar: textmate.IGrammar, text: string): Token[][] {
  let stack = textmate.INITIAL;
  return text.split('\n').map((line) => {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

/** The innermost scopes of each token of the line holding `needle`, from that token on. */
function tokensFrom(lines: Token[][], needle: string): Token[] {
  for (const line of lines) {
    const joined = line.map((t) => t.text).join('');
    const at = joined.indexOf(needle);
    if (at < 0) continue;
    let pos = 0;
    const i = line.findIndex((t) => (pos += t.text.length) > at);
    return line.slice(i);
  }
  throw new Error(`'${needle}' is not in the fixture`);
}

const leaf = (t: Token) => t.scopes[t.scopes.length - 1];

describe('the guard injection grammar', () => {
  let lines: Token[][];

  before(async () => {
    lines = tokenize(await jsonWithInjection(), readFileSync(join(root, 'test', 'syntaxes', 'fixtures', 'guards.machine.json'), 'utf8'));
  });

  test('a guard\'s fields, operators and numbers get their own scopes inside the JSON string', () => {
    const guard = tokensFrom(lines, 'ctx.amount > 0');
    const scoped = guard.slice(0, 12).map((t) => [t.text, leaf(t)]);
    assert.deepEqual(scoped.slice(0, 10), [
      ['ctx', 'variable.language.context.guard.rstmdb'],
      ['.amount', 'variable.other.property.guard.rstmdb'],
      [' ', 'meta.embedded.expression.guard.rstmdb'],
      ['>', 'keyword.operator.comparison.guard.rstmdb'],
      [' ', 'meta.embedded.expression.guard.rstmdb'],
      ['0', 'constant.numeric.guard.rstmdb'],
      [' ', 'meta.embedded.expression.guard.rstmdb'],
      ['&&', 'keyword.operator.logical.guard.rstmdb'],
      [' ', 'meta.embedded.expression.guard.rstmdb'],
      ['!', 'keyword.operator.logical.guard.rstmdb'],
    ]);
    // Still a JSON string underneath, so a theme without guard colours shows it as one.
    assert.ok(guard[0].scopes.includes('string.quoted.double.json'));
    assert.ok(guard[0].scopes.includes('meta.transition.rstmdb'));
  });

  test('string literals (escaped quotes in the file), null, parentheses and negative decimals', () => {
    const toks = tokensFrom(lines, '(ctx.reason').slice(0, 40);
    const find = (text: string) => toks.find((t) => t.text === text);
    assert.equal(leaf(find('(')!), 'punctuation.section.parens.begin.guard.rstmdb');
    assert.equal(leaf(find('==')!), 'keyword.operator.comparison.guard.rstmdb');
    assert.equal(leaf(find('\\"fraud\\"')!), 'string.quoted.double.guard.rstmdb');
    assert.equal(leaf(find('||')!), 'keyword.operator.logical.guard.rstmdb');
    assert.equal(leaf(find('<=')!), 'keyword.operator.comparison.guard.rstmdb');
    assert.equal(leaf(find('-1.5')!), 'constant.numeric.guard.rstmdb');
    assert.equal(leaf(find(')')!), 'punctuation.section.parens.end.guard.rstmdb');
    assert.equal(leaf(find('!=')!), 'keyword.operator.comparison.guard.rstmdb');
    assert.equal(leaf(find('null')!), 'constant.language.guard.rstmdb');
  });

  test('a guard on its own line of a multi-line transition, with a dotted path and true', () => {
    const toks = tokensFrom(lines, 'ctx.a.b == true');
    assert.deepEqual(
      toks.slice(0, 7).map((t) => [t.text, leaf(t)]),
      [
        ['ctx', 'variable.language.context.guard.rstmdb'],
        ['.a.b', 'variable.other.property.guard.rstmdb'],
        [' ', 'meta.embedded.expression.guard.rstmdb'],
        ['==', 'keyword.operator.comparison.guard.rstmdb'],
        [' ', 'meta.embedded.expression.guard.rstmdb'],
        ['true', 'constant.language.guard.rstmdb'],
        ['"', 'punctuation.definition.string.end.json'],
      ],
    );
  });

  test('the rest of the JSON is tokenised as before: keys, strings, arrays, separators, no errors', () => {
    const all = lines.flat();
    assert.ok(!all.some((t) => t.scopes.some((s) => s.startsWith('invalid.'))), 'no token is marked invalid');
    const from = tokensFrom(lines, '"from": ["created"');
    assert.equal(from[0].text, '"');
    assert.ok(from[1].scopes.includes('support.type.property-name.json'));
    const key = tokensFrom(lines, '"guard": "ctx.amount')[1];
    assert.ok(key.scopes.includes('support.type.property-name.json'), 'the guard key is still a key');
  });

  test('a "guard" key outside the top-level transitions is an ordinary JSON string', () => {
    for (const needle of ['ctx.not_a_guard', 'ctx.nested']) {
      const t = tokensFrom(lines, needle)[0];
      assert.equal(leaf(t), 'string.quoted.double.json', `${needle}: ${t.scopes.join(' ')}`);
    }
  });
});
