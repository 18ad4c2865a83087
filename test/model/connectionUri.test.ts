import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nameFor, parseEndpoint } from '../../src/model/connectionUri';

test('host:port and rstmdb:// addresses fill host, port, TLS and token; a plain name is not an address', () => {
  assert.deepEqual(parseEndpoint('db.internal:7402'), { host: 'db.internal', port: 7402 });
  assert.deepEqual(parseEndpoint('[::1]:7401'), { host: '::1', port: 7401 });
  assert.deepEqual(parseEndpoint('rstmdb://127.0.0.1:7401'), { host: '127.0.0.1', port: 7401, tls: false });
  assert.deepEqual(parseEndpoint('rstmdbs://s3cr%40t@prod.example.com'), { host: 'prod.example.com', port: 7401, tls: true, token: 's3cr@t' });
  assert.deepEqual(parseEndpoint('RSTMDB://tok@h:1/'), { host: 'h', port: 1, tls: false, token: 'tok' });
  assert.equal(parseEndpoint('Local demo'), undefined);
  assert.equal(parseEndpoint('staging'), undefined);
});

test('a wrong address says what is wrong and never repeats the token', () => {
  const bad = ['http://h:1', 'rstmdb://SeCrEt99@h:99999', 'rstmdb://SeCrEt99@h:1/db', 'rstmdb://%zz@h:1', 'rstmdb://SeCrEt99@'];
  for (const text of bad) {
    const r = parseEndpoint(text);
    assert.ok(r && 'error' in r, text);
    assert.ok(!r.error.includes('SeCrEt99'), r.error);
  }
  const port = parseEndpoint('db:0');
  assert.ok(port && 'error' in port);
});

test('a connection added from an address is named after its host, uniquely', () => {
  assert.equal(nameFor('db.internal', 7401, []), 'db.internal');
  assert.equal(nameFor('db.internal', 7402, []), 'db.internal:7402');
  assert.equal(nameFor('h', 7401, ['h', 'h (2)']), 'h (3)');
});
