/**
 * Messages between the inspector's host (src/inspector) and its webview
 * (src/webview). Imports nothing, so both sides compile it; src/protocol/validate.ts
 * checks every message at run time on the side that receives it.
 */

export const PROTOCOL_VERSION = 1;
export const INSPECTOR_VIEW_TYPE = 'rstmdb.inspector';
export const MACHINE_VIEW_TYPE = 'rstmdb.machineView';
export const WAL_VIEW_TYPE = 'rstmdb.walExplorer';

export interface DefinitionView {
  states: string[];
  initial: string;
  transitions: { from: string[]; event: string; to: string; guard?: string }[];
}

/** One outgoing transition of the current state, with the extension's guard verdict. */
export interface GuardVerdict {
  event: string;
  to: string;
  guard?: string;
  /** true passes, false fails, null when the guard cannot be evaluated (see error). */
  pass: boolean | null;
  error?: string;
}

export type HistoryKind = 'create' | 'event' | 'delete';

/** A history row: what the WAL says happened to the instance at one offset. */
export interface HistoryRow {
  offset: number;
  kind: HistoryKind;
  event?: string;
  from?: string;
  to: string;
  /** Bytes of the payload as JSON (0 when none). */
  payloadSize: number;
}

export interface HistoryView {
  /** Newest first. */
  rows: HistoryRow[];
  /** Still reading the WAL: records read so far out of about how many. */
  progress?: { read: number; total: number };
  /** The WAL no longer holds this instance's creation (compacted): history starts later. */
  truncated: boolean;
  /** Why history could not be read (no wal_read feature, an error). */
  unavailable?: string;
}

export type ConnectionState = 'connecting' | 'ready' | 'reconnecting' | 'disconnected' | 'failed';

export interface InstanceSnapshot {
  connection: string;
  connectionState: ConnectionState;
  readOnly: boolean;
  instanceId: string;
  machine: string;
  version: number;
  state: string;
  ctx: Record<string, unknown>;
  lastWalOffset: number;
  /** Unix milliseconds, when the server listed them. */
  createdAt?: number;
  updatedAt?: number;
  deleted: boolean;
  definition: DefinitionView;
  outgoing: GuardVerdict[];
  history: HistoryView;
}

/** What the webview shows instead of an instance (not found, connection down). */
export interface InstanceProblem {
  connection: string;
  instanceId: string;
  message: string;
  /** The page offers to retry (a connection problem) rather than only to close. */
  retry: boolean;
}

export interface ContextChange {
  /** JSON path segments from the context root. */
  path: (string | number)[];
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

export interface HistoryEntryDetail {
  offset: number;
  payload: Record<string, unknown>;
  ctx: Record<string, unknown>;
  /** Against the entry before it; for the creation, everything is added. */
  changes: ContextChange[];
}

/** UI state the webview keeps through getState/setState (and so through a window reload). */
export interface InspectorUiState {
  v: number;
  connection: string;
  instanceId: string;
  tab: 'context' | 'history';
  view?: { k: number; x: number; y: number; fitted: boolean };
  selectedOffset?: number;
  search?: string;
  expanded?: string[];
}

/** A machine version for the machine view, and optionally another version to compare it with. */
export interface MachineSnapshot {
  connection: string;
  machine: string;
  version: number;
  /** Every version the server has, ascending. */
  versions: number[];
  definition: DefinitionView;
  compare?: { version: number; definition: DefinitionView };
}

/** The machine view's UI state (kept through a window reload). */
export interface MachineUiState {
  v: number;
  kind: 'machine';
  connection: string;
  machine: string;
  version: number;
  compare?: number;
  view?: { k: number; x: number; y: number; fitted: boolean };
}

export const WAL_ENTRY_TYPES = ['put_machine', 'create_instance', 'apply_event', 'delete_instance', 'snapshot', 'checkpoint'] as const;
export type WalEntryType = (typeof WAL_ENTRY_TYPES)[number];

/** One WAL record as the WAL explorer lists it. */
export interface WalRow {
  offset: number;
  sequence: number;
  type: string;
  instanceId?: string;
  machine?: string;
  version?: number;
  event?: string;
  from?: string;
  to?: string;
}

export interface WalFilter {
  type?: WalEntryType;
  /** Exact instance id. */
  instance?: string;
}

export interface WalSnapshot {
  connection: string;
  stats: { entryCount: number; segmentCount: number; totalSizeBytes: number; latestOffset: number };
  rows: WalRow[];
  filter: WalFilter;
  /** Records read so far for this listing (matching or not). */
  scanned: number;
  /** Where the next page starts; absent at the end of the log. */
  nextOffset?: number;
}

export type RequestOp =
  | { op: 'applyEvent'; args: { event?: string } }
  | { op: 'refresh'; args: Record<string, never> }
  | { op: 'copy'; args: { text: string; what: string } }
  | { op: 'openJson'; args: Record<string, never> }
  | { op: 'delete'; args: Record<string, never> }
  | { op: 'close'; args: Record<string, never> }
  | { op: 'historyEntry'; args: { offset: number } }
  | { op: 'showVersion'; args: { version: number; compare?: number } }
  | { op: 'walQuery'; args: WalFilter }
  | { op: 'walMore'; args: Record<string, never> }
  | { op: 'walOpen'; args: { offset: number } };

export type RequestResult<O extends RequestOp['op']> = O extends 'historyEntry' ? HistoryEntryDetail : null;

export type WebviewMessage =
  | { t: 'ready'; v: number; clientId: string; state?: InspectorUiState }
  | ({ t: 'request'; id: number } & RequestOp);

export type HostMessage =
  | { t: 'snapshot'; seq: number; snapshot: InstanceSnapshot }
  | { t: 'machine'; seq: number; snapshot: MachineSnapshot }
  | { t: 'wal'; seq: number; snapshot: WalSnapshot }
  | { t: 'problem'; seq: number; problem: InstanceProblem }
  | { t: 'progress'; read: number; total: number }
  | { t: 'response'; id: number; ok: true; result: unknown }
  | { t: 'response'; id: number; ok: false; error: string };
