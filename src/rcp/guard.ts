/**
 * rstmdb's guard language: `ctx.a.b` paths, literals (numbers, double-quoted
 * strings, true, false, null), == != > >= < <=, && || !, parentheses.
 * A missing field is null; null, false, 0 and "" are falsy.
 */

export type GuardValue = null | boolean | number | string | object;

export type GuardAst =
  | { kind: 'literal'; value: null | boolean | number | string }
  | { kind: 'path'; path: string[] }
  | { kind: 'not'; operand: GuardAst }
  | { kind: 'and' | 'or'; left: GuardAst; right: GuardAst }
  | { kind: 'compare'; op: '==' | '!=' | '>' | '>=' | '<' | '<='; left: GuardAst; right: GuardAst };

export class GuardSyntaxError extends Error {
  override readonly name = 'GuardSyntaxError';
  constructor(
    message: string,
    /** 0-based character position in the source. */
    readonly position: number,
  ) {
    super(`${message} at position ${position + 1}`);
  }
}

type Token =
  | { t: 'num'; v: number; p: number }
  | { t: 'str'; v: string; p: number }
  | { t: 'ident'; v: string; p: number }
  | { t: 'op'; v: string; p: number }
  | { t: 'end'; p: number };

const OPERATORS = ['==', '!=', '>=', '<=', '&&', '||', '>', '<', '!', '(', ')', '.'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\' && j + 1 < src.length) {
          const e = src[j + 1];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
        } else {
          s += src[j++];
        }
      }
      if (j >= src.length) throw new GuardSyntaxError('unterminated string', i);
      out.push({ t: 'str', v: s, p: i });
      i = j + 1;
      continue;
    }
    const num = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num && (c !== '-' || !prevIsValue(out))) {
      out.push({ t: 'num', v: Number(num[0]), p: i });
      i += num[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (ident) {
      out.push({ t: 'ident', v: ident[0], p: i });
      i += ident[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op) {
      out.push({ t: 'op', v: op, p: i });
      i += op.length;
      continue;
    }
    throw new GuardSyntaxError(`unexpected character '${c}'`, i);
  }
  out.push({ t: 'end', p: src.length });
  return out;
}

function prevIsValue(tokens: Token[]): boolean {
  const last = tokens[tokens.length - 1];
  return !!last && (last.t === 'num' || last.t === 'str' || last.t === 'ident' || (last.t === 'op' && last.v === ')'));
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): GuardAst {
    const ast = this.or();
    const t = this.peek();
    if (t.t !== 'end') throw new GuardSyntaxError(`unexpected '${'v' in t ? t.v : ''}'`, t.p);
    return ast;
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }

  private or(): GuardAst {
    let left = this.and();
    while (this.isOp('||')) {
      this.i++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): GuardAst {
    let left = this.unary();
    while (this.isOp('&&')) {
      this.i++;
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): GuardAst {
    if (this.isOp('!')) {
      this.i++;
      return { kind: 'not', operand: this.unary() };
    }
    return this.comparison();
  }

  private comparison(): GuardAst {
    const left = this.primary();
    const t = this.peek();
    if (t.t === 'op' && ['==', '!=', '>', '>=', '<', '<='].includes(t.v)) {
      this.i++;
      const right = this.primary();
      return { kind: 'compare', op: t.v as '==', left, right };
    }
    return left;
  }

  private primary(): GuardAst {
    const t = this.peek();
    if (t.t === 'op' && t.v === '(') {
      this.i++;
      const inner = this.or();
      if (!this.isOp(')')) throw new GuardSyntaxError("expected ')'", this.peek().p);
      this.i++;
      return inner;
    }
    if (t.t === 'num' || t.t === 'str') {
      this.i++;
      return { kind: 'literal', value: t.v };
    }
    if (t.t === 'ident') {
      this.i++;
      if (t.v === 'true' || t.v === 'false') return { kind: 'literal', value: t.v === 'true' };
      if (t.v === 'null') return { kind: 'literal', value: null };
      if (t.v !== 'ctx') throw new GuardSyntaxError(`unknown name '${t.v}' (paths start with ctx.)`, t.p);
      const path: string[] = [];
      while (this.isOp('.')) {
        this.i++;
        const seg = this.peek();
        if (seg.t !== 'ident') throw new GuardSyntaxError('expected a field name after "."', seg.p);
        path.push(seg.v);
        this.i++;
      }
      if (path.length === 0) throw new GuardSyntaxError('expected a field after ctx', t.p + 3);
      return { kind: 'path', path };
    }
    if (t.t === 'end') throw new GuardSyntaxError('unexpected end of expression', t.p);
    throw new GuardSyntaxError(`unexpected '${t.v}'`, t.p);
  }
}

/** Parses a guard expression; throws GuardSyntaxError with the position of the problem. */
export function parseGuard(source: string): GuardAst {
  return new Parser(tokenize(source)).parse();
}

function resolve(ctx: unknown, path: string[]): GuardValue {
  let cur: unknown = ctx;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return null;
    cur = (cur as Record<string, unknown>)[key];
    if (cur === undefined) return null;
  }
  return cur as GuardValue;
}

export function isTruthy(v: GuardValue): boolean {
  return !(v === null || v === false || v === 0 || v === '');
}

function equal(a: GuardValue, b: GuardValue): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function evaluate(ast: GuardAst, ctx: unknown): GuardValue {
  switch (ast.kind) {
    case 'literal':
      return ast.value;
    case 'path':
      return resolve(ctx, ast.path);
    case 'not':
      return !isTruthy(evaluate(ast.operand, ctx));
    case 'and':
      return isTruthy(evaluate(ast.left, ctx)) && isTruthy(evaluate(ast.right, ctx));
    case 'or':
      return isTruthy(evaluate(ast.left, ctx)) || isTruthy(evaluate(ast.right, ctx));
    case 'compare': {
      const l = evaluate(ast.left, ctx);
      const r = evaluate(ast.right, ctx);
      if (ast.op === '==') return equal(l, r);
      if (ast.op === '!=') return !equal(l, r);
      // Ordering only between two numbers or two strings; anything else is false.
      const comparable = (typeof l === 'number' && typeof r === 'number') || (typeof l === 'string' && typeof r === 'string');
      if (!comparable) return false;
      const a = l as number | string;
      const b = r as number | string;
      return ast.op === '>' ? a > b : ast.op === '>=' ? a >= b : ast.op === '<' ? a < b : a <= b;
    }
  }
}

/** Evaluates a guard (source or parsed) against a context: true when the transition may fire. */
export function evaluateGuard(guard: string | GuardAst, ctx: unknown): boolean {
  return isTruthy(evaluate(typeof guard === 'string' ? parseGuard(guard) : guard, ctx));
}
