import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definitionToSend, formatDefinition, nextFreeVersion, planDeploy, sameDefinition } from '../../src/model/definitionFormat';
import type { MachineDefinition } from '../../src/rcp/types';
import { DEMO_MACHINES } from '../emulator/seed';

const ORDER = DEMO_MACHINES[0].definition;

/** The same definition as GET_MACHINE returns it: `from` as arrays, meta's keys sorted. */
function asServerReturnsIt(def: MachineDefinition): MachineDefinition {
  return {
    states: def.states,
    initial: def.initial,
    transitions: def.transitions.map((t) => ({ ...t, from: Array.isArray(t.from) ? t.from : [t.from] })),
    ...(def.meta ? { meta: Object.fromEntries(Object.entries(def.meta).sort(([a], [b]) => a.localeCompare(b))) } : {}),
  };
}

test('a file and the server\'s copy of it are the same definition: from as string or array, guard null, meta key order, $schema', () => {
  const file = { $schema: './machine.schema.json', ...ORDER, meta: { z: 1, a: { y: 2, b: 3 } } } as MachineDefinition;
  const server = asServerReturnsIt({ ...ORDER, meta: { a: { b: 3, y: 2 }, z: 1 } });
  assert.ok(sameDefinition(file, server));
  const withNullGuard = { ...server, transitions: server.transitions.map((t) => ({ ...t, guard: t.guard ?? (null as unknown as string) })) };
  assert.ok(sameDefinition(server, withNullGuard), 'guard: null is no guard');
  assert.ok(!sameDefinition(server, { ...server, initial: 'paid' }));
  assert.ok(!sameDefinition(server, { ...server, transitions: server.transitions.slice(1) }));
  assert.ok(!sameDefinition(server, { ...server, meta: { a: 1 } }), 'meta is kept by the server, so it counts');
});

test('only the keys the server keeps are sent', () => {
  const sent = definitionToSend({ $schema: 'x', comment: 'hi', ...ORDER });
  assert.deepEqual(Object.keys(sent), ['states', 'initial', 'transitions', 'meta']);
});

test('a definition as a file: one transition per line, single from as a string, and it reads back as the same definition', () => {
  const server = asServerReturnsIt(ORDER);
  const text = formatDefinition(server);
  const lines = text.split('\n');
  assert.equal(lines[1], '  "states": ["created", "paid", "shipped", "delivered", "cancelled", "refunded"],');
  assert.equal(lines[4], '    { "from": "created", "event": "pay", "to": "paid", "guard": "ctx.amount > 0" },');
  assert.equal(lines[5], '    { "from": ["created", "paid"], "event": "cancel", "to": "cancelled" },');
  assert.ok(sameDefinition(JSON.parse(text), server));
  const odd = { states: ['a","b', 'c'], initial: 'a","b', transitions: [] };
  assert.deepEqual(JSON.parse(formatDefinition(odd)), odd, 'names with quotes and commas survive');
});

test('deploying goes to the next version, or nowhere when the latest already holds the file', () => {
  assert.deepEqual(planDeploy([], undefined, ORDER), { kind: 'new', version: 1 });
  assert.deepEqual(planDeploy([1, 3, 2], { ...ORDER, initial: 'paid' }, ORDER), { kind: 'new', version: 4 });
  assert.deepEqual(planDeploy([1, 3, 2], asServerReturnsIt(ORDER), ORDER), { kind: 'deployed', version: 3 });
  assert.equal(nextFreeVersion([1, 2, 3], 3), 4);
  assert.equal(nextFreeVersion([1, 2, 5, 6], 2), 7, 'past every version the server has');
});
