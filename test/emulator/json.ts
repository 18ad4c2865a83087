/**
 * A strict JSON reader for request payloads, standing in for the server's
 * serde_json: it refuses what serde_json refuses (invalid UTF-8, lone
 * surrogate escapes, nesting deeper than 128) and remembers which numbers
 * were written as floats (`1.0`, `1e3`), which the server's integer
 * parameters refuse although JavaScript cannot tell them from `1` and `1000`.
 * Duplicate keys inside values keep the last one, as serde_json's Value does;
 * the top-level object reports its duplicates so the envelope check can
 * refuse a repeated `id`, `op`, `type` or `params`.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_DEPTH = 128;

/** Keys (or indices) whose value was written as a float literal, per holder. */
const floats = new WeakMap<object, Set<string>>();

/** Whether `holder[key]` was written as a float literal (with `.` or an exponent). */
export function writtenAsFloat(holder: object, key: string): boolean {
  return floats.get(holder)?.has(key) ?? false;
}

/** Texts that need the careful parser: a float literal, a surrogate escape. */
const SLOW = /\d[.eE]|\\u[dD][89a-fA-F]/;
const ENVELOPE = ['"type"', '"id"', '"op"', '"params"'];

export class JsonError extends Error {}

export interface ParsedRequest {
  value: unknown;
  /** Top-level keys that appeared more than once. */
  duplicateKeys: Set<string>;
}

export function parseJson(payload: Buffer): ParsedRequest {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    throw new JsonError('invalid UTF-8');
  }
  // Fast path for the common request: no float literal, no surrogate escape, no repeated envelope key,
  // no deep nesting: JSON.parse then reads it exactly as the parser below would.
  if (!SLOW.test(text) && text.length < 4096 && ENVELOPE.every((k) => text.indexOf(k) === text.lastIndexOf(k))) {
    return { value: JSON.parse(text) as unknown, duplicateKeys: new Set() };
  }
  const p = new Parser(text);
  p.ws();
  const value = p.value(0);
  p.ws();
  if (p.i !== text.length) throw new JsonError(`trailing characters at ${p.i}`);
  return { value, duplicateKeys: p.topDuplicates };
}

class Parser {
  i = 0;
  readonly topDuplicates = new Set<string>();
  constructor(private readonly s: string) {}

  ws(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else return;
    }
  }

  private fail(what: string): never {
    throw new JsonError(`${what} at ${this.i}`);
  }

  value(depth: number): unknown {
    const c = this.s[this.i];
    if (c === '{') return this.object(depth + 1);
    if (c === '[') return this.array(depth + 1);
    if (c === '"') return this.string();
    if (c === 't') return this.word('true', true);
    if (c === 'f') return this.word('false', false);
    if (c === 'n') return this.word('null', null);
    return this.number().value;
  }

  private word<T>(w: string, v: T): T {
    if (!this.s.startsWith(w, this.i)) this.fail('unexpected token');
    this.i += w.length;
    return v;
  }

  private number(): { value: number; float: boolean } {
    const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(this.s);
    if (!r) this.fail('unexpected token');
    this.i += r[0].length;
    const value = Number(r[0]);
    return { value, float: r[1] !== undefined || r[2] !== undefined || !Number.isSafeInteger(value) };
  }

  private object(depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) this.fail('recursion limit exceeded');
    const out: Record<string, unknown> = {};
    const seen = depth === 1 ? new Set<string>() : undefined;
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      if (this.s[this.i] !== '"') this.fail('expected a key');
      const key = this.string();
      if (seen) {
        if (seen.has(key)) this.topDuplicates.add(key);
        seen.add(key);
      }
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      this.ws();
      this.member(out, key, depth);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') this.fail("expected ',' or '}'");
      this.ws();
    }
  }

  private member(holder: Record<string, unknown> | unknown[], key: string, depth: number): void {
    const c = this.s.charCodeAt(this.i);
    let v: unknown;
    let float = false;
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const n = this.number();
      v = n.value;
      float = n.float;
    } else {
      v = this.value(depth);
    }
    if (Array.isArray(holder)) holder.push(v);
    else if (key === '__proto__') Object.defineProperty(holder, key, { value: v, enumerable: true, writable: true, configurable: true });
    else holder[key] = v;
    const set = floats.get(holder);
    if (float) {
      if (set) set.add(key);
      else floats.set(holder, new Set([key]));
    } else {
      set?.delete(key);
    }
  }

  private array(depth: number): unknown[] {
    if (depth > MAX_DEPTH) this.fail('recursion limit exceeded');
    const out: unknown[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.member(out, String(out.length), depth);
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') this.fail("expected ',' or ']'");
      this.ws();
    }
  }

  private string(): string {
    const s = this.s;
    let i = this.i + 1;
    let out = '';
    let start = i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 0x22) {
        out += s.slice(start, i);
        this.i = i + 1;
        return out;
      }
      if (c < 0x20) this.fail('control character in string');
      if (c >= 0xd800 && c <= 0xdfff) {
        // Raw surrogates only come from a decoded pair here; anything else was refused by the decoder.
        i++;
        continue;
      }
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += s.slice(start, i);
      const e = s[i + 1];
      i += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hi = this.hex4(i);
          i += 4;
          if (hi >= 0xdc00 && hi <= 0xdfff) this.fail('lone trailing surrogate');
          if (hi >= 0xd800 && hi <= 0xdbff) {
            if (s[i] !== '\\' || s[i + 1] !== 'u') this.fail('lone leading surrogate');
            const lo = this.hex4(i + 2);
            if (lo < 0xdc00 || lo > 0xdfff) this.fail('invalid low surrogate');
            i += 6;
            out += String.fromCharCode(hi, lo);
          } else {
            out += String.fromCharCode(hi);
          }
          break;
        }
        default:
          this.fail('invalid escape');
      }
      start = i;
    }
  }

  private hex4(at: number): number {
    const h = this.s.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail('invalid \\u escape');
    return parseInt(h, 16);
  }
}
