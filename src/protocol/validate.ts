/**
 * Run-time guards for inspector messages. The webview is a web page: what it
 * posts is checked here before the host acts on it, and the webview checks
 * what the host sends (cheap, and it catches our own mistakes). Bounds keep a
 * misbehaving page from making the host allocate or copy without limit.
 */
import {
  PROTOCOL_VERSION,
  WAL_ENTRY_TYPES,
  type WalSnapshot,
  type HostMessage,
  type InspectorUiState,
  type InstanceSnapshot,
  type MachineSnapshot,
  type MachineUiState,
  type WebviewMessage,
} from './inspector';

export const LIMITS = {
  id: 1024,
  event: 1024,
  /** Copied text (a context value can be large, but not unbounded). */
  copy: 4 * 1024 * 1024,
  what: 32,
  clientId: 64,
  search: 1024,
  expanded: 500,
  path: 4096,
};

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStr(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max;
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isFiniteNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function onlyKeys(o: Obj, allowed: string[]): boolean {
  return Object.keys(o).every((k) => allowed.includes(k));
}

function emptyArgs(v: unknown): boolean {
  return isObj(v) && Object.keys(v).length === 0;
}

/** The persisted UI state, or undefined when it is not ours or not this version. */
export function validUiState(v: unknown): InspectorUiState | undefined {
  if (!isObj(v) || v.v !== PROTOCOL_VERSION) return undefined;
  if (!isStr(v.connection, LIMITS.id) || !v.connection || !isStr(v.instanceId, LIMITS.id) || !v.instanceId) return undefined;
  if (v.tab !== 'context' && v.tab !== 'history') return undefined;
  const state: InspectorUiState = { v: PROTOCOL_VERSION, connection: v.connection, instanceId: v.instanceId, tab: v.tab };
  const view = v.view;
  if (isObj(view) && isFiniteNum(view.k) && view.k > 0 && isFiniteNum(view.x) && isFiniteNum(view.y) && typeof view.fitted === 'boolean') {
    state.view = { k: view.k, x: view.x, y: view.y, fitted: view.fitted };
  }
  if (isId(v.selectedOffset)) state.selectedOffset = v.selectedOffset;
  if (isStr(v.search, LIMITS.search)) state.search = v.search;
  if (Array.isArray(v.expanded) && v.expanded.length <= LIMITS.expanded && v.expanded.every((p) => isStr(p, LIMITS.path))) {
    state.expanded = v.expanded as string[];
  }
  return state;
}

/** A message from the webview, or undefined when it is malformed in any way. */
export function validWebviewMessage(m: unknown): WebviewMessage | undefined {
  if (!isObj(m)) return undefined;
  if (m.t === 'ready') {
    if (!onlyKeys(m, ['t', 'v', 'clientId', 'state']) || m.v !== PROTOCOL_VERSION || !isStr(m.clientId, LIMITS.clientId)) return undefined;
    // The machine view's state is its own page's business; only the inspector's is passed on.
    const state = m.state === undefined ? undefined : validUiState(m.state);
    if (!state) return { t: 'ready', v: m.v, clientId: m.clientId };
    return { t: 'ready', v: m.v, clientId: m.clientId, ...(state ? { state } : {}) };
  }
  if (m.t !== 'request' || !onlyKeys(m, ['t', 'id', 'op', 'args']) || !isId(m.id) || !isObj(m.args)) return undefined;
  const { id, args } = m;
  switch (m.op) {
    case 'applyEvent':
      if (!onlyKeys(args, ['event'])) return undefined;
      if (args.event !== undefined && (!isStr(args.event, LIMITS.event) || !args.event)) return undefined;
      return { t: 'request', id, op: 'applyEvent', args: args.event === undefined ? {} : { event: args.event as string } };
    case 'copy':
      if (!onlyKeys(args, ['text', 'what']) || !isStr(args.text, LIMITS.copy) || !isStr(args.what, LIMITS.what)) return undefined;
      return { t: 'request', id, op: 'copy', args: { text: args.text, what: args.what } };
    case 'historyEntry':
      if (!onlyKeys(args, ['offset']) || !isId(args.offset)) return undefined;
      return { t: 'request', id, op: 'historyEntry', args: { offset: args.offset } };
    case 'showVersion':
      if (!onlyKeys(args, ['version', 'compare']) || !isId(args.version) || (args.compare !== undefined && !isId(args.compare))) return undefined;
      return { t: 'request', id, op: 'showVersion', args: { version: args.version, ...(args.compare !== undefined ? { compare: args.compare as number } : {}) } };
    case 'walQuery': {
      if (!onlyKeys(args, ['type', 'instance'])) return undefined;
      if (args.type !== undefined && !(WAL_ENTRY_TYPES as readonly unknown[]).includes(args.type)) return undefined;
      if (args.instance !== undefined && (!isStr(args.instance, LIMITS.id) || !args.instance)) return undefined;
      const filter = { ...(args.type !== undefined ? { type: args.type as (typeof WAL_ENTRY_TYPES)[number] } : {}), ...(args.instance !== undefined ? { instance: args.instance as string } : {}) };
      return { t: 'request', id, op: 'walQuery', args: filter };
    }
    case 'walOpen':
      if (!onlyKeys(args, ['offset']) || !isId(args.offset)) return undefined;
      return { t: 'request', id, op: 'walOpen', args: { offset: args.offset } };
    case 'walMore':
    case 'refresh':
    case 'openJson':
    case 'delete':
    case 'close':
      return emptyArgs(args) ? { t: 'request', id, op: m.op, args: {} } : undefined;
    default:
      return undefined;
  }
}

/** The machine view's persisted state, or undefined. */
export function validMachineState(v: unknown): MachineUiState | undefined {
  if (!isObj(v) || v.v !== PROTOCOL_VERSION || v.kind !== 'machine') return undefined;
  if (!isStr(v.connection, LIMITS.id) || !v.connection || !isStr(v.machine, LIMITS.id) || !v.machine || !isId(v.version)) return undefined;
  const state: MachineUiState = { v: PROTOCOL_VERSION, kind: 'machine', connection: v.connection, machine: v.machine, version: v.version };
  if (isId(v.compare)) state.compare = v.compare;
  const view = v.view;
  if (isObj(view) && isFiniteNum(view.k) && view.k > 0 && isFiniteNum(view.x) && isFiniteNum(view.y) && typeof view.fitted === 'boolean') {
    state.view = { k: view.k, x: view.x, y: view.y, fitted: view.fitted };
  }
  return state;
}

function validDefinition(d: unknown): boolean {
  if (!isObj(d) || !Array.isArray(d.states) || !d.states.every((x) => typeof x === 'string') || typeof d.initial !== 'string') return false;
  return Array.isArray(d.transitions) && d.transitions.every((t) => isObj(t) && Array.isArray(t.from) && t.from.every((f) => typeof f === 'string') && typeof t.event === 'string' && typeof t.to === 'string' && (t.guard === undefined || typeof t.guard === 'string'));
}

function validMachineSnapshot(s: unknown): s is MachineSnapshot {
  if (!isObj(s) || typeof s.connection !== 'string' || typeof s.machine !== 'string' || !isId(s.version)) return false;
  if (!Array.isArray(s.versions) || !s.versions.every(isId) || !validDefinition(s.definition)) return false;
  return s.compare === undefined || (isObj(s.compare) && isId(s.compare.version) && validDefinition(s.compare.definition));
}

function validWalSnapshot(s: unknown): s is WalSnapshot {
  if (!isObj(s) || typeof s.connection !== 'string' || !isObj(s.stats) || !isObj(s.filter) || !isId(s.scanned)) return false;
  if (s.nextOffset !== undefined && !isId(s.nextOffset)) return false;
  const st = s.stats;
  if (![st.entryCount, st.segmentCount, st.totalSizeBytes, st.latestOffset].every(isId)) return false;
  return Array.isArray(s.rows) && s.rows.every((r) => isObj(r) && isId(r.offset) && isId(r.sequence) && typeof r.type === 'string');
}

function validSnapshot(s: unknown): s is InstanceSnapshot {
  if (!isObj(s)) return false;
  const strings = ['connection', 'connectionState', 'instanceId', 'machine', 'state'];
  if (!strings.every((k) => typeof s[k] === 'string')) return false;
  if (!isId(s.version) || !isId(s.lastWalOffset) || typeof s.deleted !== 'boolean' || typeof s.readOnly !== 'boolean' || !isObj(s.ctx)) return false;
  if (!validDefinition(s.definition)) return false;
  if (!Array.isArray(s.outgoing) || !s.outgoing.every((o) => isObj(o) && typeof o.event === 'string' && (o.pass === null || typeof o.pass === 'boolean'))) return false;
  const h = s.history;
  if (!isObj(h) || !Array.isArray(h.rows) || typeof h.truncated !== 'boolean') return false;
  return h.rows.every((r) => isObj(r) && isId(r.offset) && typeof r.kind === 'string' && typeof r.to === 'string');
}

/** A message from the host, or undefined (the webview drops it and says so in the console). */
export function validHostMessage(m: unknown): HostMessage | undefined {
  if (!isObj(m)) return undefined;
  switch (m.t) {
    case 'snapshot':
      return isId(m.seq) && validSnapshot(m.snapshot) ? (m as HostMessage) : undefined;
    case 'machine':
      return isId(m.seq) && validMachineSnapshot(m.snapshot) ? (m as HostMessage) : undefined;
    case 'wal':
      return isId(m.seq) && validWalSnapshot(m.snapshot) ? (m as HostMessage) : undefined;
    case 'problem': {
      const p = m.problem;
      return isId(m.seq) && isObj(p) && typeof p.message === 'string' && typeof p.instanceId === 'string' && typeof p.connection === 'string' && typeof p.retry === 'boolean'
        ? (m as HostMessage)
        : undefined;
    }
    case 'progress':
      return isId(m.read) && isId(m.total) ? (m as HostMessage) : undefined;
    case 'response':
      if (!isId(m.id) || typeof m.ok !== 'boolean') return undefined;
      if (!m.ok && typeof m.error !== 'string') return undefined;
      return m as HostMessage;
    default:
      return undefined;
  }
}
