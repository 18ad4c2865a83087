import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient, RcpConnectionError } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { startProxy } from './proxy';

const FLOW = { states: ['a', 'b', 'c'], initial: 'a', transitions: [{ from: 'a', event: 'go', to: 'b' }, { from: 'b', event: 'go', to: 'c' }] };

/** apply_event records of one instance in the WAL. */
async function appliesOf(c: RcpClient, id: string): Promise<number> {
  let n = 0;
  for (let from = 0; ; ) {
    const page = await c.walRead({ from_offset: from, limit: 1000 });
    n += page.records.filter((r) => r.entry.type === 'apply_event' && r.entry.instance_id === id).length;
    if (page.next_offset === null || !page.records.length) return n;
    from = page.next_offset;
  }
}

describe('writes that are safe to repeat, and writes that were never sent', () => {
  let emu: EmulatorProcess;
  let direct: RcpClient;

  before(async () => {
    emu = await startEmulator();
    direct = await RcpClient.connect({ host: emu.host, port: emu.port });
    await direct.putMachine({ machine: 'flow', version: 1, definition: FLOW });
  });
  after(async () => {
    await direct?.close();
    await emu?.stop();
  });

  test('an APPLY_EVENT with a key, cut after the server applied it, is resent after reconnecting and applied once', async () => {
    await direct.createInstance({ machine: 'flow', version: 1, instance_id: 'cut-1', initial_ctx: {} });
    let armed = true;
    const proxy = await startProxy(emu, { cutAfterAnswer: (b) => armed && b.includes('APPLY_EVENT') && !(armed = false) });
    const client = await RcpClient.connect({ host: '127.0.0.1', port: proxy.port, reconnect: { enabled: true, initialDelayMs: 20, maxDelayMs: 100 } });
    try {
      let resent = 0;
      const r = await client.applyEvent({ instance_id: 'cut-1', event: 'go', idempotency_key: 'k-1', expected_state: 'a' }, { onResend: () => resent++ });
      assert.equal(resent, 1, 'told that it was sent again');
      assert.equal(r.to_state, 'b', 'the first result, replayed');
      assert.equal((await direct.getInstance({ instance_id: 'cut-1' })).state, 'b', 'not moved on to c');
      assert.equal(await appliesOf(direct, 'cut-1'), 1);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  test('the same write without a key is not resent: its outcome is reported as unknown, not as not sent', async () => {
    await direct.createInstance({ machine: 'flow', version: 1, instance_id: 'cut-2', initial_ctx: {} });
    let armed = true;
    const proxy = await startProxy(emu, { cutAfterAnswer: (b) => armed && b.includes('APPLY_EVENT') && !(armed = false) });
    const client = await RcpClient.connect({ host: '127.0.0.1', port: proxy.port, reconnect: { enabled: true, initialDelayMs: 20, maxDelayMs: 100 } });
    try {
      const err = await client.applyEvent({ instance_id: 'cut-2', event: 'go' }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof RcpConnectionError);
      assert.equal(err.notSent, false);
      assert.match(err.message, /may or may not have been applied/);
      assert.equal(await appliesOf(direct, 'cut-2'), 1);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  test('a request on a closed client, or too large to frame, is reported as never sent', async () => {
    const client = await RcpClient.connect({ host: emu.host, port: emu.port });
    const big = await client
      .applyEvent({ instance_id: 'nope', event: 'go', payload: { blob: 'x'.repeat(17 * 1024 * 1024) } })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(big instanceof RcpConnectionError && big.notSent, `oversize: ${String(big)}`);
    await client.close();
    const closed = await client.applyEvent({ instance_id: 'nope', event: 'go' }).then(() => undefined, (e: unknown) => e);
    assert.ok(closed instanceof RcpConnectionError && closed.notSent, `closed: ${String(closed)}`);
  });
});
