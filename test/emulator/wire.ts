/**
 * The emulator's own RCP framing, written from rcp-notes.md ("Framing"), with
 * nothing shared with the client in src/rcp: a bug copied on both sides (a
 * little-endian CRC, say) would otherwise pass every test. The known-good wire
 * samples in wire-samples.json pin both sides to the same bytes.
 *
 * 18-byte header, big-endian: magic "RCPX", version 1, flags (0x000F valid),
 * header_len (extension, skipped), payload_len (≤ 16 MiB), CRC-32C of the payload.
 */

const MAGIC = Buffer.from('RCPX', 'ascii');
const VERSION = 1;
const HEADER = 18;
export const MAX_PAYLOAD = 16 * 1024 * 1024;
const CRC_PRESENT = 0x0001;
const VALID_FLAGS = 0x000f;

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), one table, byte at a time. */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32cTable(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The native CRC-32C from the @node-rs/crc32 package (a dependency, not the
 * client's code) when it loads and passes the check value; the table otherwise.
 */
const nativeCrc = ((): ((b: Buffer) => number) | undefined => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const f = (require('@node-rs/crc32') as { crc32c?: (b: Buffer) => number }).crc32c;
    if (typeof f === 'function' && f(Buffer.from('123456789')) >>> 0 === 0xe3069283) return (b) => f(b) >>> 0;
  } catch {
    // the table below does the same, slower
  }
  return undefined;
})();

export function crc32c(data: Buffer): number {
  return nativeCrc ? nativeCrc(data) : crc32cTable(data);
}

/** The CRC of a definition etc., as the server prints it: 8 lower-case hex digits. */
export function crcHex(text: string): string {
  return crc32c(Buffer.from(text, 'utf8')).toString(16).padStart(8, '0');
}

/** One frame with CRC_PRESENT, as the server sends every frame. */
export function encodeFrame(payload: Buffer): Buffer {
  const out = Buffer.alloc(HEADER + payload.length);
  MAGIC.copy(out, 0);
  out.writeUInt16BE(VERSION, 4);
  out.writeUInt16BE(CRC_PRESENT, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt32BE(payload.length, 10);
  out.writeUInt32BE(crc32c(payload), 14);
  payload.copy(out, HEADER);
  return out;
}

export function encodeJsonFrame(message: unknown): Buffer {
  return encodeFrame(Buffer.from(JSON.stringify(message), 'utf8'));
}

/** One JSONL line, as the server writes responses and events once `jsonl` was negotiated. */
export function encodeJsonLine(message: unknown): Buffer {
  return Buffer.from(JSON.stringify(message) + '\n', 'utf8');
}

/** Why a stream of frames cannot go on: the server closes without a response. */
export class FramingError extends Error {}

/**
 * Incremental frame reader. `next()` yields one payload at a time, so frames
 * before a bad one are answered before the connection closes, as the server
 * does (it decodes, answers, then decodes the next).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The first n bytes in one buffer (copies only when they span chunks). */
  private front(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks, this.length)];
    return this.chunks[0];
  }

  /** The next complete payload, undefined when more bytes are needed; throws FramingError. */
  next(): Buffer | undefined {
    if (this.length < HEADER) return undefined;
    const b = this.front(HEADER);
    if (b.compare(MAGIC, 0, 4, 0, 4) !== 0) throw new FramingError(`bad magic ${b.subarray(0, 4).toString('hex')}`);
    const version = b.readUInt16BE(4);
    if (version !== VERSION) throw new FramingError(`unsupported frame version ${version}`);
    const flags = b.readUInt16BE(6);
    if (flags & ~VALID_FLAGS) throw new FramingError(`invalid flags 0x${flags.toString(16)}`);
    const extLen = b.readUInt16BE(8);
    const len = b.readUInt32BE(10);
    if (len > MAX_PAYLOAD) throw new FramingError(`frame of ${len} bytes is over the limit`);
    const crc = b.readUInt32BE(14);
    const total = HEADER + extLen + len;
    if (this.length < total) return undefined;
    const whole = this.front(total);
    const payload = whole.subarray(HEADER + extLen, total);
    if (flags & CRC_PRESENT && crc32c(payload) !== crc) throw new FramingError('CRC mismatch');
    if (whole.length === total) this.chunks.shift();
    else this.chunks[0] = whole.subarray(total);
    this.length -= total;
    return payload;
  }
}
