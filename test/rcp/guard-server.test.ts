import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RcpClient, RcpError } from '../../src/rcp';
import { evaluateGuard, GuardSyntaxError, readGuard } from '../../src/rcp/guard';
import { startEmulator } from '../emulator/process';

// The guard module and the emulator's own guard parser (written separately, from the same
// description of the server) must agree: a guard one accepts the other accepts, and on every
// context the transition fires on one exactly when it fires on the other. A disagreement is a bug
// on one side, to be settled against the server's source.

// Guards built from the grammar (with a tail the server ignores, sometimes), pieces of it thrown
// together, and plain random text: enough of each outcome (rejected, accepted, fired, refused).
const FIELD = fc.constantFrom('ctx.a', 'ctx.b', 'ctx.b.c', 'ctx.0', 'ctx.a.0', 'ctx.constructor', 'ctx.a..c');
const LITERAL = fc.constantFrom('1', '1.5', '-2', '0', '.5', '1e3', 'true', 'false', 'null', 'nullx', '"x"', '""', '"\\""');
const NUMBER = fc.constantFrom('1', '1.5', '-2', '0', '.5', '1.', '3e1', '-.5');
const SP = fc.constantFrom('', ' ', '  ', '\t');
const COMPARE = fc.oneof(
  FIELD,
  fc.tuple(FIELD, SP, fc.constantFrom('==', '!='), SP, LITERAL).map((p) => p.join('')),
  fc.tuple(FIELD, SP, fc.constantFrom('>', '>=', '<', '<='), SP, NUMBER).map((p) => p.join('')),
);
const { expr: EXPR } = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small' },
    COMPARE,
    fc.tuple(tie('expr'), SP, fc.constantFrom('&&', '||'), SP, tie('expr')).map((p) => p.join('')),
    tie('expr').map((e) => `!${e}`),
    tie('expr').map((e) => `(${e})`),
  ),
}));
const TAIL = fc.constantFrom('', '', '', ' and ctx.b', ' = 1', ')', ' | ctx.a', '(');
const PIECES = ['ctx.', 'ctx.a', 'ctx.b.c', 'ctx.0', 'a', '.', '0', '1.5', '-2', ' ', '==', '!=', '>', '>=', '<', '<=', '=', '!', '&&', '||', '(', ')', '"x"', '"\\"', '\\', 'true', 'null', 'e3'];
const GUARD = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(EXPR, TAIL).map(([e, t]) => e + t) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 8 }).map((p) => p.join('')) },
  fc.string({ unit: 'grapheme-ascii', maxLength: 16 }),
);
const VALUE = fc.oneof(fc.constant(null), fc.boolean(), fc.constantFrom(0, 1, 1.5, -2, 3), fc.constantFrom('', 'x', '\\"'), fc.constantFrom([], [1], {}, { c: 1 }));
const CTX = fc.oneof(fc.constant(null), fc.record({ a: VALUE, b: fc.oneof(VALUE, fc.record({ c: VALUE })), 0: VALUE }, { requiredKeys: [] }));

test('the guard module and the emulator agree on what parses and on every context', { timeout: 120_000 }, async (t) => {
  const emu = await startEmulator();
  let client: RcpClient | undefined;
  try {
    client = await RcpClient.connect({ host: emu.host, port: emu.port, clientName: 'guard-agreement' });
    const c = client;
    // Only an emulator that answers an invalid definition as the server does (INTERNAL_ERROR) has its own parser to compare with.
    const probe = await c.putMachine({ machine: 'probe', version: 1, definition: { states: ['a'], initial: 'a', transitions: [{ from: 'a', event: 'go', to: 'a', guard: '1 == 1' }] } }).then(
      () => 'accepted',
      (e: unknown) => (e instanceof RcpError ? e.code : String(e)),
    );
    if (probe !== 'INTERNAL_ERROR') {
      t.skip(`this emulator answers an invalid guard with ${probe}, not as the server does`);
      return;
    }
    let n = 0;
    const seen = { accepted: 0, rejected: 0, fired: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(GUARD, fc.array(CTX, { minLength: 1, maxLength: 3 }), async (guard, contexts) => {
        const machine = `g${n++}`;
        const definition = { states: ['a', 'b'], initial: 'a', transitions: [{ from: 'a', event: 'go', to: 'b', guard }] };
        let parses = true;
        try {
          readGuard(guard);
        } catch (e) {
          // The server drops the connection on these instead of answering; the client never sends them.
          if (e instanceof GuardSyntaxError && e.breaksConnection) return;
          parses = false;
        }
        const put = await c.putMachine({ machine, version: 1, definition }).then(
          () => true,
          (e: unknown) => {
            // Every invalid definition is INTERNAL_ERROR on the server.
            assert.ok(e instanceof RcpError && e.code === 'INTERNAL_ERROR', `${JSON.stringify(guard)}: ${String(e)}`);
            return false;
          },
        );
        assert.equal(put, parses, `${JSON.stringify(guard)}: the emulator ${put ? 'accepts' : 'rejects'} it, the guard module ${parses ? 'accepts' : 'rejects'} it`);
        seen[put ? 'accepted' : 'rejected']++;
        if (!put) return;
        await Promise.all(
          contexts.map(async (ctx, i) => {
            const id = `${machine}-${i}`;
            await c.createInstance({ machine, version: 1, instance_id: id, ...(ctx === null ? {} : { initial_ctx: ctx }) });
            const fired = await c.applyEvent({ instance_id: id, event: 'go' }).then(
              () => true,
              (e: unknown) => {
                assert.ok(e instanceof RcpError && e.code === 'GUARD_FAILED', String(e));
                return false;
              },
            );
            assert.equal(fired, evaluateGuard(guard, ctx), `${JSON.stringify(guard)} on ${JSON.stringify(ctx)}`);
            seen[fired ? 'fired' : 'refused']++;
          }),
        );
      }),
      // A fixed seed: the same few hundred cases every run, so a failure is reproducible.
      { numRuns: 400, seed: Number(process.env.GUARD_SEED ?? 9) },
    );
    // The generators reach every outcome often enough for the agreement to mean something.
    for (const [outcome, count] of Object.entries(seen)) assert.ok(count >= 40, `only ${count} cases ${outcome}: ${JSON.stringify(seen)}`);
  } finally {
    await client?.close();
    await emu.stop();
  }
});
