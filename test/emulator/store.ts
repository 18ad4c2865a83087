import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeDefinition, type NormalizedDefinition } from '../../src/rcp/definition';
import type { MachineDefinition, WalEntry, WalRecord } from '../../src/rcp/types';

/** Offsets carry the segment number in the high bits, like the server's (e.g. 1099511628160). */
const SEGMENT_SHIFT = 2 ** 40;
/** Small segments so tests cross segment boundaries and see offsets jump. */
const SEGMENT_BYTES = 256 * 1024;
const RECORD_OVERHEAD = 24;

export interface StoredMachine {
  definition: NormalizedDefinition;
  checksum: string;
}

export interface Instance {
  id: string;
  machine: string;
  version: number;
  state: string;
  ctx: Record<string, unknown>;
  created_at: number;
  updated_at: number;
  last_wal_offset: number;
  last_event_id?: string;
}

/** What is persisted per WAL record besides the record itself. */
interface PersistedLine {
  rec: WalRecord;
  ts: number;
  /** Idempotency bookkeeping: a key and the result it answered with. */
  idem?: { scope: string; result: unknown };
  /** The caller's event_id; the WAL entry itself does not carry it. */
  eventId?: string;
}

export function checksumOf(def: NormalizedDefinition): string {
  return createHash('sha256').update(JSON.stringify(def)).digest('hex');
}

/**
 * The database state and its WAL. Every change is one WAL record, appended to
 * `wal.jsonl` with a synchronous write before it is applied, so a SIGKILL at any
 * moment leaves a state that replays to what clients were told.
 */
export class Store {
  readonly machines = new Map<string, Map<number, StoredMachine>>();
  readonly instances = new Map<string, Instance>();
  /** machine -> state -> instance ids, in the order they entered the state. */
  private readonly byState = new Map<string, Map<string, Set<string>>>();
  readonly wal: WalRecord[] = [];
  readonly idempotency = new Map<string, unknown>();
  private segment = 1;
  private position = 0;
  private fd: number | undefined;
  /** While a BATCH in atomic mode runs: undo steps and the lines not yet written. */
  private tx: { undo: (() => void)[]; lines: string[] } | undefined;
  bytesWritten = 0;
  bytesRead = 0;
  reads = 0;
  writes = 0;
  fsyncs = 0;
  snapshots = 0;

  constructor(private readonly dir: string | undefined) {
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'wal.jsonl');
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        let parsed: PersistedLine;
        try {
          parsed = JSON.parse(line) as PersistedLine;
        } catch {
          break; // a torn last line from a kill mid-write: everything before it stands
        }
        this.applyRecord(parsed.rec, parsed.ts, parsed.eventId);
        if (parsed.idem) this.idempotency.set(parsed.idem.scope, parsed.idem.result);
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

  get totalBytes(): number {
    return this.bytesWritten;
  }

  /** Appends an entry durably, applies it, and returns its record. */
  append(
    entry: WalEntry,
    idem?: { scope: string; result: (rec: WalRecord) => unknown },
    eventId?: string,
  ): WalRecord {
    const size = Buffer.byteLength(JSON.stringify(entry)) + RECORD_OVERHEAD;
    if (this.position + size > SEGMENT_BYTES && this.position > 0) {
      this.segment++;
      this.position = 0;
    }
    const rec: WalRecord = { sequence: this.wal.length + 1, offset: this.latestOffset, entry };
    const ts = Date.now();
    const line: PersistedLine = { rec, ts };
    if (eventId !== undefined) line.eventId = eventId;
    let result: unknown;
    if (idem) {
      result = idem.result(rec);
      line.idem = { scope: idem.scope, result };
    }
    const text = JSON.stringify(line) + '\n';
    if (this.tx) {
      const tx = this.tx;
      const { segment, position } = this;
      tx.lines.push(text);
      tx.undo.push(() => {
        this.wal.pop();
        this.segment = segment;
        this.position = position;
      });
      if (idem) tx.undo.push(() => this.idempotency.delete(idem.scope));
    } else {
      this.write(text);
    }
    this.applyRecord(rec, ts, eventId);
    if (idem) this.idempotency.set(idem.scope, result);
    return rec;
  }

