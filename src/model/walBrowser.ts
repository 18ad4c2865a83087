import type { WalFilter, WalRow } from '../protocol/inspector';
import type { WalRecord } from '../rcp/types';
import type { WalReader } from './historyIndex';

/** A WAL record as a row: what it concerns, without its payload or context. */
export function walRow(rec: WalRecord): WalRow {
  const e = rec.entry;
  const base = { offset: rec.offset, sequence: rec.sequence, type: e.type };
  switch (e.type) {
    case 'put_machine':
      return { ...base, machine: e.machine, version: e.version };
    case 'create_instance':
      return { ...base, instanceId: e.instance_id, machine: e.machine, version: e.version, to: e.initial_state };
    case 'apply_event':
      return { ...base, instanceId: e.instance_id, event: e.event, from: e.from_state, to: e.to_state };
    case 'delete_instance':
      return { ...base, instanceId: e.instance_id };
    default: {
      const id = (e as { instance_id?: unknown }).instance_id;
      return typeof id === 'string' ? { ...base, instanceId: id } : base;
    }
  }
}

export function matches(row: WalRow, f: WalFilter): boolean {
  return (!f.type || row.type === f.type) && (!f.instance || row.instanceId === f.instance);
}

const PAGE = 1000;

/**
 * Pages through the WAL from the start, following next_offset, keeping the
 * records that pass a filter: a page of results may take several WAL reads
 * (a rare instance in a long log), bounded so one click never reads forever.
 */
export class WalBrowser {
  rows: WalRow[] = [];
  scanned = 0;
  /** Where the next read starts; undefined at the end of the log. */
  next: number | undefined = 0;

  constructor(
    private readonly reader: () => Promise<WalReader>,
    readonly filter: WalFilter,
    private readonly want = 200,
    private readonly maxScan = 50_000,
  ) {}

  /** Reads until `want` more matches, the end of the log, or `maxScan` records. */
  async more(): Promise<void> {
    if (this.next === undefined) return;
    const reader = await this.reader();
    let found = 0;
    let scanned = 0;
    while (this.next !== undefined && found < this.want && scanned < this.maxScan) {
      const from = this.next;
      const page = await reader.walRead({ from_offset: from, limit: PAGE });
      let read = 0;
      let stoppedAt: number | undefined;
      for (const rec of page.records) {
        read++;
        const row = walRow(rec);
        if (matches(row, this.filter)) {
          this.rows.push(row);
          if (++found >= this.want) {
            // The next page starts just after this record (from_offset is inclusive).
            stoppedAt = rec.offset + 1;
            break;
          }
        }
      }
      scanned += read;
      this.scanned += read;
      if (stoppedAt !== undefined) this.next = stoppedAt;
      else if (page.records.length === 0 || page.next_offset === null || page.next_offset <= from) this.next = undefined;
      else this.next = page.next_offset;
      // A short page is the end of the log (for now).
      if (stoppedAt === undefined && page.records.length < PAGE) this.next = undefined;
    }
  }
}
