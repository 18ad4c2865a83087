import type { HistoryEntryDetail, HistoryRow } from '../protocol/inspector';
import type { WalReadParams, WalReadResult, WalRecord, WalStatsResult } from '../rcp/types';
import { diffContext } from './contextDiff';

/** The two WAL operations the index needs (an RcpClient has both). */
export interface WalReader {
  walRead(params: WalReadParams): Promise<WalReadResult>;
  walStats(): Promise<WalStatsResult>;
}

type Indexed = HistoryRow;

export interface HistoryIndexOptions {
  pageSize?: number;
  /** Records read so far out of about how many (WAL_STATS entry_count), after each page. */
  onProgress?: (read: number, total: number) => void;
  /** Instances that got new entries, after each catch-up that found some. */
  onChanged?: (instanceIds: Set<string>) => void;
}

const PAGE = 1000;

/**
 * Every instance's history on one connection, read from the WAL: the server
 * does not replay subscriptions, and the WAL is the record of what happened.
 * The whole log is read once, in pages; after that only what is new is read,
 * so a second inspector (or a second look) costs no second scan. Entries keep
 * only a summary; payloads and contexts are read back at their offset when asked.
 */
export class HistoryIndex {
  private cursor = 0;
  /** WAL sequence numbers are dense: the last one read tells whether a page handed in follows on. */
  private lastSequence = 0;
  private readonly byInstance = new Map<string, Indexed[]>();
  /** Last known state per instance, so a delete row can say where the instance was. */
  private readonly lastState = new Map<string, string>();
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private readonly pageSize: number;
  /** Records read in total (for tests and the bench: a second look reads nothing old again). */
  recordsRead = 0;
  /** Whether the first full read has finished. */
  complete = false;

  constructor(
    private readonly reader: () => Promise<WalReader>,
    private readonly options: HistoryIndexOptions = {},
  ) {
    this.pageSize = options.pageSize ?? PAGE;
  }

  /**
   * Reads everything the WAL holds beyond what was read, from now: a read
   * already under way may have started before what the caller wants to see,
   * so one more read is queued after it (and later callers share that one).
   */
  catchUp(): Promise<void> {
    if (this.queued) return this.queued;
    if (this.running) {
      const queued = this.running
        .catch(() => undefined)
        .then(() => {
          this.queued = undefined;
          return this.start();
        });
      this.queued = queued;
      return queued;
    }
    return this.start();
  }

