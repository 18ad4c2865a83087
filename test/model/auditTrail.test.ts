import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditTrail } from '../../src/model/auditTrail';

test('writes are logged once answered, with connection, instance, event and outcome, never the payload', () => {
  const lines: string[] = [];
  const audit = new AuditTrail('Prod', (l) => lines.push(l));
  audit.observe('send', { type: 'request', id: '1', op: 'APPLY_EVENT', params: { instance_id: 'order-7', event: 'pay', payload: { card: '4111-1111-1111-1111' }, expected_state: 'created' } });
  audit.observe('send', { type: 'request', id: '2', op: 'GET_INSTANCE', params: { instance_id: 'order-7' } });
  audit.observe('recv', { type: 'response', id: '2', status: 'ok', result: { ctx: { card: '4111' } } });
  assert.equal(lines.length, 0, 'reads are not logged');
  audit.observe('recv', { type: 'response', id: '1', status: 'ok', result: { from_state: 'created', to_state: 'paid', ctx: { card: '4111-1111-1111-1111' }, wal_offset: 42, applied: true } });
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^\[Prod\] apply event "pay" to instance "order-7" \(expected state "created"\): ok: "created" → "paid", WAL offset 42$/);
  assert.ok(!lines.join('\n').includes('4111'), 'no payload or context');

  audit.observe('send', { type: 'request', id: '3', op: 'CREATE_INSTANCE', params: { machine: 'order', version: 1, instance_id: 'o-9', initial_ctx: { secret: 'x' } } });
  audit.observe('recv', { type: 'response', id: '3', status: 'error', error: { code: 'INSTANCE_EXISTS', message: 'instance exists' } });
  assert.match(lines[1], /create instance "o-9" of "order" v1: failed: INSTANCE_EXISTS/);
  assert.ok(!lines[1].includes('secret'));

  audit.observe('send', { type: 'request', id: '4', op: 'DELETE_INSTANCE', params: { instance_id: 'o-9' } });
  audit.observe('send', { type: 'request', id: '1', op: 'HELLO', params: {} });
  assert.match(lines[2], /delete instance "o-9": no answer/);
});
