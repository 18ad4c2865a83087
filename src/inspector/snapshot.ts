import type { ConnectionState, DefinitionView, GuardVerdict, HistoryView, InstanceSnapshot } from '../protocol/inspector';
import { evaluateGuard } from '../rcp/guard';
import type { GetInstanceResult, InstanceSummary, MachineDefinition } from '../rcp/types';

export interface SnapshotInput {
  connection: string;
  connectionState: ConnectionState;
  readOnly: boolean;
  instanceId: string;
  instance: GetInstanceResult;
  definition: MachineDefinition;
  summary?: InstanceSummary;
  deleted: boolean;
  history: HistoryView;
}

function fromList(from: string | string[]): string[] {
  return Array.isArray(from) ? from : [from];
}

/** The machine as the diagram draws it (every `from` an array). */
export function definitionView(def: MachineDefinition): DefinitionView {
  return {
    states: [...def.states],
    initial: def.initial,
    transitions: def.transitions.map((t) => ({ from: fromList(t.from), event: t.event, to: t.to, ...(t.guard ? { guard: t.guard } : {}) })),
  };
}

/**
 * The current state's way out, each marked by the extension's own guard
 * evaluation against the context as it is now (the server checks guards
 * before merging the payload, so this is what the server will decide).
 */
export function outgoingVerdicts(def: MachineDefinition, state: string, ctx: unknown): GuardVerdict[] {
  return def.transitions
    .filter((t) => fromList(t.from).includes(state))
    .map((t) => {
      if (!t.guard) return { event: t.event, to: t.to, pass: true };
      try {
        return { event: t.event, to: t.to, guard: t.guard, pass: evaluateGuard(t.guard, ctx) };
      } catch (err) {
        return { event: t.event, to: t.to, guard: t.guard, pass: null, error: err instanceof Error ? err.message : String(err) };
      }
    });
}

export function buildSnapshot(i: SnapshotInput): InstanceSnapshot {
  const ctx = i.instance.ctx && typeof i.instance.ctx === 'object' ? i.instance.ctx : {};
  return {
    connection: i.connection,
    connectionState: i.connectionState,
    readOnly: i.readOnly,
    instanceId: i.instanceId,
    machine: i.instance.machine,
    version: i.instance.version,
    state: i.instance.state,
    ctx,
    lastWalOffset: i.instance.last_wal_offset,
    ...(i.summary ? { createdAt: i.summary.created_at, updatedAt: i.summary.updated_at } : {}),
    deleted: i.deleted,
    definition: definitionView(i.definition),
    // A deleted instance takes no more events.
    outgoing: i.deleted ? [] : outgoingVerdicts(i.definition, i.instance.state, ctx),
    history: i.history,
  };
}

export function panelTitle(instanceId: string, machine?: string, version?: number): string {
  return machine ? `${instanceId} · ${machine} v${version}` : instanceId;
}
