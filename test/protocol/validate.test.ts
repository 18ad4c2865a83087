import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROTOCOL_VERSION } from '../../src/protocol/inspector';
import { LIMITS, validHostMessage, validUiState, validWebviewMessage } from '../../src/protocol/validate';

const ok: unknown[] = [
  { t: 'ready', v: PROTOCOL_VERSION, clientId: 'abc' },
  { t: 'request', id: 1, op: 'applyEvent', args: {} },
  { t: 'request', id: 2, op: 'applyEvent', args: { event: 'pay' } },
  { t: 'request', id: 3, op: 'refresh', args: {} },
  { t: 'request', id: 4, op: 'copy', args: { text: '{"a":1}', what: 'the context' } },
  { t: 'request', id: 5, op: 'openJson', args: {} },
  { t: 'request', id: 6, op: 'delete', args: {} },
  { t: 'request', id: 7, op: 'close', args: {} },
  { t: 'request', id: 8, op: 'historyEntry', args: { offset: 1099511628160 } },
];

const bad: [string, unknown][] = [
  ['not an object', 'ready'],
  ['null', null],
  ['an array', [{ t: 'ready' }]],
  ['unknown type', { t: 'hello' }],
  ['ready of another protocol version', { t: 'ready', v: PROTOCOL_VERSION + 1, clientId: 'a' }],
  ['ready with a huge client id', { t: 'ready', v: PROTOCOL_VERSION, clientId: 'x'.repeat(LIMITS.clientId + 1) }],
  ['unknown op', { t: 'request', id: 1, op: 'eval', args: {} }],
  ['op from the prototype', { t: 'request', id: 1, op: 'toString', args: {} }],
  ['fractional id', { t: 'request', id: 1.5, op: 'refresh', args: {} }],
  ['negative id', { t: 'request', id: -1, op: 'refresh', args: {} }],
  ['id beyond safe integers', { t: 'request', id: 2 ** 60, op: 'refresh', args: {} }],
  ['missing args', { t: 'request', id: 1, op: 'refresh' }],
  ['arguments where none are taken', { t: 'request', id: 1, op: 'delete', args: { instanceId: 'other' } }],
  ['extra top-level key', { t: 'request', id: 1, op: 'refresh', args: {}, connection: 'x' }],
  ['event of the wrong type', { t: 'request', id: 1, op: 'applyEvent', args: { event: 5 } }],
  ['empty event', { t: 'request', id: 1, op: 'applyEvent', args: { event: '' } }],
  ['event too long', { t: 'request', id: 1, op: 'applyEvent', args: { event: 'e'.repeat(LIMITS.event + 1) } }],
  ['apply with another instance', { t: 'request', id: 1, op: 'applyEvent', args: { event: 'pay', instanceId: 'x' } }],
  ['copy without text', { t: 'request', id: 1, op: 'copy', args: { what: 'x' } }],
  ['copy too large', { t: 'request', id: 1, op: 'copy', args: { text: 'x'.repeat(LIMITS.copy + 1), what: 'x' } }],
  ['history entry with a string offset', { t: 'request', id: 1, op: 'historyEntry', args: { offset: '12' } }],
  ['history entry with NaN', { t: 'request', id: 1, op: 'historyEntry', args: { offset: NaN } }],
];

test('every well-formed webview message is accepted as it is', { timeout: 5000 }, () => {
  for (const m of ok) assert.deepEqual(validWebviewMessage(m), m, JSON.stringify(m));
});

test('malformed webview messages are refused', { timeout: 5000 }, () => {
  for (const [why, m] of bad) assert.equal(validWebviewMessage(m), undefined, why);
});

test('random junk never passes and never throws', { timeout: 10_000 }, () => {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const values = (depth = 0): unknown => {
    const r = depth > 3 ? rand() * 0.5 : rand();
    if (r < 0.1) return null;
    if (r < 0.2) return rand() * 1e6 - 5e5;
    if (r < 0.3) return ['ready', 'request', 'applyEvent', 'copy', 'historyEntry', '', 'x'][Math.floor(rand() * 7)];
    if (r < 0.4) return rand() < 0.5;
    if (r < 0.5) return [values(depth + 1), values(depth + 1)];
    if (r < 0.6) return undefined;
    const o: Record<string, unknown> = {};
    for (const k of ['t', 'id', 'op', 'args', 'v', 'event', 'offset', 'text', 'what', 'clientId'].filter(() => rand() < 0.5)) o[k] = values(depth + 1);
    return o;
  };
  for (let i = 0; i < 20_000; i++) {
    const m = values();
    const v = validWebviewMessage(m);
    // What passes is exactly one of the known shapes, rebuilt from checked parts.
    if (v) assert.ok(v.t === 'ready' || ['applyEvent', 'refresh', 'copy', 'openJson', 'delete', 'close', 'historyEntry'].includes(v.op), JSON.stringify(m));
    validHostMessage(m);
    validUiState(m);
  }
});

test('UI state: a valid one survives, an unknown version or a wrong field does not', { timeout: 5000 }, () => {
  const state = { v: PROTOCOL_VERSION, connection: 'local', instanceId: 'o-1', tab: 'history', view: { k: 0.5, x: 10, y: -4, fitted: false }, selectedOffset: 12, search: 'amt', expanded: ['["a"]'] };
  assert.deepEqual(validUiState(state), state);
  assert.equal(validUiState({ ...state, v: 0 }), undefined);
  assert.equal(validUiState({ ...state, tab: 'other' }), undefined);
  assert.equal(validUiState({ ...state, connection: '' }), undefined);
  // Bad optional parts are dropped, the rest kept.
  assert.deepEqual(validUiState({ ...state, view: { k: Infinity, x: 0, y: 0, fitted: true }, expanded: 'x' }), { v: PROTOCOL_VERSION, connection: 'local', instanceId: 'o-1', tab: 'history', selectedOffset: 12, search: 'amt' });
});

test('host messages: a snapshot is checked before it is drawn', { timeout: 5000 }, () => {
  const snapshot = {
    connection: 'local', connectionState: 'ready', readOnly: false, instanceId: 'o-1', machine: 'order', version: 1, state: 'paid', ctx: {}, lastWalOffset: 5, deleted: false,
    definition: { states: ['created', 'paid'], initial: 'created', transitions: [{ from: ['created'], event: 'pay', to: 'paid' }] },
    outgoing: [{ event: 'cancel', to: 'cancelled', pass: true }],
    history: { rows: [{ offset: 5, kind: 'event', event: 'pay', from: 'created', to: 'paid', payloadSize: 0 }], truncated: false },
  };
  assert.ok(validHostMessage({ t: 'snapshot', seq: 1, snapshot }));
  assert.equal(validHostMessage({ t: 'snapshot', seq: 1, snapshot: { ...snapshot, ctx: [] } }), undefined);
  assert.equal(validHostMessage({ t: 'snapshot', seq: 1, snapshot: { ...snapshot, definition: { ...snapshot.definition, states: [1] } } }), undefined);
  assert.equal(validHostMessage({ t: 'response', id: 1, ok: false }), undefined);
  assert.ok(validHostMessage({ t: 'response', id: 1, ok: false, error: 'no' }));
  assert.ok(validHostMessage({ t: 'progress', read: 1000, total: 100000 }));
});
