/**
 * rstmdb's guard language, read and evaluated exactly as the server does it
 * (rcp-notes: "Guards (the server's parser, exactly)"), so that a guard the
 * server accepts parses here, one it rejects fails here, and both agree on
 * every context:
 *
 *   or    := and ("||" and)*
 *   and   := unary ("&&" unary)*
 *   unary := "!" unary | "(" or ")" | cmp
 *   cmp   := field [op literal]
 *
 * A field is `ctx.` and then letters, digits, `_` and `.` (so `ctx.a.0` is a
 * field); the left side is always a field and the right side a literal. The
 * server stops reading after a complete expression and ignores the rest
 * without an error, so {@link readGuard} reports where it stopped.
 */

export type GuardLiteral = null | boolean | number | string;

export type GuardValue = null | boolean | number | string | object;

export type CompareOp = '==' | '!=' | '>' | '>=' | '<' | '<=';

export type GuardAst =
  /** A field alone: true when its value is truthy. */
  | { kind: 'field'; field: string; path: string[] }
  /** `==`/`!=` take any literal; the ordering operators a number only. */
  | { kind: 'compare'; op: CompareOp; field: string; path: string[]; value: GuardLiteral }
  | { kind: 'not'; operand: GuardAst }
  | { kind: 'and' | 'or'; left: GuardAst; right: GuardAst };

export class GuardSyntaxError extends Error {
  override readonly name = 'GuardSyntaxError';
  constructor(
    /** What is wrong, without the position. */
    readonly reason: string,
    /** 0-based character position in the source. */
    readonly position: number,
    /**
     * The server does not answer this guard with an error: it fails while reading
     * it and drops the connection (everything in flight on it). Never send it.
     */
    readonly breaksConnection = false,
  ) {
    super(`${reason} at position ${position + 1}`);
  }
}

export interface GuardReading {
  ast: GuardAst;
  /** The part the server reads, e.g. `ctx.a == 1` (trimmed). */
  read: string;
  /** What follows it, which the server ignores without an error; '' when nothing does. */
  ignored: string;
  /** 0-based position in the source where the ignored part starts (the source's length when nothing is ignored). */
  ignoredAt: number;
}

// The server's whitespace (Unicode White_Space, of which only these are ASCII; anything else is refused first).
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isFieldChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_.]/.test(c);
// What the server's float parser accepts from the characters its number scanner takes.
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)$/;

class Reader {
  private pos: number;

  /** Reads `src` between `start` and `end` (the trimmed guard), reporting positions in `src`. */
  constructor(
    private readonly src: string,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }

  get position(): number {
    return this.pos;
  }

  private fail(reason: string, at = this.pos, breaksConnection = false): never {
    throw new GuardSyntaxError(reason, at, breaksConnection);
  }

  private peek(): string | undefined {
    return this.pos < this.end ? this.src[this.pos] : undefined;
  }

  private at(s: string): boolean {
    return this.pos + s.length <= this.end && this.src.startsWith(s, this.pos);
  }

  private skipSpace(): void {
    while (isSpace(this.peek())) this.pos++;
  }

  or(): GuardAst {
    let left = this.and();
    this.skipSpace();
    while (this.at('||')) {
      this.pos += 2;
      this.skipSpace();
      left = { kind: 'or', left, right: this.and() };
      this.skipSpace();
    }
    return left;
  }

  private and(): GuardAst {
    let left = this.unary();
    this.skipSpace();
    while (this.at('&&')) {
      this.pos += 2;
      this.skipSpace();
      left = { kind: 'and', left, right: this.unary() };
      this.skipSpace();
    }
    return left;
  }

  private unary(): GuardAst {
    this.skipSpace();
    if (this.peek() === '!') {
      this.pos++;
      this.skipSpace();
      return { kind: 'not', operand: this.unary() };
    }
    if (this.peek() === '(') {
      const open = this.pos;
      this.pos++;
      const inner = this.or();
      this.skipSpace();
      if (this.peek() !== ')') this.fail(`expected ')' to close the '(' at position ${open + 1}`);
      this.pos++;
      return inner;
    }
    return this.comparison();
  }

  private comparison(): GuardAst {
    const field = this.field();
    const path = field.split('.');
    this.skipSpace();
    // Longest operators first, as the server tries them.
    for (const op of ['==', '!=', '>=', '<=', '>', '<'] as const) {
      if (!this.at(op)) continue;
      this.pos += op.length;
      this.skipSpace();
      const value = op === '==' || op === '!=' ? this.literal() : this.number(op);
      return { kind: 'compare', op, field, path, value };
    }
    return { kind: 'field', field, path };
  }

  private field(): string {
    if (!this.at('ctx.')) {
      const what = this.peek() === undefined ? 'the end of the guard' : `'${this.src.slice(this.pos, Math.min(this.end, this.pos + 10))}'`;
      this.fail(`expected a field (ctx.name) but found ${what}; the left side of a comparison must be a field`);
    }
    const start = this.pos + 4;
    this.pos = start;
    while (isFieldChar(this.peek())) this.pos++;
    if (this.pos === start) this.fail('empty field name after ctx.');
    return this.src.slice(start, this.pos);
  }