  private write(text: string): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, text);
    this.bytesWritten += text.length;
    this.writes++;
  }

  /** Runs fn as one unit: if it throws, every record it appended is undone and nothing reaches the file. */
  atomically<T>(fn: () => T): T {
    if (this.tx) return fn();
    const tx: { undo: (() => void)[]; lines: string[] } = { undo: [], lines: [] };
    this.tx = tx;
    try {
      const out = fn();
      this.tx = undefined;
      if (tx.lines.length) this.write(tx.lines.join(''));
      return out;
    } catch (err) {
      const { undo } = tx;
      this.tx = undefined;
      for (let i = undo.length - 1; i >= 0; i--) undo[i]();
      throw err;
    }
  }

  private onUndo(step: () => void): void {
    this.tx?.undo.push(step);
  }

  sync(): void {
    if (this.fd !== undefined) {
      fsyncSync(this.fd);
      this.fsyncs++;
    }
  }

  private stateSet(machine: string, state: string): Set<string> {
    let states = this.byState.get(machine);
    if (!states) this.byState.set(machine, (states = new Map()));
    let set = states.get(state);
    if (!set) states.set(state, (set = new Set()));
    return set;
  }

  /** Instance ids of a machine in a state (insertion order), or all of the machine's. */
  idsIn(machine: string | undefined, state: string | undefined): Iterable<string> {
    if (machine === undefined) {
      if (state === undefined) return this.instances.keys();
      const all: Set<string>[] = [];
      for (const states of this.byState.values()) {
        const s = states.get(state);
        if (s) all.push(s);
      }
      return chain(all);
    }
    const states = this.byState.get(machine);
    if (!states) return [];
    if (state !== undefined) return states.get(state) ?? [];
    return chain([...states.values()]);
  }

  countIn(machine: string | undefined, state: string | undefined): number {
    if (machine === undefined && state === undefined) return this.instances.size;
    if (machine !== undefined && state !== undefined) return this.byState.get(machine)?.get(state)?.size ?? 0;
    let n = 0;
    for (const [m, states] of this.byState) {
      if (machine !== undefined && m !== machine) continue;
      for (const [s, set] of states) if (state === undefined || s === state) n += set.size;
    }
    return n;
  }

  private applyRecord(rec: WalRecord, ts: number, eventId?: string): void {
    const e = rec.entry;
    this.wal.push(rec);
    const size = Buffer.byteLength(JSON.stringify(e)) + RECORD_OVERHEAD;
    const seg = Math.floor(rec.offset / SEGMENT_SHIFT);
    this.segment = seg;
    this.position = rec.offset - seg * SEGMENT_SHIFT + size;
    switch (e.type) {
      case 'put_machine': {
        let versions = this.machines.get(e.machine);
        if (!versions) this.machines.set(e.machine, (versions = new Map()));
        const definition = normalizeDefinition(e.definition as MachineDefinition);
        versions.set(e.version, { definition, checksum: e.definition_hash });
        const v = versions;
        this.onUndo(() => {
          v.delete(e.version);
          if (v.size === 0) this.machines.delete(e.machine);
        });
        break;
      }
      case 'create_instance': {
        const inst: Instance = {
          id: e.instance_id,
          machine: e.machine,
          version: e.version,
          state: e.initial_state,
          ctx: e.initial_ctx ?? {},
          created_at: ts,
          updated_at: ts,
          last_wal_offset: rec.offset,
        };
        this.instances.set(inst.id, inst);
        this.stateSet(inst.machine, inst.state).add(inst.id);
        this.onUndo(() => {
          this.instances.delete(inst.id);
          this.stateSet(inst.machine, inst.state).delete(inst.id);
        });
        break;
      }
      case 'apply_event': {
        const inst = this.instances.get(e.instance_id);
        if (!inst) break;
        const before = { ...inst };
        this.onUndo(() => {
          if (inst.state !== before.state) {
            this.stateSet(inst.machine, inst.state).delete(inst.id);
            this.stateSet(inst.machine, before.state).add(inst.id);
          }
          Object.assign(inst, before);
          if (before.last_event_id === undefined) delete inst.last_event_id;
        });
        if (inst.state !== e.to_state) {
          this.stateSet(inst.machine, inst.state).delete(inst.id);
          this.stateSet(inst.machine, e.to_state).add(inst.id);
        }
        inst.state = e.to_state;
        inst.ctx = e.ctx;
        inst.updated_at = ts;
        inst.last_wal_offset = rec.offset;
        if (eventId !== undefined) inst.last_event_id = eventId;
        break;
      }
      case 'delete_instance': {
        const inst = this.instances.get(e.instance_id);
        if (!inst) break;
        this.stateSet(inst.machine, inst.state).delete(inst.id);
        this.instances.delete(inst.id);
        this.onUndo(() => {
          this.instances.set(inst.id, inst);
          this.stateSet(inst.machine, inst.state).add(inst.id);
        });
        break;
      }
      case 'snapshot':
        this.snapshots++;
        break;
      default:
        break;
    }
  }

  /** WAL records from `from` (inclusive), at most `limit`. Offsets are sorted, so binary search. */
  readWal(from: number, limit: number): WalRecord[] {
    let lo = 0;
    let hi = this.wal.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.wal[mid].offset < from) lo = mid + 1;
      else hi = mid;
    }
    return this.wal.slice(lo, lo + limit);
  }
}

function* chain(sets: Iterable<string>[]): Iterable<string> {
  for (const s of sets) yield* s;
}
