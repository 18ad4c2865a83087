import * as vscode from 'vscode';
import { describeGuardReads } from '../model/guardReads';
import { guardPreview, payloadIgnoredNote, unmergeableContextNote } from '../model/guardPreview';
import { resolvePayloadSchema, type ResolvedSchema } from '../model/payloadSchema';
import { describeError, type ServerConnection } from '../model/serverConnection';
import type { Log } from '../model/log';
import { evaluateGuard } from '../rcp/guard';
import { RcpError, type GetInstanceResult, type MachineDefinition, type Transition } from '../rcp';
import type { PayloadEditors, PayloadSession, SendOutcome } from '../views/payloadEditors';
import { refuseIfReadOnly } from './prompts';
import { readSchemaFile, schemaSettings } from './schemaSettings';
import { classifyWriteFailure, newAttemptKey } from './writeOutcome';

export interface ApplyEventDeps {
  editors: PayloadEditors;
  log: Log;
}

/** How the user is told that the WAL recorded an instance's deletion (the server still answers for it). */
export function deletedSentence(conn: ServerConnection, id: string): string {
  return `'${id}' was deleted on '${conn.name}' (the WAL records its deletion). The server still answers for a deleted instance (deletes are soft)`;
}

/** Events still apply to a deleted instance (and are broadcast): ask before doing it. */
async function confirmApplyToDeleted(conn: ServerConnection, id: string): Promise<boolean> {
  const go = 'Apply Anyway';
  const pick = await vscode.window.showWarningMessage(`${deletedSentence(conn, id)}, and applies events to it. Apply an event anyway?`, { modal: true }, go);
  return pick === go;
}

/** Whether a transition's guard passes on the context (a guard that cannot be read counts as failing). */
function guardPasses(t: Transition, ctx: unknown): boolean {
  if (t.guard === undefined || t.guard === null) return true;
  try {
    return evaluateGuard(t.guard, ctx);
  } catch {
    return false;
  }
}

/**
 * Apply Event once the instance is chosen: pick the event (those whose guard
 * passes first), then edit its payload in a payload editor whose Send applies it.
 */
export async function applyEventTo(deps: ApplyEventDeps, conn: ServerConnection, id: string, options: { event?: string; deletedConfirmed?: boolean } = {}): Promise<void> {
  if (refuseIfReadOnly(conn, 'applying an event')) return;
  let deletedConfirmed = options.deletedConfirmed ?? false;
  if (!deletedConfirmed && conn.changes.isDeleted(id)) {
    if (!(await confirmApplyToDeleted(conn, id))) return;
    deletedConfirmed = true;
  }
  let inst: GetInstanceResult;
  let def: MachineDefinition;
  try {
    const client = await conn.ensureClient();
    inst = await client.getInstance({ instance_id: id });
    def = (await conn.definition(inst.machine, inst.version)).definition;
  } catch (err) {
    void vscode.window.showErrorMessage(`Cannot apply an event to '${id}': ${describeError(err)}`);
    return;
  }
  const options_ = def.transitions.filter((t) => t.from.includes(inst.state));
  if (!options_.length) {
    void vscode.window.showInformationMessage(`'${id}' is in state '${inst.state}', which has no outgoing transitions.`);
    return;
  }
  let transition = options.event ? options_.find((t) => t.event === options.event) : undefined;
  if (options.event && !transition) {
    void vscode.window.showWarningMessage(`'${id}' is in state '${inst.state}' now, where '${options.event}' does not apply. Choose another event.`);
  }
  if (!transition) {
    // Guards see the context before the payload is merged, so each preview is what the server will decide:
    // the events that can happen now come first.
    const passing = options_.filter((t) => guardPasses(t, inst.ctx));
    const failing = options_.filter((t) => !guardPasses(t, inst.ctx));
    const item = (t: Transition) => ({ label: t.event, description: `${inst.state} → ${t.to}`, detail: guardPreview(t.guard, inst.ctx), transition: t });
    const items: (vscode.QuickPickItem & { transition?: Transition })[] = [
      ...passing.map(item),
      ...(failing.length ? [{ label: 'guard fails on the current context', kind: vscode.QuickPickItemKind.Separator }, ...failing.map(item)] : []),
    ];
    const contextNote = unmergeableContextNote(inst.ctx);
    const picked = await vscode.window.showQuickPick(items, {
      title: `Apply Event to ${id} (${inst.machine} v${inst.version}, state ${inst.state})`,
      placeHolder: contextNote ? `Event — ${contextNote}` : 'Event',
      matchOnDetail: true,
    });
    if (!picked?.transition) return;
    transition = picked.transition;
    if (!guardPasses(transition, inst.ctx) && !(await confirmFailingGuard(transition, inst))) return;
  }
  const chosen = transition;
  let schema: ResolvedSchema;
  try {
    schema = await resolvePayloadSchema({
      machine: inst.machine,
      version: inst.version,
      definition: def,
      event: chosen.event,
      ctx: inst.ctx ?? {},
      targetState: chosen.to,
      settings: schemaSettings(),
      readSchemaFile,
    });
  } catch (err) {
    void vscode.window.showErrorMessage(`Could not work out the payload schema: ${describeError(err)}`);
    return;
  }
  await deps.editors.open({
    key: `apply\u0000${conn.name}\u0000${id}\u0000${chosen.event}`,
    connection: conn.name,
    folder: id,
    name: chosen.event,
    sendLabel: `Send ${chosen.event} to ${id}`,
    schema,
    note: payloadIgnoredNote(inst.ctx),
    offerEmpty: true,
    send: (payload, session) => sendEvent(deps, conn, id, inst, chosen, payload, session, deletedConfirmed),
  });
}

