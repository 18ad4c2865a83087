import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { FrameError } from '../../src/rcp/errors';
import {
  encodeFrame,
  encodeMessage,
  FLAG_CRC_PRESENT,
  FrameDecoder,
  FrameWriter,
  HEADER_BYTES,
  LineDecoder,
  MAX_PAYLOAD_BYTES,
  parseMessage,
} from '../../src/rcp/frame';

function messages(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'response',
    id: String(i),
    status: 'ok',
    result: { i, text: 'é'.repeat(i % 7), nested: { list: [i, i + 1] } },
  }));
}

function decodeAll(decoder: FrameDecoder, pieces: Buffer[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const p of pieces) for (const f of decoder.push(p)) out.push(parseMessage(f.payload));
  return out;
}

test('a multi-frame stream decodes identically whatever byte position it is split at', () => {
  const msgs = messages(5);
  const stream = Buffer.concat(msgs.map((m) => encodeMessage(m)));
  for (let cut = 0; cut <= stream.length; cut++) {
    const got = decodeAll(new FrameDecoder(), [stream.subarray(0, cut), stream.subarray(cut)]);
    assert.deepEqual(got, msgs, `split at ${cut}`);
  }
});

test('a stream fed one byte at a time, and split at two random points, decodes', () => {
  const msgs = messages(4);
  const stream = Buffer.concat(msgs.map((m) => encodeMessage(m)));
  const bytes = Array.from(stream, (b) => Buffer.from([b]));
  assert.deepEqual(decodeAll(new FrameDecoder(), bytes), msgs);
  for (let k = 0; k < 200; k++) {
    const a = Math.floor(Math.random() * stream.length);
    const b = a + Math.floor(Math.random() * (stream.length - a));
    const got = decodeAll(new FrameDecoder(), [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]);
    assert.deepEqual(got, msgs);
  }
});

test('a header extension is skipped', () => {
  const body = Buffer.from(JSON.stringify({ ok: 1 }));
  const plain = encodeFrame(body);
  const ext = Buffer.from('extension-bytes');
  const withExt = Buffer.concat([plain.subarray(0, HEADER_BYTES), ext, body]);
  withExt.writeUInt16BE(ext.length, 8);
  const [frame] = new FrameDecoder().push(withExt);
  assert.deepEqual(parseMessage(frame.payload), { ok: 1 });
});

test('a payload within one chunk is returned without copying', () => {
  const frame = encodeMessage({ big: 'x'.repeat(1000) });
  const [decoded] = new FrameDecoder().push(frame);
  assert.equal(decoded.payload.buffer, frame.buffer, 'payload should be a view of the received chunk');
});

function expectFrameError(bytes: Buffer, reason: FrameError['reason']) {
  const d = new FrameDecoder();
  assert.throws(
    () => d.push(bytes),
    (e: unknown) => e instanceof FrameError && e.reason === reason,
  );
  // A failed decoder stays failed: the connection must end.
  assert.throws(() => d.push(encodeMessage({ after: true })), FrameError);
}

test('bad magic is rejected, including the 16-byte "RCP1" header of the outdated overview', () => {
  const f = encodeMessage({ a: 1 });
  f.write('RCP1', 0, 'ascii');
  expectFrameError(f, 'bad_magic');
  expectFrameError(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), 'bad_magic');
});

test('bad version, bad flags, CRC mismatch and oversize are rejected', () => {
  const v = encodeMessage({ a: 1 });
  v.writeUInt16BE(2, 4);
  expectFrameError(v, 'bad_version');

  const fl = encodeMessage({ a: 1 });
  fl.writeUInt16BE(0x0010 | FLAG_CRC_PRESENT, 6);
  expectFrameError(fl, 'bad_flags');

  const c = encodeMessage({ a: 1 });
  c[c.length - 2] ^= 0xff;
  expectFrameError(c, 'crc_mismatch');

  // Only the header arrives: the limit is enforced before the payload is buffered.
  const o = encodeFrame(Buffer.alloc(0)).subarray(0, HEADER_BYTES);
  o.writeUInt32BE(MAX_PAYLOAD_BYTES + 1, 10);
  expectFrameError(o, 'oversize');
});

test('a CRC is not checked when the frame does not claim one', () => {
  const f = encodeFrame(Buffer.from('{"a":1}'), 0);
  f.writeUInt32BE(0xdeadbeef, 14);
  const [frame] = new FrameDecoder().push(f);
  assert.deepEqual(parseMessage(frame.payload), { a: 1 });
});

test('payloads that are not JSON objects are protocol errors', () => {
  for (const text of ['not json', '[1,2]', '42', 'null']) {
    assert.throws(
      () => parseMessage(Buffer.from(text)),
      (e: unknown) => e instanceof FrameError && e.reason === 'bad_json',
    );
  }
});

