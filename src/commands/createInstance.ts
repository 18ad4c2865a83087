import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import * as vscode from 'vscode';
import { resolvePayloadSchema } from '../model/payloadSchema';
import { describeError, type ServerConnection } from '../model/serverConnection';
import { RcpError } from '../rcp';
import type { ApplyEventDeps } from './applyEvent';
import { readSchemaFile, schemaSettings } from './schemaSettings';
import { classifyWriteFailure, newAttemptKey } from './writeOutcome';

/**
 * Asks for the new instance's id and checks it at once: an id the server
 * already has (deleted ones included: deletes are soft) is refused here, with
 * the box kept open and what was typed kept, before any context is typed.
 * Empty means the id in the placeholder, chosen here (the server ignores
 * CREATE_INSTANCE's idempotency key, so a create is safe to resend only with an id).
 */
async function askNewId(conn: ServerConnection, machine: string, version: number, value = ''): Promise<string | undefined> {
  const generated = randomUUID();
  const box = vscode.window.createInputBox();
  box.title = `Create ${machine} v${version} instance: id`;
  box.prompt = 'Instance id (leave empty for the new id shown)';
  box.placeholder = generated;
  box.value = value;
  box.ignoreFocusOut = true;
  return new Promise<string | undefined>((resolve) => {
    let done = false;
    const finish = (v: string | undefined) => {
      if (done) return;
      done = true;
      resolve(v);
      box.dispose();
    };
    box.onDidChangeValue(() => (box.validationMessage = undefined));
    box.onDidHide(() => finish(undefined));
    box.onDidAccept(async () => {
      const id = box.value.trim() || generated;
      box.busy = true;
      box.enabled = false;
      try {
        const found = await (await conn.ensureClient()).getInstance({ instance_id: id });
        box.validationMessage = `'${id}' already exists (${found.machine} v${found.version}, in '${found.state}'${conn.changes.isDeleted(id) ? ', deleted' : ''}). Choose another id, or leave it empty for a new one.`;
      } catch (err) {
        if (err instanceof RcpError && err.code === 'INSTANCE_NOT_FOUND') finish(id);
        else box.validationMessage = `Could not check the id: ${describeError(err)}`;
      } finally {
        box.busy = false;
        box.enabled = true;
      }
    });
    box.show();
  });
}

/** Create Instance after machine and version are chosen: the id, then the initial context in a payload editor. */
export async function createInstanceOf(deps: ApplyEventDeps, conn: ServerConnection, machine: string, version: number, idTyped?: string): Promise<void> {
  const id = await askNewId(conn, machine, version, idTyped);
  if (id === undefined) return;
  let definition;
  try {
    definition = (await conn.definition(machine, version)).definition;
  } catch (err) {
    void vscode.window.showErrorMessage(`Could not read ${machine} v${version}: ${describeError(err)}`);
    return;
  }
  const schema = await resolvePayloadSchema({ machine, version, definition, targetState: definition.initial, settings: schemaSettings(), readSchemaFile });
  await deps.editors.open({
    // Per machine version, not per id: choosing another id keeps the context typed.
    key: `create\u0000${conn.name}\u0000${machine}\u0000${version}`,
    connection: conn.name,
    folder: id,
    name: 'initial-context',
    sendLabel: `Create ${id} (${machine} v${version})`,
    schema,
    // Without initial_ctx the server keeps the context null forever (payloads never merge): not offered.
    offerEmpty: false,
    send: async (ctx, session) => {
      const text = JSON.stringify(ctx);
      const key = session.lastAttempt?.unknown && session.lastAttempt.text === text ? session.lastAttempt.key : newAttemptKey();
      session.lastAttempt = { text, key, unknown: false };
      let resent = false;
      const initial = ctx as Record<string, unknown>;
      const tell = (state: string, note = '') => {
        deps.log.info(`[${conn.name}] create ${id} (${machine} v${version}) in '${state}'${note ? ` ${note}` : ''}`);
        void vscode.window.showInformationMessage(`Created ${id} (${machine} v${version}) in state '${state}'.${note ? ` ${note}` : ''}`);
      };
      try {
        const client = await conn.ensureClient();
        const created = await client.createInstance({ machine, version, instance_id: id, initial_ctx: initial, idempotency_key: key }, { onResend: () => (resent = true) });
        // Applied now; the stream skips the WAL's record of it (applied once).
        conn.changes.told({ kind: 'created', offset: created.wal_offset, instanceId: created.instance_id, machine, version, state: created.state });
        tell(created.state, resent ? 'The connection dropped while sending; it was sent again after reconnecting and created once.' : '');
        return 'done';
      } catch (err) {
        if (err instanceof RcpError && err.code === 'INSTANCE_EXISTS') return instanceExists(deps, conn, machine, version, id, initial, resent || session.lastAttempt.unknown, tell);
        const failure = classifyWriteFailure(err);
        deps.log.info(`[${conn.name}] create ${id}: ${failure.kind === 'not_sent' ? 'not sent' : failure.kind === 'unknown' ? 'outcome unknown' : 'refused'} (${failure.reason})`);
        if (failure.kind === 'unknown') {
          session.lastAttempt = { text, key, unknown: true };
          void vscode.window.showWarningMessage(
            `Outcome unknown: creating '${id}' was sent, but no answer came (${failure.reason}). Create again: the id is the same, so it cannot create a second instance, and it tells you whether the first one was created.`,
          );
        } else {
          void vscode.window.showErrorMessage(`'${id}' was ${failure.kind === 'not_sent' ? 'not sent, so nothing was created' : 'not created'}: ${failure.reason}. Your context is still in the editor.`);
        }
        return 'keep';
      }
    },
  });
}

/**
 * INSTANCE_EXISTS for the id chosen: after a resend (or a retry of an unknown
 * outcome) it may be our own first create. It counts as created only when the
 * server's instance is this machine version with exactly the context sent.
 */
async function instanceExists(
  deps: ApplyEventDeps,
  conn: ServerConnection,
  machine: string,
  version: number,
  id: string,
  initial: Record<string, unknown>,
  mayBeOurs: boolean,
  tell: (state: string, note: string) => void,
): Promise<'done' | 'keep'> {
  try {
    const found = await (await conn.ensureClient()).getInstance({ instance_id: id });
    if (mayBeOurs && found.machine === machine && found.version === version && isDeepStrictEqual(found.ctx ?? {}, initial)) {
      tell(found.state, 'The first attempt had created it (the server answered the repeat with INSTANCE_EXISTS, and its machine, version and context are what was sent).');
      return 'done';
    }
    const other = 'Choose Another Id';
    const pick = await vscode.window.showErrorMessage(
      `'${id}' already exists (${found.machine} v${found.version}, in '${found.state}'), and it is not the one you sent: nothing was created. Your context is kept.`,
      other,
    );
    if (pick === other) await createInstanceOf(deps, conn, machine, version, '');
  } catch (err) {
    void vscode.window.showErrorMessage(`'${id}' already exists, and could not be read: ${describeError(err)}`);
  }
  return 'keep';
}