/** A guard that fails now will fail on the server too (the payload is merged after): ask first. */
async function confirmFailingGuard(t: Transition, inst: GetInstanceResult): Promise<boolean> {
  const reads = describeGuardReads(t.guard!, inst.ctx);
  const go = 'Edit Payload Anyway';
  const pick = await vscode.window.showWarningMessage(
    `The guard \`${t.guard}\` reads ${reads || 'nothing it can evaluate'} and will fail.`,
    { modal: true, detail: 'Guards are checked against the context before the payload is merged, so no payload can make it pass. Events that can happen now are listed first.' },
    go,
  );
  return pick === go;
}

async function sendEvent(
  deps: ApplyEventDeps,
  conn: ServerConnection,
  id: string,
  inst: GetInstanceResult,
  t: Transition,
  payload: unknown,
  session: PayloadSession,
  deletedConfirmed: boolean,
): Promise<SendOutcome> {
  const text = JSON.stringify(payload ?? null);
  // One key per attempt. The same attempt again (same text, after an unknown outcome) keeps its key, so it cannot apply twice.
  const again = session.lastAttempt?.unknown && session.lastAttempt.text === text;
  const key = again ? session.lastAttempt!.key : newAttemptKey();
  session.lastAttempt = { text, key, unknown: false };
  let resent = false;
  const where = `'${t.event}' on '${id}' (${conn.name})`;
  try {
    const client = await conn.ensureClient();
    const r = await client.applyEvent(
      { instance_id: id, event: t.event, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }), expected_state: inst.state, idempotency_key: key },
      { onResend: () => (resent = true) },
    );
    deps.log.info(`[${conn.name}] apply ${t.event} to ${id}: ${r.from_state} → ${r.to_state}${resent ? ' (sent again after a reconnect, same idempotency key)' : ''}`);
    const inspect = 'Open Inspector';
    const ignored = payload !== undefined && Object.keys(payload as object).length ? payloadIgnoredNote(inst.ctx) : undefined;
    const done = `${id}: ${r.from_state} → ${r.to_state} on '${t.event}'.${resent ? ' The connection dropped while sending; after reconnecting it was sent again with the same idempotency key, and the server applied it once.' : ''}`;
    void (ignored ? vscode.window.showWarningMessage(`${done} ${ignored}`, inspect) : vscode.window.showInformationMessage(done, inspect)).then(
      (pick) => pick === inspect && vscode.commands.executeCommand('rstmdb.openInspector', { connection: conn.name, instanceId: id }),
    );
    return 'done';
  } catch (err) {
    const failure = classifyWriteFailure(err);
    deps.log.info(`[${conn.name}] apply ${t.event} to ${id}: ${failure.kind === 'refused' ? 'refused' : failure.kind === 'not_sent' ? 'not sent' : 'outcome unknown'} (${failure.reason})`);
    if (failure.kind === 'not_sent') {
      void vscode.window.showErrorMessage(`${where} was not sent, so nothing changed: ${failure.reason}. Your payload is still in the editor.`);
      return 'keep';
    }
    if (failure.kind === 'unknown') {
      session.lastAttempt = { text, key, unknown: true };
      const check = 'Check Instance';
      void vscode.window
        .showWarningMessage(
          `Outcome unknown: ${where} was sent, but no answer came (${failure.reason}). It may or may not have been applied. Sending the same payload again reuses its idempotency key, so it cannot apply twice.`,
          check,
        )
        .then((pick) => {
          if (pick === check) void checkInstance(conn, id, inst.state, t);
        });
      return 'keep';
    }
    await reportRefusal(deps, conn, id, inst, t, err, deletedConfirmed);
    return 'keep';
  }
}

