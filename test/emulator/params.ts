/**
 * Request parameters read the way the server's serde structs read them:
 * a missing required field, a wrong type, a float where an integer goes
 * (`1.0`), a negative or too large integer are BAD_REQUEST
 * (`invalid request: …`). Optional fields accept null as absent; lists and
 * booleans with a default do not.
 */
import { writtenAsFloat } from './json';
import { describeJson } from './values';

/** BAD_REQUEST with the server's `invalid request: ` prefix. */
export class BadRequest extends Error {}

export type Fields = Record<string, unknown>;

/** The params object of an op whose params are a struct; anything else is BAD_REQUEST. */
export function struct(params: unknown, name: string): Fields {
  if (params === null || params === undefined || typeof params !== 'object' || Array.isArray(params)) {
    throw new BadRequest(`invalid type: ${describeJson(params)}, expected struct ${name}`);
  }
  return params as Fields;
}

/** A field read with `params["key"]` on the server: a non-object params reads as nothing. */
export function loose(params: unknown, key: string): unknown {
  return params !== null && typeof params === 'object' && !Array.isArray(params) ? (params as Fields)[key] : undefined;
}

function invalidType(v: unknown, expected: string, holder: Fields, key: string): BadRequest {
  const what = typeof v === 'number' && writtenAsFloat(holder, key) ? `floating point \`${Number.isInteger(v) ? v.toFixed(1) : v}\`` : describeJson(v);
  return new BadRequest(`invalid type: ${what}, expected ${expected}`);
}

function missing(key: string): BadRequest {
  return new BadRequest(`missing field \`${key}\``);
}

export function reqString(o: Fields, key: string): string {
  const v = o[key];
  if (v === undefined) throw missing(key);
  if (typeof v !== 'string') throw invalidType(v, 'a string', o, key);
  return v;
}

export function optString(o: Fields, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidType(v, 'a string', o, key);
  return v;
}

function unsigned(o: Fields, key: string, bits: 16 | 32 | 64): number {
  const v = o[key];
  const name = `u${bits}`;
  if (typeof v !== 'number' || writtenAsFloat(o, key) || !Number.isInteger(v)) throw invalidType(v, name, o, key);
  if (v < 0 || v > 2 ** bits - 1) throw new BadRequest(`invalid value: integer \`${v}\`, expected ${name}`);
  return v;
}

export function reqUnsigned(o: Fields, key: string, bits: 16 | 32 | 64): number {
  if (o[key] === undefined) throw missing(key);
  return unsigned(o, key, bits);
}

export function optUnsigned(o: Fields, key: string, bits: 16 | 32 | 64): number | undefined {
  return o[key] === undefined || o[key] === null ? undefined : unsigned(o, key, bits);
}

/** A u64 the server reads with `as_u64()`: anything else (negative, float, string) is absent. */
export function asU64(v: unknown, holder: unknown, key: string): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return undefined;
  if (holder !== null && typeof holder === 'object' && writtenAsFloat(holder, key)) return undefined;
  return v;
}

/** `#[serde(default)] Vec<String>`: absent is empty; null is a type error. */
export function stringList(o: Fields, key: string): string[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalidType(v, 'a sequence', o, key);
  v.forEach((s, i) => {
    if (typeof s !== 'string') throw invalidType(s, 'a string', v as unknown as Fields, String(i));
  });
  return v as string[];
}

/** A bool with a default: absent is the default; null is a type error. */
export function boolOr(o: Fields, key: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw invalidType(v, 'a boolean', o, key);
  return v;
}

/** `#[serde(default)] Value`: any JSON, null when absent. */
export function anyValue(o: Fields, key: string): unknown {
  return o[key] === undefined ? null : o[key];
}