test('encoding refuses a payload over 16 MiB', () => {
  assert.throws(() => encodeFrame(Buffer.alloc(MAX_PAYLOAD_BYTES + 1)), FrameError);
});

test('random garbage never decodes silently into frames', () => {
  for (let i = 0; i < 200; i++) {
    const d = new FrameDecoder();
    const junk = randomBytes(64);
    try {
      const frames = d.push(junk);
      assert.equal(frames.length, 0);
    } catch (e) {
      assert.ok(e instanceof FrameError);
    }
  }
});

test('JSONL lines decode across any split and tolerate CRLF', () => {
  const msgs = messages(3);
  const stream = Buffer.from(msgs.map((m) => JSON.stringify(m)).join('\r\n') + '\n');
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new LineDecoder();
    const lines = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    assert.deepEqual(lines.map(parseMessage), msgs, `split at ${cut}`);
  }
});

test('a JSONL line over the limit is rejected', () => {
  const d = new LineDecoder(1024);
  assert.throws(() => d.push(Buffer.alloc(2048, 0x61)), FrameError);
});

test('a JSONL line over the limit is refused however it is split, including when its newline is in the same read', () => {
  const line = Buffer.from(`{"a":"${'x'.repeat(100)}"}\n`);
  const limit = line.length - 2; // one byte too long without its newline
  for (let cut = 0; cut <= line.length; cut++) {
    const d = new LineDecoder(limit);
    assert.throws(
      () => {
        d.push(line.subarray(0, cut));
        d.push(line.subarray(cut));
      },
      (e: unknown) => e instanceof FrameError && e.reason === 'oversize',
      `split at ${cut}`,
    );
  }
  const ok = new LineDecoder(line.length - 1);
  assert.equal(ok.push(line).length, 1, 'a line exactly at the limit is fine');
});

test('a payload that is not valid UTF-8 is refused rather than decoded with U+FFFD', () => {
  for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
    const payload = Buffer.concat([Buffer.from('{"a":"'), Buffer.from(bad), Buffer.from('"}')]);
    assert.throws(() => parseMessage(payload), /not valid UTF-8/, `bytes ${bad.map((b) => b.toString(16))}`);
  }
  assert.deepEqual(parseMessage(Buffer.from('{"a":"€ ✓"}')), { a: '€ ✓' });
});

test('FrameWriter queues frames back to back, byte for byte as encodeMessage makes them, across buffer growth', () => {
  const writer = new FrameWriter(64); // tiny, so the queue grows several times
  const msgs = [...messages(40), { type: 'request', id: 'big', op: 'PUT', params: { text: 'ü€😀'.repeat(3000) } }];
  for (const m of msgs) writer.push(m);
  const out = writer.take();
  assert.deepEqual(out, Buffer.concat(msgs.map((m) => encodeMessage(m))));
  assert.equal(writer.length, 0);
  // What was taken stays intact while the writer goes on (the socket may still hold it).
  const copy = Buffer.from(out);
  for (const m of messages(10)) writer.push(m);
  writer.take();
  assert.deepEqual(out, copy);
});

test('FrameWriter encodes the JSON straight into the frame: no intermediate Buffer, no copy', () => {
  const writer = new FrameWriter();
  const msg = { type: 'request', id: '1', op: 'GET_INSTANCE', params: { instance_id: 'x'.repeat(2000) } };
  writer.push(msg); // warm
  writer.take();
  const from = Buffer.from;
  const copy = Buffer.prototype.copy;
  let copies = 0;
  Buffer.from = ((...args: Parameters<typeof Buffer.from>) => {
    copies++;
    return (from as (...a: unknown[]) => Buffer)(...args);
  }) as typeof Buffer.from;
  Buffer.prototype.copy = function (this: Buffer, ...args: Parameters<Buffer['copy']>) {
    copies++;
    return copy.apply(this, args);
  };
  try {
    for (let i = 0; i < 5; i++) writer.push(msg);
  } finally {
    Buffer.from = from;
    Buffer.prototype.copy = copy;
  }
  assert.equal(copies, 0);
});

test('FrameWriter refuses an oversize message and keeps what was queued', () => {
  const writer = new FrameWriter();
  writer.push({ a: 1 });
  const before = writer.length;
  assert.throws(() => writer.push({ big: 'x'.repeat(MAX_PAYLOAD_BYTES) }), (e: unknown) => e instanceof FrameError && e.reason === 'oversize');
  assert.equal(writer.length, before);
  assert.deepEqual(writer.take(), encodeMessage({ a: 1 }));
});
