import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RcpClient, RcpConnectionError, type ClientState, type RcpEvent } from '../../src/rcp';
import { startEmulator, type EmulatorProcess } from '../emulator/process';
import { startProxy } from './proxy';
import { waitFor } from './waitFor';

const FLOW = {
  states: ['s0', 's1', 's2', 's3', 's4', 's5', 's6'],
  initial: 's0',
  transitions: [0, 1, 2, 3, 4, 5].map((i) => ({ from: `s${i}`, event: `e${i}`, to: `s${i + 1}` })),
};


describe('reconnect and subscriptions', () => {
  let emu: EmulatorProcess;
  let writer: RcpClient;

  before(async () => {
    emu = await startEmulator();
    writer = await RcpClient.connect({ host: emu.host, port: emu.port });
    await writer.putMachine({ machine: 'flow', version: 1, definition: FLOW });
    await writer.putMachine({ machine: 'other', version: 1, definition: FLOW });
    // With a context: one created without initial_ctx keeps ctx null and never merges a payload.
    for (const id of ['a', 'b', 'c']) await writer.createInstance({ machine: 'flow', version: 1, instance_id: id, initial_ctx: {} });
    await writer.createInstance({ machine: 'other', version: 1, instance_id: 'x' });
    await writer.close();
  }, { timeout: 30_000 });
  after(() => emu?.stop(), { timeout: 30_000 });

  test('a subscription survives the server being killed and restarted: no event lost, none twice', async () => {
    const client = await RcpClient.connect({
      host: emu.host,
      port: emu.port,
      reconnect: { enabled: true, initialDelayMs: 50, maxDelayMs: 200 },
    });
    const states: ClientState[] = [];
    client.on('state', (s: ClientState) => states.push(s));
    const all = await client.watchAll({ machines: ['flow'], include_ctx: true });
    // Whoever hears 'ready' again must be able to tell the missed events are still to come.
    let resumed = 0;
    all.on('resumed', () => resumed++);
    const atReady: boolean[] = [];
    client.on('state', (s: ClientState) => s === 'ready' && atReady.push(all.recovering || resumed > 0));
    const one = await client.watchInstance({ instance_id: 'b' });
    const seenAll: RcpEvent[] = [];
    const seenOne: RcpEvent[] = [];
    all.on('event', (e: RcpEvent) => seenAll.push(e));
    one.on('event', (e: RcpEvent) => seenOne.push(e));

    const other = await RcpClient.connect({ host: emu.host, port: emu.port });
    await other.applyEvent({ instance_id: 'a', event: 'e0' });
    await other.applyEvent({ instance_id: 'b', event: 'e0' });
    await other.applyEvent({ instance_id: 'x', event: 'e0' }); // filtered out: another machine
    await waitFor(() => seenAll.length === 2 && seenOne.length === 1, 'live events');
    await other.close();

    await emu.kill();
    await waitFor(() => states.includes('reconnecting'), 'reconnecting state');
    // While the client is away, the server restarts and other clients move instances.
    await emu.restart();
    const during = await RcpClient.connect({ host: emu.host, port: emu.port });
    for (const [id, ev] of [['a', 'e1'], ['b', 'e1'], ['c', 'e0'], ['x', 'e1'], ['b', 'e2']] as const) {
      await during.applyEvent({ instance_id: id, event: ev, payload: { by: 'during' } });
    }
    await waitFor(() => client.state === 'ready', 'ready again');
    // And after it is back, live events flow again.
    await during.applyEvent({ instance_id: 'c', event: 'e1' });
    await during.applyEvent({ instance_id: 'b', event: 'e3' });
    await waitFor(() => seenAll.length >= 8 && seenOne.length >= 4, 'gap-filled and live events', 10_000);
    // A later event is the marker: once it is here, a duplicate of anything before it would be too.
    await during.applyEvent({ instance_id: 'b', event: 'e4' });
    const key = (e: RcpEvent) => `${e.instance_id}:${e.event}`;
    await waitFor(() => seenAll.some((e) => key(e) === 'b:e4') && seenOne.some((e) => key(e) === 'b:e4'), 'the marker event', 10_000);
    await during.close();

    assert.deepEqual(seenAll.map(key), ['a:e0', 'b:e0', 'a:e1', 'b:e1', 'c:e0', 'b:e2', 'c:e1', 'b:e3', 'b:e4']);
    assert.deepEqual(seenOne.map(key), ['b:e0', 'b:e1', 'b:e2', 'b:e3', 'b:e4']);
    for (const list of [seenAll, seenOne]) {
      for (let i = 1; i < list.length; i++) assert.ok(list[i].wal_offset > list[i - 1].wal_offset, 'in WAL order');
    }
    // Events filled in from the WAL look like live ones.
    const filled = seenAll[3];
    assert.equal(filled.machine, 'flow');
    assert.equal(filled.version, 1);
    assert.equal(filled.from_state, 's1');
    assert.equal(filled.to_state, 's2');
    assert.deepEqual(filled.payload, { by: 'during' });
    assert.deepEqual(filled.ctx, { by: 'during' });
    assert.equal(filled.subscription_id, all.id);
    assert.ok(states.indexOf('reconnecting') < states.lastIndexOf('ready'));
    assert.deepEqual(atReady, [true], "at 'ready' the subscription was still recovering (or already resumed)");
    assert.equal(resumed, 1);
    await all.close();
    await one.close();
    await client.close();
    assert.equal(client.state, 'closed');
  });

  test('a connection that drops again while re-subscribing: the subscription recovers on the next reconnect with nothing lost', async () => {
    let watches = 0;
    // The second WATCH_ALL is the re-subscription after the first drop: cut that connection too.
    const proxy = await startProxy(emu, { cut: (bytes) => bytes.includes('WATCH_ALL') && ++watches === 2 });
    const client = await RcpClient.connect({ host: '127.0.0.1', port: proxy.port, reconnect: { enabled: true, initialDelayMs: 50, maxDelayMs: 200 } });
    const other = await RcpClient.connect({ host: emu.host, port: emu.port });
    try {
      await other.createInstance({ machine: 'flow', version: 1, instance_id: 'r' });
      const sub = await client.watchAll({ machines: ['flow'] });
      const seen: RcpEvent[] = [];
      sub.on('event', (e: RcpEvent) => seen.push(e));
      const atResume: string[][] = [];
      sub.on('resumed', () => atResume.push(seen.map((e) => e.event)));
      await other.applyEvent({ instance_id: 'r', event: 'e0' });
      await waitFor(() => seen.length === 1, 'the live event');

      proxy.dropAll();
      await other.applyEvent({ instance_id: 'r', event: 'e1' }); // while away
      await waitFor(() => watches >= 3, 'a third WATCH_ALL after the cut one');
      await other.applyEvent({ instance_id: 'r', event: 'e2' }); // live again
      await waitFor(() => seen.length === 3, 'the missed and the new event');
      assert.deepEqual(seen.map((e) => e.event), ['e0', 'e1', 'e2']);
      assert.equal(sub.closed, false);
      // A later event is the marker: once it is here, a duplicate of anything before it would be too.
      await other.applyEvent({ instance_id: 'r', event: 'e3' });
      await waitFor(() => seen.some((e) => e.event === 'e3'), 'the marker event');
      assert.deepEqual(seen.map((e) => e.event), ['e0', 'e1', 'e2', 'e3'], 'none delivered twice');
      assert.equal(atResume.length, 1, "'resumed' once, after the recovery that got through");
      assert.ok(atResume[0].includes('e1'), "the event missed while away is delivered before 'resumed'");
    } finally {
      await other.close();
      await client.close();
      await proxy.close();
    }
  });

  test('a re-subscription the server never answers times out and is tried again on the same connection', async () => {
    let watches = 0;
    // The second WATCH_ALL (the re-subscription) is never answered; the connection stays open.
    const proxy = await startProxy(emu, { swallow: (bytes) => bytes.includes('WATCH_ALL') && ++watches === 2 });
    const client = await RcpClient.connect({ host: '127.0.0.1', port: proxy.port, requestTimeoutMs: 300, reconnect: { enabled: true, initialDelayMs: 50, maxDelayMs: 200 } });
    const other = await RcpClient.connect({ host: emu.host, port: emu.port });
    try {
      await other.createInstance({ machine: 'flow', version: 1, instance_id: 't' });
      const sub = await client.watchAll({ machines: ['flow'] });
      const seen: string[] = [];
      sub.on('event', (e: RcpEvent) => seen.push(e.event));
      proxy.dropAll();
      await other.applyEvent({ instance_id: 't', event: 'e0' }); // while away
      await waitFor(() => watches >= 3, 'a WATCH_ALL after the unanswered one');
      await other.applyEvent({ instance_id: 't', event: 'e1' });
      await waitFor(() => seen.length === 2, 'the missed and the new event');
      assert.deepEqual(seen, ['e0', 'e1']);
      assert.equal(sub.recovering, false);
    } finally {
      await other.close();
      await client.close();
      await proxy.close();
    }
  });

  test('without reconnect, a dropped server fails requests in flight and ends subscriptions', async () => {
    const client = await RcpClient.connect({ host: emu.host, port: emu.port });
    const sub = await client.watchAll({});
    let ended = false;
    sub.on('end', () => (ended = true));
    const iter = sub[Symbol.asyncIterator]();
    const waiting = iter.next();
    await emu.kill();
    const r = await waiting;
    assert.equal(r.done, true, 'the iterator finishes');
    await waitFor(() => ended && client.state === 'closed', 'closed');
    await assert.rejects(client.ping(), RcpConnectionError);
    await emu.restart();
    await client.close();
  });

  test('reads sent while the connection drops are answered once it is back', async () => {
    const client = await RcpClient.connect({
      host: emu.host,
      port: emu.port,
      reconnect: { enabled: true, initialDelayMs: 50, maxDelayMs: 200 },
    });
    try {
      await emu.kill();
      const read = client.getInstance({ instance_id: 'a' });
      await new Promise((r) => setTimeout(r, 100));
      await emu.restart();
      assert.equal((await read).machine, 'flow');
    } finally {
      await client.close();
    }
  });
});

