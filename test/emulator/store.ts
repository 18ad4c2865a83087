/**
 * The emulator's engine: machines, instances, the WAL and the idempotency
 * cache, with the real server's semantics (rcp-notes.md "The server at its
 * edges"): soft deletes, a null ctx that never merges, CONFLICT before the
 * transition lookup, idempotency keys scoped to the instance and kept in
 * memory only, event_id stored but never deduplicated, instances listed in a
 * hash order. Every change is one WAL record appended to `wal.jsonl` with a
 * synchronous write before it is applied, so a SIGKILL at any moment leaves a
 * state that replays to what clients were told.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DefinitionError, parseDefinition, type Definition } from './definition';
import { evaluateGuard } from './guard';
import { sortKeysDeep } from './values';

/** Offsets carry the segment number in the high bits, like the server's (segment << 40 | byte offset). */
const SEGMENT_SHIFT = 2 ** 40;
/** Small segments so tests cross segment boundaries and see offsets jump. */
const SEGMENT_BYTES = 256 * 1024;
/** The server's WAL record header: magic, type, flags, reserved, length, CRC, sequence. */
const RECORD_HEADER = 24;

/** A WAL entry in the server's field order (WAL_READ sorts keys anyway). */
export type WalEntry =
  | { type: 'put_machine'; machine: string; version: number; definition_hash: string; definition: unknown }
  | { type: 'create_instance'; instance_id: string; machine: string; version: number; initial_state: string; initial_ctx: unknown; idempotency_key?: string }
  | { type: 'apply_event'; instance_id: string; event: string; from_state: string; to_state: string; payload: unknown; ctx: unknown; event_id?: string; idempotency_key?: string }
  | { type: 'delete_instance'; instance_id: string; idempotency_key?: string };

export interface WalRecord {
  sequence: number;
  offset: number;
  entry: WalEntry;
}

export interface Instance {
  id: string;
  machine: string;
  version: number;
  state: string;
  /** Any JSON, null when created without initial_ctx. */
  ctx: unknown;
  created_at: number;
  updated_at: number;
  last_wal_offset: number;
  last_event_id?: string;
  /** Soft-deleted: gone from LIST_INSTANCES, still there for everything else. */
  deleted: boolean;
  /** Position in the listing order. */
  readonly hash: number;
}

export interface ApplyResult {
  from_state: string;
  to_state: string;
  ctx: unknown;
  wal_offset: number;
  applied: true;
}

