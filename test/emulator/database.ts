import { randomUUID, createHash } from 'node:crypto';
import { definitionProblems, normalizeDefinition } from '../../src/rcp/definition';
import { evaluateGuard } from '../../src/rcp/guard';
import type { MachineDefinition, WalRecord } from '../../src/rcp/types';
import { checksumOf, Store, type Instance } from './store';

export const MAX_BATCH_OPS = 100;
export const MAX_VERSIONS_PER_MACHINE = 64;
export const MAX_WAL_READ = 1000;
const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 1000;

/** An error response: `{code, message, retryable, details?}`. */
export class OpError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable = false,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export type Params = Record<string, unknown>;

/** A transition that happened, as subscribers see it. */
export interface AppliedEvent {
  instance: Instance;
  event: string;
  from_state: string;
  to_state: string;
  payload: Record<string, unknown>;
  ctx: Record<string, unknown>;
  wal_offset: number;
}

function bad(message: string): OpError {
  return new OpError('BAD_REQUEST', message);
}

export function str(p: Params, key: string): string {
  const v = p[key];
  if (typeof v !== 'string' || v === '') throw bad(`'${key}' must be a non-empty string`);
  return v;
}
export function optStr(p: Params, key: string): string | undefined {
  return p[key] === undefined || p[key] === null ? undefined : str(p, key);
}
export function int(p: Params, key: string, min = 0): number {
  const v = p[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw bad(`'${key}' must be an integer ≥ ${min}`);
  return v;
}
export function optInt(p: Params, key: string, min = 0): number | undefined {
  return p[key] === undefined || p[key] === null ? undefined : int(p, key, min);
}
export function optObj(p: Params, key: string): Record<string, unknown> | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(`'${key}' must be a JSON object`);
  return v as Record<string, unknown>;
}
export function optStrList(p: Params, key: string): string[] | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw bad(`'${key}' must be an array of strings`);
  return v as string[];
}
export function optBool(p: Params, key: string): boolean | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw bad(`'${key}' must be true or false`);
  return v;
}

/** The ops that change or read data, shared by single requests and BATCH. */
export class Database {
  private readonly listeners = new Set<(e: AppliedEvent) => void>();
  /** Transitions made inside an atomic batch wait here until it commits. */
  private pending: AppliedEvent[] | undefined;

  constructor(readonly store: Store) {}