describe('sessions the server would end', () => {
  test('keep-alive PINGs hold an idle connection open past the server\'s idle timeout', async () => {
    const emu = await startEmulator({ idleTimeoutMs: 400 });
    const kept = await RcpClient.connect({ host: emu.host, port: emu.port, keepAliveMs: 100 });
    const idle = await RcpClient.connect({ host: emu.host, port: emu.port, keepAliveMs: 0 });
    try {
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal(kept.state, 'ready');
      assert.deepEqual(await kept.ping(), { pong: true });
      assert.equal(idle.state, 'closed', 'without keep-alive the server hangs up');
    } finally {
      await kept.close();
      await idle.close();
      await emu.stop();
    }
  });

  test('a reconnect says HELLO and AUTH again, so authenticated work continues', async () => {
    const emu = await startEmulator({ token: 'reconnect-token' });
    const client = await RcpClient.connect({ host: emu.host, port: emu.port, token: 'reconnect-token', reconnect: { enabled: true, initialDelayMs: 50, maxDelayMs: 200 } });
    try {
      await client.putMachine({ machine: 'flow', version: 1, definition: FLOW });
      await emu.kill();
      await emu.restart();
      await waitFor(() => client.state === 'ready', 'reconnected');
      const r = await client.createInstance({ machine: 'flow', version: 1, instance_id: 'after-reconnect' });
      assert.equal(r.state, 's0');
    } finally {
      await client.close();
      await emu.stop();
    }
  });
});

