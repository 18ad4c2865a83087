import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WalBrowser } from '../../src/model/walBrowser';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';

describe('the WAL explorer\'s pages', () => {
  let emu: EmulatorProcess;
  let client: RcpClient;

  before(async () => {
    emu = await startEmulator();
    client = await RcpClient.connect({ host: emu.host, port: emu.port });
    await client.putMachine({ machine: 'm', version: 1, definition: { states: ['a', 'b'], initial: 'a', transitions: [{ from: 'a', event: 'go', to: 'b' }, { from: 'b', event: 'back', to: 'a' }] } });
    for (let i = 0; i < 30; i++) await client.createInstance({ machine: 'm', version: 1, instance_id: `i-${i}` });
    await client.applyEvent({ instance_id: 'i-7', event: 'go' });
    await client.applyEvent({ instance_id: 'i-7', event: 'back' });
    await client.deleteInstance({ instance_id: 'i-7' });
  });
  after(async () => {
    await client?.close();
    await emu?.stop();
  });

  test('pages follow next_offset to the end of the log', { timeout: 20_000 }, async () => {
    const b = new WalBrowser(async () => client, {}, 10);
    await b.more();
    assert.equal(b.rows.length, 10);
    assert.deepEqual(b.rows[0], { offset: b.rows[0].offset, sequence: 1, type: 'put_machine', machine: 'm', version: 1 });
    while (b.next !== undefined) await b.more();
    assert.equal(b.rows.length, 34);
    for (let i = 1; i < b.rows.length; i++) assert.ok(b.rows[i].offset > b.rows[i - 1].offset);
    assert.deepEqual(b.rows[b.rows.length - 1], { offset: b.rows[b.rows.length - 1].offset, sequence: 34, type: 'delete_instance', instanceId: 'i-7' });
  });

  test('filters by entry type and by instance, reading on until enough match', { timeout: 20_000 }, async () => {
    const byInstance = new WalBrowser(async () => client, { instance: 'i-7' });
    await byInstance.more();
    assert.deepEqual(byInstance.rows.map((r) => r.type), ['create_instance', 'apply_event', 'apply_event', 'delete_instance']);
    assert.equal(byInstance.rows[1].event, 'go');
    const events = new WalBrowser(async () => client, { type: 'apply_event' });
    await events.more();
    assert.deepEqual(events.rows.map((r) => `${r.from}→${r.to}`), ['a→b', 'b→a']);
    assert.equal(events.next, undefined);
    assert.equal(events.scanned, 34);
  });
});
