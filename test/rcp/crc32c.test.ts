import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32c, crc32cFallback, crc32cImplementation, crc32cNative } from '../../src/rcp/crc32c';

const CHECK = Buffer.from('123456789', 'ascii');

test('the native CRC32C module loads on this machine', () => {
  assert.equal(crc32cImplementation, 'native');
  assert.ok(crc32cNative);
});

test('both implementations give the standard check value 0xE3069283 for "123456789"', () => {
  assert.equal(crc32cFallback(CHECK), 0xe3069283);
  assert.equal(crc32cNative!(CHECK), 0xe3069283);
  assert.equal(crc32c(CHECK), 0xe3069283);
});

test('native and fallback agree on random data of every small length and on large buffers', () => {
  for (let len = 0; len < 300; len++) {
    const data = randomBytes(len);
    assert.equal(crc32cFallback(data), crc32cNative!(data), `length ${len}`);
  }
  for (const len of [4096, 65_537, 1 << 20]) {
    const data = randomBytes(len);
    assert.equal(crc32cFallback(data), crc32cNative!(data), `length ${len}`);
  }
});

test('the fallback agrees with the native CRC at every alignment (frames put payloads at odd offsets)', () => {
  const backing = randomBytes(4096 + 8);
  for (const len of [63, 64, 65, 79, 80, 81, 1000, 4096]) {
    for (let offset = 0; offset < 8; offset++) {
      const view = backing.subarray(offset, offset + len);
      assert.equal(crc32cFallback(view), crc32cNative!(view), `length ${len} at offset ${offset}`);
    }
  }
});

test('a CRC can be continued across pieces', () => {
  const data = randomBytes(10_000);
  const whole = crc32cFallback(data);
  const split = crc32cFallback(data.subarray(3333), crc32cFallback(data.subarray(0, 3333)));
  assert.equal(split, whole);
  assert.equal(crc32cNative!(data.subarray(3333), crc32cNative!(data.subarray(0, 3333))), whole);
});

test('the fallback is chosen when the native module is disabled', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `const c = require(${JSON.stringify(require.resolve('../../src/rcp/crc32c'))});
    process.stdout.write(c.crc32cImplementation + ' ' + c.crc32c(Buffer.from('123456789')).toString(16));`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, RSTMDB_CRC_FALLBACK: '1' } });
  assert.equal(r.stdout.toString(), 'fallback e3069283');
});
