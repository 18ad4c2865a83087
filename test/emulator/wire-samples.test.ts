/**
 * Known-good wire samples (wire-samples.json, computed from the notes with a
 * bit-at-a-time CRC-32C) decoded and re-encoded byte for byte by both sides:
 * the client's framing (src/rcp/frame.ts) and the emulator's own
 * (test/emulator/wire.ts). A mistake shared by both — a little-endian CRC, a
 * length in characters instead of bytes — fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encodeMessage, FrameDecoder, LineDecoder, parseMessage } from '../../src/rcp/frame';
import { parseJson } from './json';
import { crc32c, encodeJsonFrame, encodeJsonLine, FrameReader } from './wire';

interface Sample {
  name: string;
  hex: string;
  message: Record<string, unknown>;
}
const samples = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'test', 'emulator', 'wire-samples.json'), 'utf8')) as {
  crc32c_check: { input: string; crc: string };
  frames: Sample[];
  jsonl: Sample[];
};

describe('known-good wire samples', { timeout: 60_000 }, () => {
  test('the emulator computes the CRC-32C check value', () => {
    assert.equal(crc32c(Buffer.from(samples.crc32c_check.input)).toString(16), samples.crc32c_check.crc);
  });

  for (const s of samples.frames) {
    const bytes = Buffer.from(s.hex, 'hex');

    test(`${s.name}: the client decodes the frame and re-encodes it byte for byte`, () => {
      const frames = new FrameDecoder().push(bytes);
      assert.equal(frames.length, 1);
      const msg = parseMessage(frames[0].payload);
      assert.deepEqual(msg, s.message);
      assert.equal(encodeMessage(msg).toString('hex'), s.hex);
    });

    test(`${s.name}: the emulator decodes the frame and re-encodes it byte for byte`, () => {
      const reader = new FrameReader();
      reader.push(bytes);
      const payload = reader.next();
      assert.ok(payload);
      assert.equal(reader.next(), undefined);
      const msg = parseJson(payload).value;
      assert.deepEqual(msg, s.message);
      assert.equal(encodeJsonFrame(msg).toString('hex'), s.hex);
    });
  }

  for (const s of samples.jsonl) {
    const bytes = Buffer.from(s.hex, 'hex');
    test(`${s.name}: the client reads the JSONL line; both sides write it byte for byte`, () => {
      const lines = new LineDecoder().push(bytes);
      assert.equal(lines.length, 1);
      const msg = parseMessage(lines[0]);
      assert.deepEqual(msg, s.message);
      assert.equal(Buffer.from(JSON.stringify(msg) + '\n').toString('hex'), s.hex);
      const emu = parseJson(bytes.subarray(0, bytes.length - 1)).value;
      assert.deepEqual(emu, s.message);
      assert.equal(encodeJsonLine(emu).toString('hex'), s.hex);
    });
  }
});
