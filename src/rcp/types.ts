/** Protocol shapes (rcp-notes: Envelope, Operations). Params are snake_case as on the wire. */

export type WireMode = 'binary_json' | 'jsonl';

export interface RequestEnvelope {
  type: 'request';
  id: string;
  op: string;
  params?: Record<string, unknown>;
}

export interface WireError {
  code: string;
  message: string;
  retryable: boolean;
  details?: unknown;
}

export interface ResponseEnvelope {
  type: 'response';
  id: string;
  status: 'ok' | 'error';
  result?: unknown;
  error?: WireError;
  meta?: Record<string, unknown>;
}

export interface RcpEvent {
  type: 'event';
  subscription_id: string;
  instance_id: string;
  machine: string;
  version: number;
  event: string;
  from_state: string;
  to_state: string;
  payload?: Record<string, unknown>;
  ctx?: Record<string, unknown>;
  wal_offset: number;
}

export interface Transition {
  from: string | string[];
  event: string;
  to: string;
  guard?: string;
}

export interface MachineDefinition {
  states: string[];
  initial: string;
  transitions: Transition[];
  meta?: Record<string, unknown>;
}

export interface HelloResult {
  protocol_version: number;
  wire_mode: WireMode;
  server_name: string;
  server_version: string;
  features: string[];
}

export interface InfoResult {
  server_name: string;
  server_version: string;
  protocol_version: number;
  features: string[];
  max_frame_bytes: number;
  max_batch_ops: number;
}

export interface PutMachineParams {
  machine: string;
  version: number;
  definition: MachineDefinition;
  checksum?: string;
}
export interface PutMachineResult {
  machine: string;
  version: number;
  stored_checksum: string;
  created: boolean;
}

export interface GetMachineParams {
  machine: string;
  version: number;
}
export interface GetMachineResult {
  definition: MachineDefinition & { transitions: (Transition & { from: string[] })[] };
  checksum: string;
}

export interface ListMachinesResult {
  items: { machine: string; versions: number[] }[];
}

export interface CreateInstanceParams {
  machine: string;
  version: number;
  instance_id?: string;
  initial_ctx?: Record<string, unknown>;
  idempotency_key?: string;
}
export interface CreateInstanceResult {
  instance_id: string;
  state: string;
  wal_offset: number;
}

export interface GetInstanceParams {
  instance_id: string;
}
export interface GetInstanceResult {
  machine: string;
  version: number;
  state: string;
  ctx: Record<string, unknown>;
  last_event_id?: string;
  last_wal_offset: number;
}

export interface ListInstancesParams {
  machine?: string;
  state?: string;
  limit?: number;
  offset?: number;
}
export interface InstanceSummary {
  id: string;
  machine: string;
  version: number;
  state: string;
  /** Unix milliseconds. */
  created_at: number;
  /** Unix milliseconds. */
  updated_at: number;
  last_wal_offset: number;
}
export interface ListInstancesResult {
  instances: InstanceSummary[];
  total: number;
  has_more: boolean;
}

export interface DeleteInstanceParams {
  instance_id: string;
  idempotency_key?: string;
}
export interface DeleteInstanceResult {
  instance_id: string;
  deleted: boolean;
  wal_offset: number;
}

export interface ApplyEventParams {
  instance_id: string;
  event: string;
  payload?: Record<string, unknown>;
  expected_state?: string;
  expected_wal_offset?: number;
  event_id?: string;
  idempotency_key?: string;
}
export interface ApplyEventResult {
  from_state: string;
  to_state: string;
  ctx: Record<string, unknown>;
  wal_offset: number;
  applied: boolean;
  event_id?: string;
}

export interface BatchParams {
  mode: 'atomic' | 'best_effort';
  ops: { op: string; params: Record<string, unknown> }[];
}
export interface BatchResult {
  results: { status: 'ok' | 'error'; result: unknown; error: WireError | null }[];
}

export interface WatchInstanceParams {
  instance_id: string;
  include_ctx?: boolean;
  from_offset?: number;
}
export interface WatchInstanceResult {
  subscription_id: string;
  instance_id: string;
  current_state: string;
  current_wal_offset: number;
}

export interface WatchAllParams {
  machines?: string[];
  events?: string[];
  from_states?: string[];
  to_states?: string[];
  include_ctx?: boolean;
  from_offset?: number;
}
export interface WatchAllResult {
  subscription_id: string;
  wal_offset: number;
}

export interface UnwatchResult {
  subscription_id: string;
  removed: boolean;
}

export interface SnapshotInstanceResult {
  instance_id: string;
  snapshot_id: string;
  wal_offset: number;
  size_bytes?: number;
  checksum?: string;
}

export type WalEntry =
  | { type: 'put_machine'; machine: string; version: number; definition: MachineDefinition; definition_hash: string }
  | {
      type: 'create_instance';
      instance_id: string;
      machine: string;
      version: number;
      initial_state: string;
      initial_ctx: Record<string, unknown>;
    }
  | {
      type: 'apply_event';
      instance_id: string;
      event: string;
      from_state: string;
      to_state: string;
      payload: Record<string, unknown>;
      ctx: Record<string, unknown>;
    }
  | { type: 'delete_instance'; instance_id: string }
  | { type: 'snapshot'; [k: string]: unknown }
  | { type: 'checkpoint'; [k: string]: unknown };

export interface WalRecord {
  sequence: number;
  offset: number;
  entry: WalEntry;
}

export interface WalReadParams {
  from_offset: number;
  limit?: number;
}
export interface WalReadResult {
  records: WalRecord[];
  /** null when there are no records (rcp-notes: Lists, WAL, watches). */
  next_offset: number | null;
}

export interface WalStatsResult {
  entry_count: number;
  segment_count: number;
  total_size_bytes: number;
  latest_offset: number;
  io_stats: { bytes_written: number; bytes_read: number; writes: number; reads: number; fsyncs: number };
}

export interface CompactParams {
  force_snapshot?: boolean;
}
export interface CompactResult {
  snapshots_created: number;
  segments_deleted: number;
  bytes_reclaimed: number;
  total_snapshots: number;
  wal_segments: number;
}