/** A refusal from the engine: answered as `core error: <message>` with this code. */
export class CoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** FNV-1a over the id's UTF-8 bytes: a stable, creation-independent listing order. */
function hashOf(id: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(id, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

function compare(a: Instance, b: Instance): number {
  return a.hash - b.hash || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The payload's top-level keys replace the context's, but only when both are objects. */
function merge(ctx: unknown, payload: unknown): unknown {
  const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  return isObj(ctx) && isObj(payload) ? sortKeysDeep({ ...(ctx as object), ...(payload as object) }) : ctx;
}

export class Store {
  readonly machines = new Map<string, Map<number, Definition>>();
  readonly instances = new Map<string, Instance>();
  /** Every instance ever created, in hash order once sorted (deleted ones are skipped when listing). */
  private readonly ordered: Instance[] = [];
  /** Creates append; the next listing sorts (one sort after a burst of 100,000 creates, not one shift each). */
  private sorted = true;
  readonly wal: WalRecord[] = [];
  /** (instance, key) -> the first result; in memory only, as on the server (a restart forgets it). */
  private readonly idempotency = new Map<string, ApplyResult>();
  private segment = 1;
  private position = 0;
  private fd: number | undefined;
  bytesWritten = 0;
  bytesRead = 0;
  reads = 0;
  writes = 0;
  fsyncs = 0;

  constructor(private readonly dir: string | undefined) {
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'wal.jsonl');
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        let parsed: { rec: WalRecord; ts: number };
        try {
          parsed = JSON.parse(line) as { rec: WalRecord; ts: number };
        } catch {
          break; // a torn last line from a kill mid-write: everything before it stands
        }
        this.replay(parsed.rec, parsed.ts);
      }
    }
    this.fd = openSync(file, 'a');
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Where the next record will go. */
  get latestOffset(): number {
    return this.segment * SEGMENT_SHIFT + this.position;
  }

  get segmentCount(): number {
    return this.segment;
  }

  sync(): void {
    if (this.fd !== undefined) {
      fsyncSync(this.fd);
      this.fsyncs++;
    }
  }

  private append(entry: WalEntry): WalRecord {
    const size = Buffer.byteLength(JSON.stringify(entry)) + RECORD_HEADER;
    if (this.position + size > SEGMENT_BYTES && this.position > 0) {
      this.segment++;
      this.position = 0;
    }
    const rec: WalRecord = { sequence: this.wal.length + 1, offset: this.latestOffset, entry };
    const ts = Date.now();
    if (this.fd !== undefined) {
      const text = JSON.stringify({ rec, ts }) + '\n';
      writeSync(this.fd, text);
      this.writes++;
    }
    this.bytesWritten += size;
    this.wal.push(rec);
    this.position += size;
    return rec;
  }

  /** A record read back at start-up, with the server's replay rules. */
  private replay(rec: WalRecord, ts: number): void {
    const e = rec.entry;
    const size = Buffer.byteLength(JSON.stringify(e)) + RECORD_HEADER;
    this.wal.push(rec);
    this.bytesWritten += size;
    this.segment = Math.floor(rec.offset / SEGMENT_SHIFT);
    this.position = rec.offset - this.segment * SEGMENT_SHIFT + size;
    switch (e.type) {
      case 'put_machine':
        if (!this.machines.get(e.machine)?.has(e.version)) {
          try {
            this.addMachine(e.machine, e.version, parseDefinition(e.definition));
          } catch {
            // the server skips a definition it cannot read back
          }
        }
        break;
      case 'create_instance':
        if (!this.instances.has(e.instance_id)) this.addInstance(e.instance_id, e.machine, e.version, e.initial_state, e.initial_ctx, rec.offset, ts);
        break;
      case 'apply_event': {
        const inst = this.instances.get(e.instance_id);
        if (!inst) break;
        inst.state = e.to_state;
        inst.ctx = e.ctx;
        inst.last_wal_offset = rec.offset;
        inst.updated_at = ts;
        // Replay keeps the previous last_event_id when the entry has none (a live APPLY clears it).
        if (e.event_id !== undefined) inst.last_event_id = e.event_id;
        break;
      }
      case 'delete_instance': {
        const inst = this.instances.get(e.instance_id);
        if (!inst) break;
        inst.deleted = true;
        inst.last_wal_offset = rec.offset;
        inst.updated_at = ts;
        break;
      }
      default:
        break;
    }
  }

  private addMachine(name: string, version: number, def: Definition): void {
    let versions = this.machines.get(name);
    if (!versions) this.machines.set(name, (versions = new Map()));
    versions.set(version, def);
  }

  private addInstance(id: string, machine: string, version: number, state: string, ctx: unknown, offset: number, ts: number): Instance {
    const inst: Instance = { id, machine, version, state, ctx, created_at: ts, updated_at: ts, last_wal_offset: offset, deleted: false, hash: hashOf(id) };
    this.instances.set(id, inst);
    const last = this.ordered[this.ordered.length - 1];
    if (last && compare(last, inst) > 0) this.sorted = false;
    this.ordered.push(inst);
    return inst;
  }

  definition(machine: string, version: number): Definition {
    const d = this.machines.get(machine)?.get(version);
    if (!d) throw new CoreError('MACHINE_NOT_FOUND', `machine version not found: ${machine} v${version}`);
    return d;
  }

  instance(id: string): Instance {
    const inst = this.instances.get(id);
    if (!inst) throw new CoreError('INSTANCE_NOT_FOUND', `instance not found: ${id}`);
    return inst;
  }

  /** PUT_MACHINE: validated even when the version exists; identical re-put answers created:false. */
  putMachine(machine: string, version: number, json: unknown): { checksum: string; created: boolean } {
    let def: Definition;
    try {
      def = parseDefinition(json);
    } catch (err) {
      if (err instanceof DefinitionError) throw new CoreError('INTERNAL_ERROR', err.message);
      throw err;
    }
    const existing = this.machines.get(machine)?.get(version);
    if (existing) {
      if (existing.checksum === def.checksum) return { checksum: existing.checksum, created: false };
      throw new CoreError('MACHINE_VERSION_EXISTS', `machine version already exists: ${machine} v${version}`);
    }
    // The WAL keeps the definition as sent (a serde Value: keys sorted, unknown keys and a string `from` kept).
    this.append({ type: 'put_machine', machine, version, definition_hash: def.checksum, definition: sortKeysDeep(json) });
    this.addMachine(machine, version, def);
    return { checksum: def.checksum, created: true };
  }

  createInstance(id: string, machine: string, version: number, initialCtx: unknown, key: string | undefined): Instance {
    // The server looks in its APPLY_EVENT cache under (id, key): a hit there answers the existing instance.
    if (key !== undefined && this.idempotency.has(`${id}\u0000${key}`) && this.instances.has(id)) return this.instances.get(id)!;
    if (this.instances.has(id)) throw new CoreError('INSTANCE_EXISTS', `instance already exists: ${id}`);
    const def = this.definition(machine, version);
    const ctx = sortKeysDeep(initialCtx);
    const entry: WalEntry = { type: 'create_instance', instance_id: id, machine, version, initial_state: def.initial, initial_ctx: ctx };
    if (key !== undefined) entry.idempotency_key = key;
    const rec = this.append(entry);
    return this.addInstance(id, machine, version, def.initial, ctx, rec.offset, Date.now());
  }

  applyEvent(
    id: string,
    event: string,
    payload: unknown,
    expectedState: string | undefined,
    expectedOffset: number | undefined,
    eventId: string | undefined,
    key: string | undefined,
  ): ApplyResult {
    const cacheKey = key === undefined ? undefined : `${id}\u0000${key}`;
    const cached = cacheKey === undefined ? undefined : this.idempotency.get(cacheKey);
    if (cached) return cached;
    const inst = this.instance(id);
    if (expectedState !== undefined && inst.state !== expectedState) {
      throw new CoreError('CONFLICT', `state conflict: expected '${expectedState}', actual '${inst.state}'`);
    }
    if (expectedOffset !== undefined && inst.last_wal_offset !== expectedOffset) {
      throw new CoreError('CONFLICT', `WAL offset conflict: expected ${expectedOffset}, actual ${inst.last_wal_offset}`);
    }
    const def = this.definition(inst.machine, inst.version);
    const t = def.transitions.get(`${inst.state}\u0000${event}`);
    if (!t) throw new CoreError('INVALID_TRANSITION', `invalid transition: cannot apply '${event}' in state '${inst.state}'`);
    // Guards see the context as it was before this event's payload.
    if (t.guard && !evaluateGuard(t.guard, inst.ctx)) {
      throw new CoreError('GUARD_FAILED', `guard failed: guard failed for transition '${inst.state}' -> '${t.to}' on event '${event}'`);
    }
    const ctx = merge(inst.ctx, payload);
    const entry: WalEntry = { type: 'apply_event', instance_id: id, event, from_state: inst.state, to_state: t.to, payload: sortKeysDeep(payload), ctx };
    if (eventId !== undefined) entry.event_id = eventId;
    if (key !== undefined) entry.idempotency_key = key;
    const rec = this.append(entry);
    const result: ApplyResult = { from_state: inst.state, to_state: t.to, ctx, wal_offset: rec.offset, applied: true };
    inst.state = t.to;
    inst.ctx = ctx;
    inst.last_event_id = eventId;
    if (eventId === undefined) delete inst.last_event_id;
    inst.last_wal_offset = rec.offset;
    inst.updated_at = Date.now();
    if (cacheKey !== undefined) this.idempotency.set(cacheKey, result);
    return result;
  }

  /** Soft delete; deleting again answers the instance's last offset and writes nothing. */
  deleteInstance(id: string, key: string | undefined): number {
    const inst = this.instance(id);
    if (inst.deleted) return inst.last_wal_offset;
    const entry: WalEntry = { type: 'delete_instance', instance_id: id };
    if (key !== undefined) entry.idempotency_key = key;
    const rec = this.append(entry);
    inst.deleted = true;
    inst.last_wal_offset = rec.offset;
    inst.updated_at = Date.now();
    return rec.offset;
  }

  /** Live instances matching the filters, in hash order (not creation order): a page of them and how many match. */
  list(machine: string | undefined, state: string | undefined, offset: number, limit: number): { page: Instance[]; total: number } {
    if (!this.sorted) {
      this.ordered.sort(compare);
      this.sorted = true;
    }
    const page: Instance[] = [];
    let total = 0;
    for (const i of this.ordered) {
      if (i.deleted || (machine !== undefined && i.machine !== machine) || (state !== undefined && i.state !== state)) continue;
      if (total >= offset && page.length < limit) page.push(i);
      total++;
    }
    return { page, total };
  }

  /** WAL records from `from` (inclusive), at most `limit` (no limit when undefined). */
  readWal(from: number, limit: number | undefined): WalRecord[] {
    let lo = 0;
    let hi = this.wal.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.wal[mid].offset < from) lo = mid + 1;
      else hi = mid;
    }
    const out = limit === undefined ? this.wal.slice(lo) : this.wal.slice(lo, lo + limit);
    this.reads++;
    for (const r of out) this.bytesRead += Buffer.byteLength(JSON.stringify(r.entry)) + RECORD_HEADER;
    return out;
  }
}
