import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Ajv from 'ajv';
import { inferSchema, resolvePayloadSchema, type SchemaRequest } from '../../src/model/payloadSchema';
import type { MachineDefinition } from '../../src/rcp/types';

const ORDER: MachineDefinition = {
  states: ['draft', 'review', 'approved', 'paid'],
  initial: 'draft',
  transitions: [
    { from: ['draft'], event: 'submit', to: 'review' },
    { from: ['review'], event: 'approve', to: 'approved', guard: 'ctx.amount > 0 && ctx.customer.tier == "gold"' },
    { from: ['review'], event: 'reject', to: 'draft', guard: '!ctx.locked' },
    { from: ['approved'], event: 'pay', to: 'paid' },
  ],
  meta: {
    payload_schemas: { pay: { type: 'object', required: ['reference'], properties: { reference: { type: 'string' } } } },
    context_schema: { type: 'object', required: ['amount'] },
  },
};

function request(over: Partial<SchemaRequest>): SchemaRequest {
  return {
    machine: 'order',
    version: 1,
    definition: ORDER,
    targetState: 'review',
    settings: [],
    readSchemaFile: () => Promise.reject(new Error('no file')),
    ...over,
  };
}

describe('payload schema resolution, first match wins', () => {
  test("the definition's meta.payload_schemas.<EVENT> comes before a matching setting", async () => {
    const r = await resolvePayloadSchema(request({ event: 'pay', targetState: 'paid', settings: [{ machine: 'order', event: 'pay', schema: { type: 'object' } }] }));
    assert.equal(r.source, 'definition');
    assert.deepEqual(r.schema, (ORDER.meta!.payload_schemas as Record<string, unknown>).pay);
    assert.match(r.origin, /meta\.payload_schemas\.pay of order v1/);
  });

  test("Create Instance reads meta.context_schema, not an event's schema", async () => {
    const r = await resolvePayloadSchema(request({ targetState: 'draft' }));
    assert.equal(r.source, 'definition');
    assert.deepEqual(r.schema, ORDER.meta!.context_schema);
  });

  test('with nothing in the definition, the first setting for this machine, version and event wins (inline or a file)', async () => {
    const settings = [
      { machine: 'other', event: 'submit', schema: { title: 'wrong machine' } },
      { machine: 'order', version: 2, event: 'submit', schema: { title: 'wrong version' } },
      { machine: 'order', event: 'submit', schema: 'schemas/submit.json' },
      { machine: 'order', event: 'submit', schema: { title: 'second match' } },
    ];
    const read: string[] = [];
    const r = await resolvePayloadSchema(
      request({ event: 'submit', settings, readSchemaFile: async (p) => (read.push(p), { title: 'from file' }) }),
    );
    assert.equal(r.source, 'settings');
    assert.deepEqual(r.schema, { title: 'from file' });
    assert.deepEqual(read, ['schemas/submit.json']);
    assert.match(r.origin, /schemas\/submit\.json/);
  });

  test('an unreadable schema file or a malformed entry is reported and the next source is used', async () => {
    const r = await resolvePayloadSchema(request({ event: 'submit', settings: [{ machine: 'order' }, { machine: 'order', event: 'submit', schema: 'missing.json' }] }));
    assert.equal(r.source, 'inferred');
    assert.equal(r.problems.length, 2);
    assert.match(r.problems[1], /missing\.json .*could not be read: no file/);
  });

  test('a definition schema that is not an object is reported and skipped', async () => {
    const def = { ...ORDER, meta: { payload_schemas: { submit: 'not a schema' } } };
    const r = await resolvePayloadSchema(request({ event: 'submit', definition: def, settings: [{ machine: 'order', event: 'submit', schema: { type: 'object' } }] }));
    assert.equal(r.source, 'settings');
    assert.match(r.problems[0], /meta\.payload_schemas\.submit .* is not a JSON Schema/);
  });

  test('otherwise the schema is made from the context and the guards, and says so', async () => {
    const r = await resolvePayloadSchema(request({ event: 'submit', ctx: { amount: 5 } }));
    assert.equal(r.source, 'inferred');
    assert.match(r.origin, /current context and the guards out of 'review'/);
  });
});

describe('the schema made from the context and the guards', () => {
  test("the context's keys keep their types; guard paths out of the target state are added and marked as read by the guard", () => {
    const s = inferSchema(ORDER, 'review', { amount: 12.5, note: 'x', tags: ['a'], customer: { name: 'Ann' }, gone: null }) as any;
    assert.equal(s.type, 'object');
    assert.equal(s.properties.amount.type, 'number');
    assert.match(s.properties.amount.description, /Read by the guard `ctx.amount > 0 && ctx.customer.tier == "gold"` of 'approve' out of 'review'/);
    assert.equal(s.properties.note.type, 'string');
    assert.equal(s.properties.tags.type, 'array');
    assert.equal(s.properties.gone.type, undefined, 'a null value may be replaced by anything');
    // Nested: the context's customer object keeps its key, and the guard's path is added beside it.
    assert.equal(s.properties.customer.type, 'object');
    assert.equal(s.properties.customer.properties.name.type, 'string');
    assert.equal(s.properties.customer.properties.tier.type, 'string');
    assert.deepEqual(s.properties.customer.properties.tier.examples, ['gold']);
    assert.match(s.properties.customer.properties.tier.description, /Read by the guard/);
    // A field tested for truthiness has no type to expect.
    assert.equal(s.properties.locked.type, undefined);
    assert.match(s.properties.locked.description, /`!ctx.locked` of 'reject'/);
  });

  test('guards of transitions out of other states are not included', () => {
    const s = inferSchema(ORDER, 'draft', {}) as any;
    assert.deepEqual(Object.keys(s.properties), []);
  });

  test('it never rejects what the server accepts: no required keys, extra keys allowed, and ajv compiles it', () => {
    const s = inferSchema(ORDER, 'review', { amount: 1 });
    const validate = new Ajv({ strict: false }).compile(s);
    assert.equal(validate({}), true);
    assert.equal(validate({ anything: 1, amount: 3 }), true);
    assert.equal(validate({ amount: 'three' }), false, 'a known key with the wrong type is flagged');
  });

  test('a guard that does not parse adds nothing (its problem is reported elsewhere)', () => {
    const def: MachineDefinition = { states: ['a', 'b'], initial: 'a', transitions: [{ from: ['a'], event: 'go', to: 'b', guard: 'ctx.a >' }] };
    const s = inferSchema(def, 'a', undefined) as any;
    assert.deepEqual(s.properties, {});
  });
});
