import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Ajv from 'ajv';
import { locateJson, spanOfError } from '../../src/model/jsonLocate';
import { describeGuardReads } from '../../src/model/guardReads';

describe('validation errors placed in the payload text', () => {
  const text = '{\n  "amount": "12",\n  "items": [1, {"sku": true}],\n  "odd/key~": 1,\n  "extra": {}\n}';
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile({
    type: 'object',
    required: ['reference'],
    additionalProperties: false,
    properties: { amount: { type: 'number' }, items: { type: 'array', items: { anyOf: [{ type: 'number' }, { type: 'object', properties: { sku: { type: 'string' } } }] } }, 'odd/key~': { type: 'string' } },
  });
  validate(JSON.parse(text));
  const spans = locateJson(text);
  const at = (keyword: string, path: string) => {
    const e = validate.errors!.find((x) => x.keyword === keyword && x.instancePath === path);
    assert.ok(e, `${keyword} at ${path}`);
    const s = spanOfError(spans, e);
    return text.slice(s.start, s.end);
  };

  test('a wrong type underlines the value', () => {
    assert.equal(at('type', '/amount'), '"12"');
    assert.equal(at('type', '/items/1/sku'), 'true');
    assert.equal(at('type', '/odd~1key~0'), '1');
  });
  test('an unknown key underlines the key; a missing one the object\'s brace', () => {
    assert.equal(at('additionalProperties', ''), '"extra"');
    assert.equal(at('required', ''), '{');
  });
});

describe('what a guard reads on a context', () => {
  test('each field once, missing ones as null, as the server reads them', () => {
    assert.equal(describeGuardReads('ctx.amount > 1000 && (ctx.amount < 5 || !ctx.c.d)', { amount: 711.38 }), 'ctx.amount = 711.38, ctx.c.d = null');
  });
  test('a guard that does not parse reads nothing', () => {
    assert.equal(describeGuardReads('ctx.a >', {}), '');
  });
});
