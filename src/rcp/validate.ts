/**
 * The one place where what the server sends is checked against the shape its
 * op defines (types.ts, rcp-notes: Operations). Nothing the server answers
 * reaches a caller unchecked: a malformed result becomes an RcpError with code
 * BAD_RESPONSE naming the op and the field, a malformed event is skipped.
 *
 * Hand-written guards rather than a schema library: the shapes are few and
 * flat, and this keeps the bundle small. Fields typed `unknown` in types.ts
 * (ctx, payload, meta, details) are never walked: a deeply nested value costs
 * nothing here and cannot overflow the stack.
 */
import { RcpError } from './errors';

/** A guard: throws ShapeError when `v` is not the shape, naming the field. */
type Guard = (v: unknown, path: string) => void;

class ShapeError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: unknown,
  ) {
    super(`${path} should be ${expected} but is ${describeValue(actual)}`);
  }
}

/** A short, safe description of a wrong value (never the whole of it). */
function describeValue(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return Number.isFinite(v) ? `the number ${v}` : String(v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const str: Guard = (v, p) => {
  if (typeof v !== 'string') throw new ShapeError(p, 'a string', v);
};
const bool: Guard = (v, p) => {
  if (typeof v !== 'boolean') throw new ShapeError(p, 'true or false', v);
};
const num: Guard = (v, p) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ShapeError(p, 'a number', v);
};
/** Counts, versions, limits: a non-negative safe integer. */
const count: Guard = (v, p) => {
  if (!isOffset(v)) throw new ShapeError(p, 'a non-negative integer', v);
};
/** WAL offsets: a non-negative safe integer (rcp-notes: they stay below 2^53). */
const offset: Guard = (v, p) => {
  if (!isOffset(v)) throw new ShapeError(p, 'a WAL offset (a non-negative integer below 2^53)', v);
};
/** Anything at all, left unwalked (ctx, payload, meta). */
const any: Guard = () => undefined;

const optional =
  (g: Guard): Guard =>
  (v, p) => {
    if (v !== undefined) g(v, p);
  };
const nullable =
  (g: Guard): Guard =>
  (v, p) => {
    if (v !== null) g(v, p);
  };
const oneOf =
  (...values: string[]): Guard =>
  (v, p) => {
    if (typeof v !== 'string' || !values.includes(v)) throw new ShapeError(p, values.map((x) => `"${x}"`).join(' or '), v);
  };
const arrayOf =
  (g: Guard): Guard =>
  (v, p) => {
    if (!Array.isArray(v)) throw new ShapeError(p, 'an array', v);
    for (let i = 0; i < v.length; i++) g(v[i], `${p}[${i}]`);
  };
/** An object with at least these fields (extra fields from a newer server are fine). */
const shape =
  (fields: Record<string, Guard>): Guard =>
  (v, p) => {
    if (!isObject(v)) throw new ShapeError(p, 'an object', v);
    for (const key of Object.keys(fields)) fields[key](v[key], `${p}.${key}`);
  };
const either =
  (a: Guard, b: Guard, expected: string): Guard =>
  (v, p) => {
    try {
      a(v, p);
    } catch {
      try {
        b(v, p);
      } catch {
        throw new ShapeError(p, expected, v);
      }
    }
  };

export function isOffset(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

const wireError = shape({ code: str, message: str, retryable: optional(bool) });

const definition = shape({
  states: arrayOf(str),
  initial: str,
  transitions: arrayOf(shape({ from: either(str, arrayOf(str), 'a state or a list of states'), event: str, to: str, guard: optional(nullable(str)) })),
});

const walEntries: Record<string, Guard> = {
  put_machine: shape({ machine: str, version: count }),
  create_instance: shape({ instance_id: str, machine: str, version: count, initial_state: str }),
  apply_event: shape({ instance_id: str, event: str, from_state: str, to_state: str }),
  delete_instance: shape({ instance_id: str }),
};

const walEntry: Guard = (v, p) => {
  shape({ type: str })(v, p);
  walEntries[(v as { type: string }).type]?.(v, p);
};

const walRead: Guard = (v, p) => {
  shape({ records: arrayOf(shape({ sequence: count, offset, entry: walEntry })), next_offset: nullable(offset) })(v, p);
  const { records, next_offset } = v as { records: { offset: number }[]; next_offset: number | null };
  let last = -1;
  for (let i = 0; i < records.length; i++) {
    if (records[i].offset <= last) throw new ShapeError(`${p}.records[${i}].offset`, `greater than the record before (${last})`, records[i].offset);
    last = records[i].offset;
  }
  if (records.length > 0 && (next_offset === null || next_offset <= last)) {
    throw new ShapeError(`${p}.next_offset`, `a WAL offset after the last record (${last})`, next_offset);
  }
};

/** Result shapes by op (rcp-notes: Operations). Ops not listed are passed through as sent. */
const RESULTS: Record<string, Guard> = {
  HELLO: shape({ protocol_version: num, wire_mode: str, server_name: str, server_version: str, features: arrayOf(str) }),
  INFO: shape({ server_name: str, server_version: str, protocol_version: num, features: arrayOf(str), max_frame_bytes: count, max_batch_ops: count }),
  PUT_MACHINE: shape({ machine: str, version: count, stored_checksum: str, created: bool }),
  GET_MACHINE: shape({ definition, checksum: str }),
  LIST_MACHINES: shape({ items: arrayOf(shape({ machine: str, versions: arrayOf(count) })) }),
  CREATE_INSTANCE: shape({ instance_id: str, state: str, wal_offset: offset }),
  GET_INSTANCE: shape({ machine: str, version: count, state: str, ctx: any, last_event_id: optional(nullable(str)), last_wal_offset: offset }),
  LIST_INSTANCES: shape({
    instances: arrayOf(shape({ id: str, machine: str, version: count, state: str, created_at: num, updated_at: num, last_wal_offset: offset })),
    total: count,
    has_more: bool,
  }),
  DELETE_INSTANCE: shape({ instance_id: str, deleted: bool, wal_offset: offset }),
  APPLY_EVENT: shape({ from_state: str, to_state: str, ctx: any, wal_offset: offset, applied: bool, event_id: optional(nullable(str)) }),
  BATCH: shape({ results: arrayOf(shape({ status: oneOf('ok', 'error'), result: any, error: optional(nullable(wireError)) })) }),
  WATCH_INSTANCE: shape({ subscription_id: str, instance_id: str, current_state: str, current_wal_offset: offset }),
  WATCH_ALL: shape({ subscription_id: str, wal_offset: offset }),
  UNWATCH: shape({}),
  SNAPSHOT_INSTANCE: shape({ instance_id: str, snapshot_id: str, wal_offset: offset }),
  WAL_READ: walRead,
  WAL_STATS: shape({ entry_count: count, latest_offset: offset }),
  COMPACT: shape({}),
  PING: any,
  AUTH: any,
  BYE: any,
};

const event = shape({
  subscription_id: str,
  instance_id: str,
  machine: str,
  version: count,
  event: str,
  from_state: str,
  to_state: str,
  payload: any,
  wal_offset: offset,
});

/** Messages shown to people are capped: a hostile server's text stays readable. */
const MAX_MESSAGE_CHARS = 500;

function readable(text: string): string {
  const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '�');
  return clean.length > MAX_MESSAGE_CHARS ? `${clean.slice(0, MAX_MESSAGE_CHARS)}…` : clean;
}

function badResponse(op: string, message: string): RcpError {
  return new RcpError('BAD_RESPONSE', readable(`malformed ${op} answer from the server: ${message}`), false, undefined, op);
}

/**
 * A response turned into its result, or into the RcpError the caller sees.
 * `params` are the request's (BATCH results are checked against each op's shape).
 */
export function checkResponse(op: string, params: Record<string, unknown> | undefined, msg: Record<string, unknown>): { result?: unknown; error?: RcpError } {
  if (msg.status === 'ok') {
    if (!('result' in msg)) return { error: badResponse(op, 'the response has no result') };
    try {
      checkResult(op, params, msg.result);
    } catch (err) {
      if (err instanceof ShapeError) return { error: badResponse(op, err.message) };
      throw err;
    }
    return { result: msg.result };
  }
  if (msg.status === 'error') return { error: errorFrom(op, msg.error) };
  return { error: badResponse(op, `status should be "ok" or "error" but is ${describeValue(msg.status)}`) };
}

function checkResult(op: string, params: Record<string, unknown> | undefined, result: unknown): void {
  RESULTS[op]?.(result, 'result');
  if (op !== 'BATCH') return;
  // Each ok result inside a batch has the shape of its own op.
  const ops = Array.isArray(params?.ops) ? (params.ops as { op?: unknown }[]) : [];
  const results = (result as { results: { status: string; result: unknown }[] }).results;
  if (results.length !== ops.length) throw new ShapeError('result.results', `${ops.length} results (one per op)`, `${results.length} results`);
  results.forEach((r, i) => {
    const inner = ops[i]?.op;
    if (r.status === 'ok' && typeof inner === 'string' && inner !== 'BATCH') RESULTS[inner]?.(r.result, `result.results[${i}].result`);
  });
}

/** An error answer as an RcpError: always a string code, a readable message, retryable only when the server said true. */
export function errorFrom(op: string, raw: unknown): RcpError {
  if (!isObject(raw)) return badResponse(op, `an error answer whose error is ${describeValue(raw)}`);
  const code = typeof raw.code === 'string' && raw.code.length > 0 ? readable(raw.code) : undefined;
  const message = typeof raw.message === 'string' ? readable(raw.message) : undefined;
  if (code === undefined) {
    return badResponse(op, `an error answer whose error.code is ${describeValue(raw.code)}${message ? ` (message: ${message})` : ''}`);
  }
  const retryable = raw.retryable === true;
  const text = message || `the server answered ${code} without a message`;
  // rcp-notes: every invalid definition is INTERNAL_ERROR with retryable true. It is not
  // a server fault and sending it again cannot help: say what it is, never retry it.
  if (op === 'PUT_MACHINE' && code === 'INTERNAL_ERROR' && retryable) {
    return new RcpError(code, `the server rejected this definition: ${text}`, false, raw.details, op);
  }
  return new RcpError(code, text, retryable, raw.details, op);
}

/** Checks an event; returns why it is malformed, or undefined when it is fine. */
export function checkEvent(msg: Record<string, unknown>): string | undefined {
  try {
    event(msg, 'event');
    return undefined;
  } catch (err) {
    if (err instanceof ShapeError) return readable(`malformed event from the server skipped: ${err.message}`);
    throw err;
  }
}
