import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { endpointOf, isLoopbackHost, legacyKey, recordKey, tokenInClear, TokenVault, type SecretStore } from '../../src/model/tokenBinding';

/** SecretStorage's contract, kept in memory: what was stored is what comes back. */
class MemorySecrets implements SecretStore {
  readonly map = new Map<string, string>();
  async get(key: string) {
    return this.map.get(key);
  }
  async store(key: string, value: string) {
    this.map.set(key, value);
  }
  async delete(key: string) {
    this.map.delete(key);
  }
}

const prod = { name: 'prod', host: 'db.internal', port: 7401 };
const cloned = { name: 'prod', host: 'evil.example', port: 7401 };

describe('tokens bound to the endpoint they were saved for', () => {
  test('sent silently only to the same host, port and TLS setting', async () => {
    const vault = new TokenVault(new MemorySecrets());
    await vault.bind('prod', endpointOf(prod), 's3cret');
    assert.deepEqual(await vault.lookup('prod', endpointOf({ ...prod, host: 'DB.internal' }), undefined), { kind: 'bound', token: 's3cret' });
    for (const other of [cloned, { ...prod, port: 7402 }, { ...prod, tls: { enabled: true } }]) {
      const found = await vault.lookup('prod', endpointOf(other), undefined);
      assert.equal(found.kind, 'elsewhere', JSON.stringify(other));
      assert.deepEqual(found.kind === 'elsewhere' && found.savedFor, { host: 'db.internal', port: 7401, tls: false });
    }
  });

  test('"Enter a token" for another endpoint keeps the first one: going back needs no question', async () => {
    const vault = new TokenVault(new MemorySecrets());
    await vault.bind('prod', endpointOf(prod), 'mine');
    await vault.bind('prod', endpointOf(cloned), 'theirs');
    assert.deepEqual(await vault.lookup('prod', endpointOf(prod), undefined), { kind: 'bound', token: 'mine' });
    assert.deepEqual(await vault.lookup('prod', endpointOf(cloned), undefined), { kind: 'bound', token: 'theirs' });
  });

  test('a token stored the old way (by name) is bound on first use to the user’s own definition, and the old entry removed', async () => {
    const secrets = new MemorySecrets();
    secrets.map.set(legacyKey('prod'), 'old-token');
    const vault = new TokenVault(secrets);
    // The workspace redefines 'prod'; the user's settings say db.internal: the token is theirs, not the workspace's.
    const found = await vault.lookup('prod', endpointOf(cloned), endpointOf(prod));
    assert.deepEqual(found, { kind: 'elsewhere', token: 'old-token', savedFor: endpointOf(prod) });
    assert.equal(secrets.map.has(legacyKey('prod')), false);
    assert.ok(secrets.map.has(recordKey('prod')));
    assert.deepEqual(await vault.lookup('prod', endpointOf(prod), endpointOf(prod)), { kind: 'bound', token: 'old-token' });
  });

  test('an old-style token with no user definition to bind it to is not sent silently', async () => {
    const secrets = new MemorySecrets();
    secrets.map.set(legacyKey('prod'), 'old-token');
    const vault = new TokenVault(secrets);
    assert.deepEqual(await vault.lookup('prod', endpointOf(cloned), undefined), { kind: 'unbound', token: 'old-token' });
    // Answered ("Use it here"): bound, and the question is settled.
    await vault.bind('prod', endpointOf(cloned), 'old-token');
    assert.equal(secrets.map.has(legacyKey('prod')), false);
    assert.deepEqual(await vault.lookup('prod', endpointOf(cloned), undefined), { kind: 'bound', token: 'old-token' });
  });

  test('rename carries every token; forget removes them all', async () => {
    const secrets = new MemorySecrets();
    const vault = new TokenVault(secrets);
    await vault.bind('prod', endpointOf(prod), 'mine');
    await vault.rename('prod', 'production');
    assert.deepEqual(await vault.lookup('production', endpointOf(prod), undefined), { kind: 'bound', token: 'mine' });
    assert.deepEqual(await vault.lookup('prod', endpointOf(prod), undefined), { kind: 'none' });
    await vault.forget('production');
    assert.equal(secrets.map.size, 0);
  });

  test('a record that is not ours (garbled) counts as no token, never as one to send', async () => {
    const secrets = new MemorySecrets();
    secrets.map.set(recordKey('prod'), '{"v":2,"tokens":[{"token":5}]}');
    assert.deepEqual(await new TokenVault(secrets).lookup('prod', endpointOf(prod), undefined), { kind: 'none' });
  });
});

test('a token goes out in the clear only without TLS to a host that is not this machine', () => {
  for (const h of ['localhost', '127.0.0.1', '127.8.9.1', '::1', '[::1]', 'LOCALHOST', 'api.localhost']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['10.0.0.5', 'db.internal', '::2', '128.0.0.1', 'localhost.example.com']) assert.equal(isLoopbackHost(h), false, h);
  assert.equal(tokenInClear({ name: 'a', host: 'db.internal', port: 1 }), true);
  assert.equal(tokenInClear({ name: 'a', host: 'db.internal', port: 1, tls: { enabled: true } }), false);
  assert.equal(tokenInClear({ name: 'a', host: '127.0.0.1', port: 1 }), false);
});