  onApplied(fn: (e: AppliedEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: AppliedEvent): void {
    if (this.pending) this.pending.push(e);
    else for (const fn of this.listeners) fn(e);
  }

  private instance(id: string): Instance {
    const inst = this.store.instances.get(id);
    if (!inst) throw new OpError('INSTANCE_NOT_FOUND', `instance '${id}' not found`);
    return inst;
  }

  private machine(name: string, version: number) {
    const m = this.store.machines.get(name)?.get(version);
    if (!m) throw new OpError('MACHINE_NOT_FOUND', `machine '${name}' version ${version} not found`);
    return m;
  }

  putMachine(p: Params) {
    const machine = str(p, 'machine');
    const version = int(p, 'version', 1);
    const raw = p.definition;
    const problems = definitionProblems(raw);
    const duplicate = problems.find((x) => x.duplicateTransition);
    // The server reports a duplicate (from, event) pair from deep inside, as an internal error.
    if (duplicate) throw new OpError('INTERNAL_ERROR', `internal error: ${duplicate.message}`, true);
    if (problems.length) throw new OpError('BAD_REQUEST', `invalid machine definition: ${problems.map((x) => x.message).join('; ')}`, false, { problems: problems.map((x) => x.message) });
    const definition = normalizeDefinition(raw as MachineDefinition);
    const checksum = checksumOf(definition);
    const given = optStr(p, 'checksum');
    if (given !== undefined && given !== checksum) throw bad(`checksum mismatch: definition hashes to ${checksum}`);
    const versions = this.store.machines.get(machine);
    const existing = versions?.get(version);
    if (existing) {
      if (existing.checksum === checksum) return { machine, version, stored_checksum: checksum, created: false };
      throw new OpError('MACHINE_VERSION_EXISTS', `machine '${machine}' version ${version} already exists with a different definition`);
    }
    if (versions && versions.size >= MAX_VERSIONS_PER_MACHINE) {
      throw new OpError('MACHINE_VERSION_LIMIT_EXCEEDED', `machine '${machine}' already has ${versions.size} versions (limit ${MAX_VERSIONS_PER_MACHINE})`);
    }
    this.store.append({ type: 'put_machine', machine, version, definition, definition_hash: checksum });
    return { machine, version, stored_checksum: checksum, created: true };
  }

  getMachine(p: Params) {
    const m = this.machine(str(p, 'machine'), int(p, 'version', 1));
    return { definition: m.definition, checksum: m.checksum };
  }

  listMachines() {
    const items = [...this.store.machines.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([machine, versions]) => ({ machine, versions: [...versions.keys()].sort((a, b) => a - b) }));
    return { items };
  }

  createInstance(p: Params) {
    const machine = str(p, 'machine');
    const version = int(p, 'version', 1);
    const key = optStr(p, 'idempotency_key');
    const scope = key === undefined ? undefined : `CREATE_INSTANCE:${key}`;
    if (scope && this.store.idempotency.has(scope)) return this.store.idempotency.get(scope);
    const m = this.machine(machine, version);
    const id = optStr(p, 'instance_id') ?? randomUUID();
    if (this.store.instances.has(id)) throw new OpError('INSTANCE_EXISTS', `instance '${id}' already exists`);
    const initial_ctx = optObj(p, 'initial_ctx') ?? {};
    const result = (rec: WalRecord) => ({ instance_id: id, state: m.definition.initial, wal_offset: rec.offset });
    const rec = this.store.append(
      { type: 'create_instance', instance_id: id, machine, version, initial_state: m.definition.initial, initial_ctx },
      scope ? { scope, result } : undefined,
    );
    return result(rec);
  }

  getInstance(p: Params) {
    const inst = this.instance(str(p, 'instance_id'));
    const out: Record<string, unknown> = { machine: inst.machine, version: inst.version, state: inst.state, ctx: inst.ctx };
    if (inst.last_event_id !== undefined) out.last_event_id = inst.last_event_id;
    out.last_wal_offset = inst.last_wal_offset;
    return out;
  }

  listInstances(p: Params) {
    const machine = optStr(p, 'machine');
    const state = optStr(p, 'state');
    const limit = Math.min(optInt(p, 'limit', 0) ?? DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT);
    const offset = optInt(p, 'offset', 0) ?? 0;
    const total = this.store.countIn(machine, state);
    const instances = [];
    let i = 0;
    if (offset < total) {
      for (const id of this.store.idsIn(machine, state)) {
        if (i++ < offset) continue;
        if (instances.length >= limit) break;
        const x = this.store.instances.get(id)!;
        instances.push({
          id: x.id,
          machine: x.machine,
          version: x.version,
          state: x.state,
          created_at: x.created_at,
          updated_at: x.updated_at,
          last_wal_offset: x.last_wal_offset,
        });
      }
    }
    return { instances, total, has_more: offset + instances.length < total };
  }

  deleteInstance(p: Params) {
    const id = str(p, 'instance_id');
    const key = optStr(p, 'idempotency_key');
    const scope = key === undefined ? undefined : `DELETE_INSTANCE:${key}`;
    if (scope && this.store.idempotency.has(scope)) return this.store.idempotency.get(scope);
    this.instance(id);
    const result = (rec: WalRecord) => ({ instance_id: id, deleted: true, wal_offset: rec.offset });
    return result(this.store.append({ type: 'delete_instance', instance_id: id }, scope ? { scope, result } : undefined));
  }

  applyEvent(p: Params) {
    const id = str(p, 'instance_id');
    const event = str(p, 'event');
    const payload = optObj(p, 'payload') ?? {};
    const expectedState = optStr(p, 'expected_state');
    const expectedOffset = optInt(p, 'expected_wal_offset', 0);
    const eventId = optStr(p, 'event_id');
    const key = optStr(p, 'idempotency_key');
    const scope = key === undefined ? undefined : `APPLY_EVENT:${key}`;
    if (scope && this.store.idempotency.has(scope)) return this.store.idempotency.get(scope);
    const inst = this.instance(id);
    const eventScope = eventId === undefined ? undefined : `EVENT:${id}:${eventId}`;
    if (eventScope && this.store.idempotency.has(eventScope)) {
      // The same event_id again: acknowledged, not applied twice.
      return { ...(this.store.idempotency.get(eventScope) as object), applied: false };
    }
    const def = this.machine(inst.machine, inst.version).definition;
    const transition = def.transitions.find((t) => t.event === event && t.from.includes(inst.state));
    if (!transition) {
      const valid = def.transitions.filter((t) => t.from.includes(inst.state)).map((t) => t.event);
      throw new OpError('INVALID_TRANSITION', `no transition from state '${inst.state}' on event '${event}'`, false, {
        state: inst.state,
        event,
        valid_events: valid,
      });
    }
    if (expectedState !== undefined && expectedState !== inst.state) {
      throw new OpError('CONFLICT', `instance is in state '${inst.state}', expected '${expectedState}'`, false, {
        current_state: inst.state,
        expected_state: expectedState,
      });
    }
    if (expectedOffset !== undefined && expectedOffset !== inst.last_wal_offset) {
      throw new OpError('CONFLICT', `instance is at WAL offset ${inst.last_wal_offset}, expected ${expectedOffset}`, false, {
        current_wal_offset: inst.last_wal_offset,
        expected_wal_offset: expectedOffset,
      });
    }
    // Guards see the context as it was before this event's payload.
    if (transition.guard !== undefined && !evaluateGuard(transition.guard, inst.ctx)) {
      throw new OpError('GUARD_FAILED', `guard '${transition.guard}' failed for event '${event}' in state '${inst.state}'`, false, {
        guard: transition.guard,
      });
    }
    const from_state = inst.state;
    const ctx = { ...inst.ctx, ...payload };
    const result = (rec: WalRecord) => {
      const r: Record<string, unknown> = { from_state, to_state: transition.to, ctx, wal_offset: rec.offset, applied: true };
      if (eventId !== undefined) r.event_id = eventId;
      return r;
    };
    const rec = this.store.append(
      { type: 'apply_event', instance_id: id, event, from_state, to_state: transition.to, payload, ctx },
      scope ? { scope, result } : eventScope ? { scope: eventScope, result } : undefined,
      eventId,
    );
    if (scope && eventScope) this.store.idempotency.set(eventScope, result(rec));
    this.emit({ instance: inst, event, from_state, to_state: transition.to, payload, ctx, wal_offset: rec.offset });
    return result(rec);
  }

  batch(p: Params) {
    const mode = p.mode;
    if (mode !== 'atomic' && mode !== 'best_effort') throw bad(`'mode' must be "atomic" or "best_effort"`);
    const ops = p.ops;
    if (!Array.isArray(ops)) throw bad(`'ops' must be an array`);
    if (ops.length > MAX_BATCH_OPS) throw bad(`a batch holds at most ${MAX_BATCH_OPS} ops (got ${ops.length})`);
    const runOne = (raw: unknown) => {
      if (raw === null || typeof raw !== 'object') throw bad('each batch op must be {op, params}');
      const { op, params } = raw as { op?: unknown; params?: unknown };
      const pr = (params ?? {}) as Params;
      if (typeof pr !== 'object' || Array.isArray(pr)) throw bad(`'params' must be an object`);
      switch (op) {
        case 'CREATE_INSTANCE':
          return this.createInstance(pr);
        case 'APPLY_EVENT':
          return this.applyEvent(pr);
        case 'DELETE_INSTANCE':
          return this.deleteInstance(pr);
        case 'GET_INSTANCE':
          return this.getInstance(pr);
        case 'PUT_MACHINE':
          return this.putMachine(pr);
        default:
          throw bad(`op '${String(op)}' is not allowed in a batch`);
      }
    };
    if (mode === 'best_effort') {
      const results = ops.map((raw) => {
        try {
          return { status: 'ok', result: runOne(raw), error: null };
        } catch (err) {
          return { status: 'error', result: null, error: toWireError(err) };
        }
      });
      return { results };
    }
    this.pending = [];
    let applied: AppliedEvent[] = [];
    try {
      const results = this.store.atomically(() => ops.map((raw) => ({ status: 'ok', result: runOne(raw), error: null })));
      applied = this.pending;
      return { results };
    } catch (err) {
      const e = toWireError(err);
      throw new OpError(e.code, `batch aborted, nothing applied: ${e.message}`, e.retryable, e.details);
    } finally {
      this.pending = undefined;
      for (const e of applied) this.emit(e);
    }
  }

  snapshotInstance(p: Params) {
    const inst = this.instance(str(p, 'instance_id'));
    const body = JSON.stringify({ state: inst.state, ctx: inst.ctx });
    const snapshot_id = `snap-${randomUUID()}`;
    const checksum = createHash('sha256').update(body).digest('hex');
    const rec = this.store.append({ type: 'snapshot', instance_id: inst.id, snapshot_id, state: inst.state, ctx: inst.ctx });
    return { instance_id: inst.id, snapshot_id, wal_offset: rec.offset, size_bytes: Buffer.byteLength(body), checksum };
  }

  walRead(p: Params) {
    const from = int(p, 'from_offset', 0);
    const limit = Math.min(optInt(p, 'limit', 1) ?? 100, MAX_WAL_READ);
    const records = this.store.readWal(from, limit);
    this.store.bytesRead += records.length * 100;
    this.store.reads++;
    const next_offset = records.length ? records[records.length - 1].offset + 1 : Math.max(from, 0);
    return { records, next_offset };
  }

  walStats() {
    const s = this.store;
    return {
      entry_count: s.wal.length,
      segment_count: s.segmentCount,
      total_size_bytes: s.totalBytes,
      latest_offset: s.latestOffset,
      io_stats: { bytes_written: s.bytesWritten, bytes_read: s.bytesRead, writes: s.writes, reads: s.reads, fsyncs: s.fsyncs },
    };
  }

  compact(p: Params) {
    const force = optBool(p, 'force_snapshot') ?? false;
    let created = 0;
    if (force) {
      for (const inst of this.store.instances.values()) {
        this.snapshotInstance({ instance_id: inst.id });
        created++;
      }
    }
    this.store.sync();
    return {
      snapshots_created: created,
      segments_deleted: 0,
      bytes_reclaimed: 0,
      total_snapshots: this.store.snapshots,
      wal_segments: this.store.segmentCount,
    };
  }
}

export function toWireError(err: unknown): { code: string; message: string; retryable: boolean; details?: unknown } {
  if (err instanceof OpError) {
    const e: { code: string; message: string; retryable: boolean; details?: unknown } = {
      code: err.code,
      message: err.message,
      retryable: err.retryable,
    };
    if (err.details !== undefined) e.details = err.details;
    return e;
  }
  return { code: 'INTERNAL_ERROR', message: `internal error: ${(err as Error)?.message ?? String(err)}`, retryable: true };
}