  private literal(): GuardLiteral {
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.at(word)) {
        this.pos += word.length;
        return value;
      }
    }
    if (this.peek() === '"') return this.string();
    const start = this.pos;
    const n = this.number('==');
    // The server stores an `==` literal as a JSON number, and fails (dropping the connection) on one too large to be finite.
    if (!Number.isFinite(n)) this.fail('number too large', start, true);
    return n;
  }

  /** A string as written between its quotes: a backslash skips the next character and is kept (no unescaping). */
  private string(): string {
    const open = this.pos;
    this.pos++;
    const start = this.pos;
    while (this.pos < this.end) {
      const c = this.src[this.pos];
      if (c === '"') {
        const s = this.src.slice(start, this.pos);
        this.pos++;
        return s;
      }
      // A backslash as the guard's last character makes the server read past its end and drop the connection.
      if (c === '\\' && this.pos + 1 >= this.end) this.fail('unterminated string ending in a backslash', open, true);
      this.pos += c === '\\' ? 2 : 1;
    }
    return this.fail('unterminated string', open);
  }

  /** `-?digits[.digits]`, no exponent: `1e3` reads as 1 and leaves `e3` unread. */
  private number(op: CompareOp): number {
    const start = this.pos;
    if (this.peek() === '-') this.pos++;
    while (isDigit(this.peek())) this.pos++;
    if (this.peek() === '.') {
      this.pos++;
      while (isDigit(this.peek())) this.pos++;
    }
    const text = this.src.slice(start, this.pos);
    if (!NUMBER.test(text)) {
      const found = this.peek() === undefined ? 'the end of the guard' : `'${this.src.slice(start, Math.min(this.end, start + 10))}'`;
      const takes = op === '==' || op === '!=' ? 'true, false, null, a "string" or a number' : 'a number only';
      this.fail(`expected a literal after ${op} but found ${found}: ${op} takes ${takes}`, start);
    }
    return Number(text);
  }
}

/**
 * Reads a guard as the server does: the expression, what the server reads of
 * it, and what it silently ignores. Throws GuardSyntaxError for a guard the
 * server refuses, and for one holding a non-ASCII character (the server drops
 * the connection on those: it must never be sent).
 */
export function readGuard(source: string): GuardReading {
  const nonAscii = /[^\x00-\x7f]/u.exec(source);
  if (nonAscii) {
    throw new GuardSyntaxError(`non-ASCII character '${nonAscii[0]}'`, nonAscii.index, true);
  }
  let start = 0;
  let end = source.length;
  while (start < end && isSpace(source[start])) start++;
  while (end > start && isSpace(source[end - 1])) end--;
  if (start === end) throw new GuardSyntaxError('empty guard expression', start);
  const reader = new Reader(source, start, end);
  const ast = reader.or();
  const stop = reader.position;
  let readEnd = stop;
  while (readEnd > start && isSpace(source[readEnd - 1])) readEnd--;
  return { ast, read: source.slice(start, readEnd), ignored: source.slice(stop, end), ignoredAt: stop < end ? stop : source.length };
}

/** Parses a guard the way the server does; throws GuardSyntaxError with the position of the problem. */
export function parseGuard(source: string): GuardAst {
  return readGuard(source).ast;
}

const hasOwn = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A field's value as the server reads it: null when missing or when the path runs through anything but an object. Own properties only. */
export function resolve(ctx: unknown, path: string[]): GuardValue {
  let cur: unknown = ctx;
  for (const key of path) {
    if (!isObject(cur)) return null;
    cur = hasOwn(cur, key) ? cur[key] : null;
  }
  return cur === undefined ? null : (cur as GuardValue);
}

/** Truthy: a non-empty string, a non-zero number, true, a non-empty array or object. */
export function isTruthy(v: GuardValue): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v).length > 0;
}

/** Like types only; numbers within f64 epsilon; arrays and objects equal nothing. */
function equal(v: GuardValue, literal: GuardLiteral): boolean {
  if (v === null || literal === null) return v === literal;
  if (typeof v === 'number' && typeof literal === 'number') return Math.abs(v - literal) < Number.EPSILON;
  if (typeof v === 'boolean' || typeof v === 'string') return v === literal;
  return false;
}

function evaluate(ast: GuardAst, ctx: unknown): boolean {
  switch (ast.kind) {
    case 'field':
      return isTruthy(resolve(ctx, ast.path));
    case 'not':
      return !evaluate(ast.operand, ctx);
    case 'and':
      return evaluate(ast.left, ctx) && evaluate(ast.right, ctx);
    case 'or':
      return evaluate(ast.left, ctx) || evaluate(ast.right, ctx);
    case 'compare': {
      const v = resolve(ctx, ast.path);
      if (ast.op === '==') return equal(v, ast.value);
      if (ast.op === '!=') return !equal(v, ast.value);
      // Ordering is false unless the field holds a number (the literal always is one).
      if (typeof v !== 'number' || typeof ast.value !== 'number') return false;
      const n = ast.value;
      return ast.op === '>' ? v > n : ast.op === '>=' ? v >= n : ast.op === '<' ? v < n : v <= n;
    }
  }
}

/** Evaluates a guard (source or parsed) against a context: true when the transition may fire. */
export function evaluateGuard(guard: string | GuardAst, ctx: unknown): boolean {
  return evaluate(typeof guard === 'string' ? parseGuard(guard) : guard, ctx);
}
