/**
 * The server's guard language, parsed and evaluated exactly as rcp-notes.md
 * ("Guards (the server's parser, exactly)") describes it — its own code, not
 * the client's:
 *
 *   or    := and ("||" and)*
 *   and   := unary ("&&" unary)*
 *   unary := "!" unary | "(" or ")" | cmp
 *   cmp   := field [op literal]       field = "ctx." [A-Za-z0-9_.]*
 *
 * Whatever follows a complete expression is ignored. `==`/`!=` take true,
 * false, null, a string (backslash skips the next character, kept as
 * written) or a number; `>`, `>=`, `<`, `<=` a number only: -?digits[.digits],
 * no exponent.
 */

export type GuardExpr =
  | { k: 'truthy'; field: string }
  | { k: 'eq' | 'ne'; field: string; value: null | boolean | number | string }
  | { k: 'gt' | 'ge' | 'lt' | 'le'; field: string; value: number }
  | { k: 'and' | 'or'; l: GuardExpr; r: GuardExpr }
  | { k: 'not'; e: GuardExpr };

/** A guard the server refuses: `core error: invalid guard expression: <reason>`. */
export class InvalidGuard extends Error {}

/**
 * A guard the real server cannot survive: a non-ASCII character (its parser
 * steps through bytes as if they were characters) or a backslash as the very
 * last character of a string. The server's connection task panics and the
 * connection drops without a response; the emulator closes it the same way.
 */
export class GuardCrash extends Error {}

const WS = /\s/;

export function parseGuard(source: string): GuardExpr {
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(source)) throw new GuardCrash(`non-ASCII character in guard ${JSON.stringify(source)}`);
  const s = source.trim();
  if (s === '') throw new InvalidGuard('empty guard expression');
  return new GuardParser(s).or();
}

class GuardParser {
  private i = 0;
  constructor(private readonly s: string) {}

  private ws(): void {
    while (this.i < this.s.length && WS.test(this.s[this.i])) this.i++;
  }

  private at(t: string): boolean {
    return this.s.startsWith(t, this.i);
  }

  or(): GuardExpr {
    let l = this.and();
    this.ws();
    while (this.at('||')) {
      this.i += 2;
      this.ws();
      l = { k: 'or', l, r: this.and() };
      this.ws();
    }
    return l;
  }

  private and(): GuardExpr {
    let l = this.unary();
    this.ws();
    while (this.at('&&')) {
      this.i += 2;
      this.ws();
      l = { k: 'and', l, r: this.unary() };
      this.ws();
    }
    return l;
  }

  private unary(): GuardExpr {
    this.ws();
    if (this.at('!')) {
      this.i++;
      this.ws();
      return { k: 'not', e: this.unary() };
    }
    this.ws();
    if (this.at('(')) {
      this.i++;
      const e = this.or();
      this.ws();
      if (!this.at(')')) throw new InvalidGuard("expected ')'");
      this.i++;
      return e;
    }
    return this.cmp();
  }

  private cmp(): GuardExpr {
    this.ws();
    const field = this.field();
    this.ws();
    for (const [op, k] of [['==', 'eq'], ['!=', 'ne']] as const) {
      if (this.at(op)) {
        this.i += 2;
        this.ws();
        return { k, field, value: this.literal() };
      }
    }
    for (const [op, k] of [['>=', 'ge'], ['<=', 'le'], ['>', 'gt'], ['<', 'lt']] as const) {
      if (this.at(op)) {
        this.i += op.length;
        this.ws();
        return { k, field, value: this.number() };
      }
    }
    return { k: 'truthy', field };
  }

  private field(): string {
    if (!this.at('ctx.')) throw new InvalidGuard("field must start with 'ctx.'");
    this.i += 4;
    const start = this.i;
    while (this.i < this.s.length && /[A-Za-z0-9_.]/.test(this.s[this.i])) this.i++;
    if (this.i === start) throw new InvalidGuard('empty field name');
    return this.s.slice(start, this.i);
  }

  private literal(): null | boolean | number | string {
    this.ws();
    if (this.at('true')) return (this.i += 4), true;
    if (this.at('false')) return (this.i += 5), false;
    if (this.at('null')) return (this.i += 4), null;
    if (this.at('"')) return this.string();
    return this.number();
  }

  private string(): string {
    const start = ++this.i;
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === '"') return this.s.slice(start, this.i++);
      if (c === '\\') {
        if (this.i + 1 >= this.s.length) throw new GuardCrash('backslash at the end of a guard string');
        this.i += 2;
      } else {
        this.i++;
      }
    }
    throw new InvalidGuard('unterminated string');
  }

  private number(): number {
    this.ws();
    const m = /-?\d*(?:\.\d*)?/y;
    m.lastIndex = this.i;
    const text = m.exec(this.s)![0];
    this.i += text.length;
    // Rust's f64 parser: "1." and ".5" are numbers; "", "-", "." and "-." are not.
    if (!/\d/.test(text)) throw new InvalidGuard(`invalid number: '${text}'`);
    return Number(text.endsWith('.') ? text.slice(0, -1) : text);
  }
}

function fieldValue(ctx: unknown, field: string): unknown {
  let cur = ctx;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return null;
    cur = Object.prototype.hasOwnProperty.call(cur, part) ? (cur as Record<string, unknown>)[part] : null;
  }
  return cur;
}

function truthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v !== '';
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v as object).length > 0;
}

function equal(a: unknown, b: null | boolean | number | string): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) < Number.EPSILON;
  return typeof a === typeof b && a === b;
}

/** The server's evaluation: a missing path or a path through a non-object is null. */
export function evaluateGuard(e: GuardExpr, ctx: unknown): boolean {
  switch (e.k) {
    case 'truthy':
      return truthy(fieldValue(ctx, e.field));
    case 'eq':
      return equal(fieldValue(ctx, e.field), e.value);
    case 'ne':
      return !equal(fieldValue(ctx, e.field), e.value);
    case 'and':
      return evaluateGuard(e.l, ctx) && evaluateGuard(e.r, ctx);
    case 'or':
      return evaluateGuard(e.l, ctx) || evaluateGuard(e.r, ctx);
    case 'not':
      return !evaluateGuard(e.e, ctx);
    default: {
      const v = fieldValue(ctx, e.field);
      if (typeof v !== 'number') return false;
      return e.k === 'gt' ? v > e.value : e.k === 'ge' ? v >= e.value : e.k === 'lt' ? v < e.value : v <= e.value;
    }
  }
}