/** After an unknown outcome: where is the instance now? */
async function checkInstance(conn: ServerConnection, id: string, before: string, t: Transition): Promise<void> {
  try {
    const now = await (await conn.ensureClient()).getInstance({ instance_id: id });
    const moved = now.state !== before;
    const inspect = 'Open Inspector';
    const pick = await vscode.window.showInformationMessage(
      moved
        ? `'${id}' is in '${now.state}' now (it was in '${before}'${now.state === t.to ? `: '${t.event}' was applied` : ''}).`
        : `'${id}' is still in '${before}': '${t.event}' was not applied.`,
      inspect,
    );
    if (pick === inspect) await vscode.commands.executeCommand('rstmdb.openInspector', { connection: conn.name, instanceId: id });
  } catch (err) {
    void vscode.window.showErrorMessage(`Could not read '${id}': ${describeError(err)}`);
  }
}

/** The server said no: say why in the user's terms, and offer the way forward that can work. */
async function reportRefusal(deps: ApplyEventDeps, conn: ServerConnection, id: string, inst: GetInstanceResult, t: Transition, err: unknown, deletedConfirmed: boolean): Promise<void> {
  const code = err instanceof RcpError ? err.code : undefined;
  const head = `'${t.event}' was not applied to '${id}'`;
  if (code === 'CONFLICT' || code === 'INVALID_TRANSITION') {
    let now: GetInstanceResult | undefined;
    try {
      now = await (await conn.ensureClient()).getInstance({ instance_id: id });
    } catch {
      // Said below without the new state.
    }
    const reload = 'Reload and Choose Again';
    const moved =
      now && now.state !== inst.state
        ? `it has moved from '${inst.state}' to '${now.state}' since you chose`
        : `the server says ${describeError(err)}`;
    const pick = await vscode.window.showWarningMessage(`${head}: ${moved}. Your payload is still in the editor.`, reload);
    if (pick === reload) await applyEventTo(deps, conn, id, { deletedConfirmed });
    return;
  }
  if (code === 'GUARD_FAILED') {
    let ctx: unknown = inst.ctx;
    try {
      ctx = (await (await conn.ensureClient()).getInstance({ instance_id: id })).ctx;
    } catch {
      // The context seen at the pick is the best we have.
    }
    const reads = t.guard ? describeGuardReads(t.guard, ctx) : '';
    const open = 'Open Instance';
    const pick = await vscode.window.showErrorMessage(
      `${head}: the guard \`${t.guard ?? '?'}\` failed${reads ? `; it reads ${reads}` : ''}. Guards are checked before the payload is merged, so changing the payload cannot make it pass: change the instance's context first.`,
      open,
    );
    if (pick === open) await vscode.commands.executeCommand('rstmdb.openInstance', { connection: conn.name, instanceId: id });
    return;
  }
  void vscode.window.showErrorMessage(`${head}: ${describeError(err)}. Your payload is still in the editor.`);
}