  private start(): Promise<void> {
    const run = this.read().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async read(): Promise<void> {
    const reader = await this.reader();
    let total: number | undefined;
    if (!this.complete) {
      const stats = await reader.walStats();
      total = stats.entry_count;
      // A server whose log restarted below what was read (a fresh emulator, a restore): start over.
      if (stats.latest_offset < this.cursor) this.clear();
    }
    const touched = new Set<string>();
    for (;;) {
      const page = await reader.walRead({ from_offset: this.cursor, limit: this.pageSize });
      for (const rec of page.records) this.add(rec, touched);
      if (page.records.length) this.lastSequence = page.records[page.records.length - 1].sequence;
      this.recordsRead += page.records.length;
      if (total !== undefined) this.options.onProgress?.(Math.min(this.recordsRead, total), Math.max(total, this.recordsRead));
      if (page.records.length === 0 || page.next_offset === null || page.next_offset <= this.cursor) break;
      this.cursor = page.next_offset;
      if (page.records.length < this.pageSize) break;
    }
    this.complete = true;
    if (touched.size) this.options.onChanged?.(touched);
  }

  /**
   * Records someone else read (the connection's change stream follows the WAL
   * tail): taken when they follow on from what was read, so the index grows
   * with no read of its own; anything else is left to the next catch-up.
   */
  ingest(records: readonly WalRecord[]): void {
    if (!this.complete || this.running || records.length === 0) return;
    const fresh = records.filter((r) => r.sequence > this.lastSequence);
    if (fresh.length === 0 || fresh[0].sequence !== this.lastSequence + 1) return;
    const touched = new Set<string>();
    for (const rec of fresh) this.add(rec, touched);
    const last = fresh[fresh.length - 1];
    this.lastSequence = last.sequence;
    this.cursor = last.offset + 1;
    if (touched.size) this.options.onChanged?.(touched);
  }

  private add(rec: WalRecord, touched: Set<string>): void {
    const e = rec.entry;
    let row: Indexed | undefined;
    let id: string | undefined;
    if (e.type === 'create_instance') {
      id = e.instance_id;
      // An id can be created again after a delete: its history starts over.
      this.byInstance.delete(id);
      row = { offset: rec.offset, kind: 'create', to: e.initial_state, payloadSize: 0 };
    } else if (e.type === 'apply_event') {
      id = e.instance_id;
      row = { offset: rec.offset, kind: 'event', event: e.event, from: e.from_state, to: e.to_state, payloadSize: e.payload ? JSON.stringify(e.payload).length : 0 };
    } else if (e.type === 'delete_instance') {
      id = e.instance_id;
      const at = this.lastState.get(id) ?? '';
      row = { offset: rec.offset, kind: 'delete', from: at, to: at, payloadSize: 0 };
    }
    if (!row || !id) return;
    let list = this.byInstance.get(id);
    if (!list) this.byInstance.set(id, (list = []));
    // Offsets only grow; a page read twice (a retried read) must not add rows twice.
    if (list.length && list[list.length - 1].offset >= row.offset) return;
    list.push(row);
    this.lastState.set(id, row.to);
    touched.add(id);
  }

  private clear(): void {
    this.cursor = 0;
    this.lastSequence = 0;
    this.byInstance.clear();
    this.lastState.clear();
    this.recordsRead = 0;
    this.complete = false;
  }

  /** The instance's rows, newest first (empty when the WAL holds nothing of it). */
  rows(instanceId: string): HistoryRow[] {
    const list = this.byInstance.get(instanceId) ?? [];
    const out: HistoryRow[] = new Array(list.length);
    for (let i = 0; i < list.length; i++) out[list.length - 1 - i] = { ...list[i] };
    return out;
  }

  /** The WAL no longer starts with this instance's creation (it was compacted). */
  truncated(instanceId: string): boolean {
    const list = this.byInstance.get(instanceId);
    return !!list && list.length > 0 && list[0].kind !== 'create';
  }

  /** Whether the last thing the WAL says about the instance is its deletion. */
  deleted(instanceId: string): boolean {
    const list = this.byInstance.get(instanceId);
    return !!list && list.length > 0 && list[list.length - 1].kind === 'delete';
  }

  /** Payload, context and what changed in the context, for the entry at `offset`. */
  async detail(instanceId: string, offset: number): Promise<HistoryEntryDetail> {
    const list = this.byInstance.get(instanceId) ?? [];
    const at = list.findIndex((r) => r.offset === offset);
    if (at < 0) throw new Error(`no history entry of '${instanceId}' at WAL offset ${offset}`);
    const reader = await this.reader();
    const ctxAt = async (index: number): Promise<{ ctx: Record<string, unknown>; payload: Record<string, unknown> }> => {
      // A delete carries no context: it is the one before it.
      for (let i = index; i >= 0; i--) {
        const rec = (await reader.walRead({ from_offset: list[i].offset, limit: 1 })).records[0];
        if (!rec || rec.offset !== list[i].offset) throw new Error(`the WAL no longer holds offset ${list[i].offset}`);
        const e = rec.entry;
        if (e.type === 'create_instance') return { ctx: e.initial_ctx ?? {}, payload: {} };
        if (e.type === 'apply_event') return { ctx: e.ctx ?? {}, payload: i === index ? (e.payload ?? {}) : {} };
      }
      return { ctx: {}, payload: {} };
    };
    const now = await ctxAt(at);
    const before = at > 0 ? (await ctxAt(at - 1)).ctx : {};
    return { offset, payload: now.payload, ctx: now.ctx, changes: diffContext(before, now.ctx) };
  }
}
