import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RcpClient, UnsendableDefinitionError, type MachineDefinition } from '../../src/rcp';
import { startEmulator } from '../emulator/process';

// The real server drops the connection on a guard holding a non-ASCII character
// (rcp-notes, Guards), and so on a few other guards it fails while reading: the client refuses
// to send them, and the connection lives on.
const withGuard = (guard: string): MachineDefinition => ({ states: ['a', 'b'], initial: 'a', transitions: [{ from: 'a', event: 'go', to: 'b', guard }] });

test('a definition with a non-ASCII guard is never sent, alone or in a BATCH', { timeout: 20_000 }, async () => {
  const emu = await startEmulator();
  let client: RcpClient | undefined;
  try {
    client = await RcpClient.connect({ host: emu.host, port: emu.port, clientName: 'unsendable-test' });
    await assert.rejects(client.putMachine({ machine: 'm', version: 1, definition: withGuard('ctx.name == "José"') }), (e: unknown) => {
      assert.ok(e instanceof UnsendableDefinitionError, String(e));
      assert.match(e.message, /transition 1 was not sent: non-ASCII character 'é'.*the server drops the connection/);
      return true;
    });
    // A string ending in a backslash makes the server read past the guard's end.
    await assert.rejects(client.putMachine({ machine: 'm', version: 1, definition: withGuard('ctx.name == "abc\\') }), UnsendableDefinitionError);
    await assert.rejects(
      client.batch({ mode: 'best_effort', ops: [{ op: 'PING', params: {} }, { op: 'PUT_MACHINE', params: { machine: 'm', version: 1, definition: withGuard('ctx.ok ✓') } }] }),
      UnsendableDefinitionError,
    );
    assert.deepEqual((await client.listMachines()).items, [], 'nothing reached the server');
    assert.equal(client.state, 'ready');
    const ok = await client.putMachine({ machine: 'm', version: 1, definition: withGuard('ctx.name == "Jose"') });
    assert.equal(ok.created, true, 'an ASCII guard is sent as before');
  } finally {
    await client?.close();
    await emu.stop();
  }
});
