/**
 * The data ops, from params to result, as the server's command handler runs
 * them. Shared by single requests and BATCH; session ops (HELLO, AUTH,
 * WATCH_*, …) live in server.ts.
 */
import { randomUUID } from 'node:crypto';
import { BadRequest, anyValue, asU64, loose, optString, optUnsigned, reqString, reqUnsigned, struct } from './params';
import { CoreError, Store, type Instance } from './store';
import { crcHex } from './wire';

export const MAX_BATCH_OPS = 100;
const DEFAULT_LIST_LIMIT = 100;

/** A transition that happened (or an idempotent replay of one), as subscribers see it. */
export interface AppliedEvent {
  instance_id: string;
  machine: string;
  version: number;
  event: string;
  from_state: string;
  to_state: string;
  payload: unknown;
  ctx: unknown;
  wal_offset: number;
}

/** An error response body: no `details`, ever. */
export interface WireError {
  code: string;
  message: string;
  retryable: boolean;
}

const RETRYABLE = new Set(['WAL_IO_ERROR', 'RATE_LIMITED', 'INTERNAL_ERROR']);

export function wireError(code: string, message: string): WireError {
  return { code, message, retryable: RETRYABLE.has(code) };
}

/** Any refusal as the server words it: `invalid request: …`, `core error: …`. */
export function toWireError(err: unknown): WireError {
  if (err instanceof BadRequest) return wireError('BAD_REQUEST', `invalid request: ${err.message}`);
  if (err instanceof CoreError) return wireError(err.code, `core error: ${err.message}`);
  if (err instanceof AuthFailed) return wireError('AUTH_FAILED', `authentication failed: ${err.message}`);
  throw err;
}

/** AUTH_FAILED, `authentication failed: …`. */
export class AuthFailed extends Error {}

export class Database {
  private readonly listeners = new Set<(e: AppliedEvent) => void>();

  constructor(readonly store: Store) {}

