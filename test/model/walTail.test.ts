import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WalTail, type WalTailListener } from '../../src/model/walTail';
import { RcpClient } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';

const FLOW = { states: ['new', 'done'], initial: 'new', transitions: [{ from: 'new', event: 'finish', to: 'done' }] };

function recorder() {
  const seen: string[] = [];
  const listener: WalTailListener = {
    page: (records) => {
      for (const { entry: e } of records) {
        if (e.type === 'create_instance') seen.push(`created ${e.instance_id} ${e.machine} v${e.version} in ${e.initial_state}`);
        else if (e.type === 'delete_instance') seen.push(`deleted ${e.instance_id}`);
        else if (e.type === 'apply_event') seen.push(`applied ${e.instance_id} ${e.event} ${e.from_state}→${e.to_state}`);
        else if (e.type === 'put_machine') seen.push(`machine ${e.machine} v${e.version}`);
      }
    },
    skipped: () => seen.push('skipped'),
    failed: (err) => seen.push(`failed ${String(err)}`),
  };
  return { seen, listener };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('following the WAL for what no event reports', () => {
  let emu: EmulatorProcess;
  let client: RcpClient;

  before(async () => {
    emu = await startEmulator();
    client = await RcpClient.connect({ host: emu.host, port: emu.port });
  }, { timeout: 30_000 });
  after(async () => {
    await client?.close();
    await emu?.stop();
  }, { timeout: 30_000 });

  test('instances created, moved and deleted by another client, and a new machine version, are reported in WAL order', async () => {
    const { latest_offset } = await client.walStats();
    const { seen, listener } = recorder();
    const tail = new WalTail(client, latest_offset, listener, { intervalMs: 50 });
    try {
      const other = await RcpClient.connect({ host: emu.host, port: emu.port });
      await other.putMachine({ machine: 'jobs', version: 1, definition: FLOW });
      await other.createInstance({ machine: 'jobs', version: 1, instance_id: 'j1' });
      await other.applyEvent({ instance_id: 'j1', event: 'finish' });
      await other.deleteInstance({ instance_id: 'j1' });
      await other.close();
      await until(() => seen.length >= 4, 'four reports');
      assert.deepEqual(seen, ['machine jobs v1', 'created j1 jobs v1 in new', 'applied j1 finish new→done', 'deleted j1']);
    } finally {
      tail.dispose();
    }
  });

  test('a tail that falls too far behind skips to the end and says so, reporting none of the records it read, instead of replaying them one by one', async () => {
    await client.putMachine({ machine: 'bulk', version: 1, definition: FLOW });
    const { latest_offset } = await client.walStats();
    for (let i = 0; i < 30; i++) await client.batch({ mode: 'atomic', ops: Array.from({ length: 100 }, (_, k) => ({ op: 'CREATE_INSTANCE', params: { machine: 'bulk', version: 1, instance_id: `b-${i}-${k}` } })) });
    const { seen, listener } = recorder();
    const tail = new WalTail(client, latest_offset, listener, { intervalMs: 60_000, catchUpLimit: 1000 });
    try {
      await tail.poll();
      assert.deepEqual(seen, ['skipped'], 'a re-read replaces the replay');
      await client.createInstance({ machine: 'bulk', version: 1, instance_id: 'after-skip' });
      await tail.poll();
      assert.equal(seen.at(-1), 'created after-skip bulk v1 in new');
    } finally {
      tail.dispose();
    }
  });
});
