import type { InstanceSummary } from '../rcp/types';

/**
 * How a state's rows are ordered: as listed (live arrivals on top, then the
 * server's order), last updated first, or by id. Only the rows loaded so far
 * are sorted: the server lists in its own order and cannot sort.
 */
export type InstanceSort = 'listed' | 'updated' | 'id';

const byId = new Intl.Collator(undefined, { numeric: true });

export function sortRows(rows: InstanceSummary[], sort: InstanceSort): InstanceSummary[] {
  if (sort === 'updated') return [...rows].sort((a, b) => b.updated_at - a.updated_at || byId.compare(a.id, b.id));
  if (sort === 'id') return [...rows].sort((a, b) => byId.compare(a.id, b.id));
  return rows;
}

/** What the user chose per state, remembered per workspace (a Memento-like store). */
export class SortMemory {
  static readonly KEY = 'rstmdb.instanceSort';

  constructor(private readonly store: { get<T>(key: string): T | undefined; update(key: string, value: unknown): Thenable<void> | Promise<void> }) {}

  get(stateKey: string): InstanceSort {
    return this.store.get<Record<string, InstanceSort>>(SortMemory.KEY)?.[stateKey] ?? 'listed';
  }

  async set(stateKey: string, sort: InstanceSort): Promise<void> {
    const all = { ...(this.store.get<Record<string, InstanceSort>>(SortMemory.KEY) ?? {}) };
    if (sort === 'listed') delete all[stateKey];
    else all[stateKey] = sort;
    await this.store.update(SortMemory.KEY, all);
  }
}