  onApplied(fn: (e: AppliedEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  putMachine(params: unknown) {
    const p = struct(params, 'PutMachineParams');
    const machine = reqString(p, 'machine');
    const version = reqUnsigned(p, 'version', 32);
    if (p.definition === undefined) throw new BadRequest('missing field `definition`');
    optString(p, 'checksum'); // read, then ignored, as the server does
    const { checksum, created } = this.store.putMachine(machine, version, p.definition);
    return { machine, version, stored_checksum: checksum, created };
  }

  getMachine(params: unknown) {
    const p = struct(params, 'GetMachineParams');
    const machine = reqString(p, 'machine');
    const def = this.store.definition(machine, reqUnsigned(p, 'version', 32));
    return { definition: def.stored, checksum: def.checksum };
  }

  listMachines() {
    const items = [...this.store.machines.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([machine, versions]) => ({ machine, versions: [...versions.keys()].sort((a, b) => a - b) }));
    return { items };
  }

  createInstance(params: unknown) {
    const p = struct(params, 'CreateInstanceParams');
    const given = optString(p, 'instance_id');
    const machine = reqString(p, 'machine');
    const version = reqUnsigned(p, 'version', 32);
    const initialCtx = anyValue(p, 'initial_ctx');
    const key = optString(p, 'idempotency_key');
    const inst = this.store.createInstance(given ?? randomUUID(), machine, version, initialCtx, key);
    return { instance_id: inst.id, state: inst.state, wal_offset: inst.last_wal_offset };
  }

  getInstance(params: unknown) {
    const inst = this.store.instance(reqString(struct(params, 'GetInstanceParams'), 'instance_id'));
    const out: Record<string, unknown> = { machine: inst.machine, version: inst.version, state: inst.state, ctx: inst.ctx };
    if (inst.last_event_id !== undefined) out.last_event_id = inst.last_event_id;
    out.last_wal_offset = inst.last_wal_offset;
    return out;
  }

  listInstances(params: unknown) {
    const p = struct(params, 'ListInstancesParams');
    const machine = optString(p, 'machine');
    const state = optString(p, 'state');
    const limit = optUnsigned(p, 'limit', 32) ?? DEFAULT_LIST_LIMIT;
    const offset = optUnsigned(p, 'offset', 32) ?? 0;
    const { page, total } = this.store.list(machine, state, offset, limit);
    const instances = page.map((x) => ({
      id: x.id,
      machine: x.machine,
      version: x.version,
      state: x.state,
      created_at: x.created_at,
      updated_at: x.updated_at,
      last_wal_offset: x.last_wal_offset,
    }));
    return { instances, total, has_more: offset + instances.length < total };
  }

  deleteInstance(params: unknown) {
    const id = loose(params, 'instance_id');
    if (typeof id !== 'string') throw new BadRequest('missing instance_id');
    const key = loose(params, 'idempotency_key');
    const wal_offset = this.store.deleteInstance(id, typeof key === 'string' ? key : undefined);
    return { instance_id: id, deleted: true, wal_offset };
  }

  applyEvent(params: unknown) {
    const p = struct(params, 'ApplyEventParams');
    const id = reqString(p, 'instance_id');
    const event = reqString(p, 'event');
    const payload = anyValue(p, 'payload');
    const expectedState = optString(p, 'expected_state');
    const expectedOffset = optUnsigned(p, 'expected_wal_offset', 64);
    const eventId = optString(p, 'event_id');
    const key = optString(p, 'idempotency_key');
    const inst: Instance = this.store.instance(id);
    const r = this.store.applyEvent(id, event, payload, expectedState, expectedOffset, eventId, key);
    // Broadcast every answer with applied:true, an idempotent replay included (same wal_offset, this request's payload).
    const e: AppliedEvent = {
      instance_id: id,
      machine: inst.machine,
      version: inst.version,
      event,
      from_state: r.from_state,
      to_state: r.to_state,
      payload,
      ctx: r.ctx,
      wal_offset: r.wal_offset,
    };
    for (const fn of this.listeners) fn(e);
    const out: Record<string, unknown> = { from_state: r.from_state, to_state: r.to_state, ctx: r.ctx, wal_offset: r.wal_offset, applied: r.applied };
    if (eventId !== undefined) out.event_id = eventId;
    return out;
  }

  /** Writes nothing to the WAL; answers the instance's last_wal_offset. */
  snapshotInstance(params: unknown) {
    const id = loose(params, 'instance_id');
    if (typeof id !== 'string') throw new BadRequest('missing instance_id');
    const inst = this.store.instance(id);
    const snapshot_id = `snap-${randomUUID()}`;
    const body = JSON.stringify({ snapshot_id, instance_id: inst.id, machine: inst.machine, version: inst.version, state: inst.state, ctx: inst.ctx, wal_offset: inst.last_wal_offset });
    this.snapshots.set(inst.id, inst.last_wal_offset);
    return { instance_id: id, snapshot_id, wal_offset: inst.last_wal_offset, size_bytes: Buffer.byteLength(body), checksum: crcHex(body) };
  }

  /** Snapshots kept beside the WAL (instance -> offset it was taken at); never WAL records. */
  private readonly snapshots = new Map<string, number>();

  walRead(params: unknown) {
    const from = asU64(loose(params, 'from_offset'), params, 'from_offset');
    if (from === undefined) throw new BadRequest('missing from_offset');
    // A negative, float or string limit is no limit; 0 is an empty page. There is no cap.
    const limit = asU64(loose(params, 'limit'), params, 'limit');
    const records = this.store.readWal(from, limit);
    return { records, next_offset: records.length ? records[records.length - 1].offset + 1 : null };
  }

  walStats() {
    const s = this.store;
    return {
      entry_count: s.wal.length,
      segment_count: s.segmentCount,
      total_size_bytes: s.bytesWritten,
      latest_offset: s.latestOffset,
      io_stats: { bytes_written: s.bytesWritten, bytes_read: s.bytesRead, writes: s.writes, reads: s.reads, fsyncs: s.fsyncs },
    };
  }

  /** Snapshots every live instance without one (or changed since, with force_snapshot); the WAL is left whole. */
  compact(params: unknown) {
    const force = loose(params, 'force_snapshot') === true;
    let created = 0;
    for (const inst of this.store.list(undefined, undefined, 0, Infinity).page) {
      const at = this.snapshots.get(inst.id);
      if (at === undefined || (force && inst.last_wal_offset > at)) {
        this.snapshots.set(inst.id, inst.last_wal_offset);
        created++;
      }
    }
    this.store.sync();
    return {
      snapshots_created: created,
      segments_deleted: 0,
      bytes_reclaimed: 0,
      total_snapshots: this.snapshots.size,
      wal_segments: this.store.segmentCount,
    };
  }
}
