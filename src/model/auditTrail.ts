/**
 * Write operations as one Info line each, so the log is an audit trail of what
 * was done from this window: which connection, which instance and event, and
 * what came of it. Read from the client's own request/response stream, so
 * every write is covered whichever command sent it. Payloads, contexts and
 * definitions are never written (they may hold secrets): only names and ids.
 */

const WRITES = new Set(['CREATE_INSTANCE', 'APPLY_EVENT', 'DELETE_INSTANCE', 'PUT_MACHINE', 'BATCH']);

/** Writes remembered while unanswered. */
const MAX_PENDING = 1000;

/** Longest id or name written as is; longer ones are cut (a log line stays a line). */
const MAX_TEXT = 200;

function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const oneLine = v.replace(/[\r\n\t]+/g, ' ');
  return JSON.stringify(oneLine.length > MAX_TEXT ? `${oneLine.slice(0, MAX_TEXT)}…` : oneLine);
}

/** What a write request was, in words (no payload, no context, no definition). */
export function describeWrite(op: string, params: Record<string, unknown>): string {
  switch (op) {
    case 'APPLY_EVENT':
      return `apply event ${text(params.event)} to instance ${text(params.instance_id)}${params.expected_state !== undefined ? ` (expected state ${text(params.expected_state)})` : ''}`;
    case 'CREATE_INSTANCE':
      return `create instance ${text(params.instance_id) ?? '(id chosen by the server)'} of ${text(params.machine)} v${Number(params.version)}`;
    case 'DELETE_INSTANCE':
      return `delete instance ${text(params.instance_id)}`;
    case 'PUT_MACHINE':
      return `deploy machine ${text(params.machine)} v${Number(params.version)}`;
    case 'BATCH': {
      const ops = Array.isArray(params.ops) ? params.ops : [];
      return `batch (${text(params.mode) ?? 'default mode'}) of ${ops.length} operation${ops.length === 1 ? '' : 's'}`;
    }
    default:
      return op;
  }
}

/** What the server answered, in words. */
export function describeOutcome(op: string, response: Record<string, unknown>): string {
  if (response.status !== 'ok') {
    const err = (response.error ?? {}) as Record<string, unknown>;
    return `failed: ${typeof err.code === 'string' ? err.code : 'error'}${typeof err.message === 'string' ? ` (${err.message.replace(/[\r\n]+/g, ' ').slice(0, MAX_TEXT)})` : ''}`;
  }
  const r = (response.result ?? {}) as Record<string, unknown>;
  switch (op) {
    case 'APPLY_EVENT':
      return `ok: ${text(r.from_state)} → ${text(r.to_state)}${r.applied === false ? ' (already applied)' : ''}, WAL offset ${Number(r.wal_offset)}`;
    case 'CREATE_INSTANCE':
      return `ok: ${text(r.instance_id)} in ${text(r.state)}, WAL offset ${Number(r.wal_offset)}`;
    case 'DELETE_INSTANCE':
      return `ok, WAL offset ${Number(r.wal_offset)}`;
    case 'BATCH': {
      const results = Array.isArray(r.results) ? (r.results as { status?: unknown }[]) : [];
      const failed = results.filter((x) => x?.status !== 'ok').length;
      return failed ? `${results.length - failed} ok, ${failed} failed` : `ok (${results.length})`;
    }
    default:
      return 'ok';
  }
}

/** Follows one connection's requests and responses; calls `write` once per answered write. */
export class AuditTrail {
  private readonly pending = new Map<string, { op: string; what: string }>();

  constructor(
    private readonly connection: string,
    private readonly write: (line: string) => void,
  ) {}

  observe(direction: 'send' | 'recv', message: Record<string, unknown>): void {
    if (direction === 'send') {
      const op = message.op;
      // A new session (HELLO) numbers its requests afresh: what the old one left unanswered is said so.
      if (op === 'HELLO') this.closed();
      if (message.type !== 'request' || typeof op !== 'string' || !WRITES.has(op)) return;
      const params = (message.params ?? {}) as Record<string, unknown>;
      this.pending.set(String(message.id), { op, what: describeWrite(op, params) });
      // Bounded: requests that time out are never answered.
      if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
      return;
    }
    if (message.type !== 'response') return;
    const id = String(message.id);
    const req = this.pending.get(id);
    if (!req) return;
    this.pending.delete(id);
    this.write(`[${this.connection}] ${req.what}: ${describeOutcome(req.op, message)}`);
  }

  /** The connection closed: writes left unanswered are said to be so (they may or may not have happened). */
  closed(): void {
    for (const { what } of this.pending.values()) this.write(`[${this.connection}] ${what}: no answer (the connection closed; it may or may not have been applied)`);
    this.pending.clear();
  }
}
