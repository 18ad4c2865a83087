import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient, RcpError } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { waitFor } from './waitFor';
import { observeWire, subscribedBeforeAuth } from './wire-observer';

const TOKEN = 'auth-order-token-5be1';

/**
 * The server lets WATCH_ALL and WATCH_INSTANCE through without AUTH (rcp-notes.md),
 * so it would hand every transition to a client that subscribed too early. The
 * client must authenticate first, on every connection and every reconnect.
 */
describe('subscriptions only after AUTH has succeeded', { timeout: 60_000 }, () => {
  let emu: EmulatorProcess;
  before(async () => {
    emu = await startEmulator({ token: TOKEN, seed: 'demo' });
  });
  after(() => emu?.stop());

  test('the server (emulated as it is) answers WATCH_ALL without AUTH while refusing reads: the order is the client’s job', async () => {
    const client = await RcpClient.connect({ host: emu.host, port: emu.port });
    try {
      await assert.rejects(client.listMachines(), (e: unknown) => e instanceof RcpError && e.code === 'UNAUTHORIZED');
      const sub = await client.watchAll({ include_ctx: false });
      assert.ok(sub.id, 'subscribed without a token');
    } finally {
      await client.close();
    }
  });

  test('every connection says AUTH and hears ok before any WATCH_*, also after reconnects', async () => {
    const wire = await observeWire({ host: emu.host, port: emu.port });
    const client = await RcpClient.connect({ host: '127.0.0.1', port: wire.port, token: TOKEN, poolSize: 2, reconnect: { enabled: true, initialDelayMs: 50, maxDelayMs: 200 } });
    try {
      const all = await client.watchAll({ include_ctx: false });
      const { instances } = await client.listInstances({ limit: 1 });
      const one = await client.watchInstance({ instance_id: instances[0].id });
      const watchesBefore = wire.connections.flat().filter((e) => /^>WATCH_/.test(e)).length;
      assert.equal(watchesBefore, 2);
      wire.dropAll();
      // Re-subscribed on new connections: both subscriptions asked again.
      await waitFor(() => wire.connections.flat().filter((e) => /^>WATCH_/.test(e)).length >= 4 && client.state === 'ready', 'the re-subscriptions');
      assert.deepEqual(subscribedBeforeAuth(wire.connections), [], JSON.stringify(wire.connections));
      await all.close();
      await one.close();
    } finally {
      await client.close();
      await wire.close();
    }
  });

  test('a wrong token: no subscription is ever asked for', async () => {
    const wire = await observeWire({ host: emu.host, port: emu.port });
    try {
      await assert.rejects(RcpClient.connect({ host: '127.0.0.1', port: wire.port, token: 'wrong' }), (e: unknown) => e instanceof RcpError && e.code === 'AUTH_FAILED');
      assert.deepEqual(wire.connections.flat().filter((e) => /^>WATCH_/.test(e)), []);
    } finally {
      await wire.close();
    }
  });
});
