import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConnections, resolveUserPath, sameSettings, validateHost, validatePort } from '../../src/model/connectionConfig';

test('connection settings edited by hand: bad entries are reported, good ones kept', () => {
  const { connections, problems } = parseConnections([
    { name: 'local', host: '127.0.0.1', port: 7401 },
    { name: 'broken', host: '', port: 99999 },
    { name: 'local', host: 'x', port: 1 },
  ]);
  assert.deepEqual(connections.map((c) => c.name), ['local']);
  assert.equal(problems.length, 2);
  assert.match(problems[0], /broken/);
  assert.match(problems[1], /duplicate name/);
  assert.equal(validatePort('0'), 'The port must be between 1 and 65535.');
  assert.equal(validatePort('7401'), undefined);
  assert.ok(validateHost('tcp://x'));
});

test('a host typed with its port is caught, with a hint where the port goes; IPv6 addresses are fine', () => {
  assert.match(validateHost('db.internal:7401') ?? '', /port comes in the next step/);
  assert.equal(validateHost('::1'), undefined);
  assert.match(validateHost('[::1]:7401') ?? '', /without brackets/);
  assert.equal(validateHost('db.internal'), undefined);
});

test('certificate paths: ~ is the home folder, relative paths are refused rather than read from somewhere unexpected', () => {
  assert.equal(resolveUserPath('~/certs/ca.pem'), join(homedir(), 'certs/ca.pem'));
  assert.equal(resolveUserPath(' /etc/ssl/ca.pem '), '/etc/ssl/ca.pem');
  assert.equal(resolveUserPath('certs/ca.pem'), undefined);
});

test('a definition written by hand in another key order is the same definition; a changed value is not', () => {
  const byHand = { port: 7401, tls: { rejectUnauthorized: true, enabled: true }, host: 'db', name: 'prod' };
  const byWizard = { name: 'prod', host: 'db', port: 7401, tls: { enabled: true, rejectUnauthorized: true } };
  assert.ok(sameSettings(byHand, byWizard));
  assert.ok(!sameSettings(byHand, { ...byWizard, tls: { enabled: true, rejectUnauthorized: false } }));
  assert.ok(!sameSettings(byHand, { ...byWizard, readOnly: true }));
});
