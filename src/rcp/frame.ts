import { isUtf8 } from 'node:buffer';
import { crc32c } from './crc32c';
import { FrameError } from './errors';

/** `RCPX` */
export const MAGIC = 0x52435058;
export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 18;
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

export const FLAG_CRC_PRESENT = 0x0001;
export const FLAG_COMPRESSED = 0x0002;
export const FLAG_STREAM = 0x0004;
export const FLAG_END_STREAM = 0x0008;
const VALID_FLAGS = 0x000f;

export interface Frame {
  flags: number;
  /** The JSON payload bytes; a view into the received data where possible. */
  payload: Buffer;
}

/** One frame, header and payload in a single allocation. */
export function encodeFrame(payload: Buffer | string, flags = FLAG_CRC_PRESENT): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (body.length > MAX_PAYLOAD_BYTES) {
    throw new FrameError('oversize', `payload of ${body.length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte frame limit`);
  }
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out.writeUInt32BE(MAGIC, 0);
  out.writeUInt16BE(PROTOCOL_VERSION, 4);
  out.writeUInt16BE(flags, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt32BE(body.length, 10);
  out.writeUInt32BE(flags & FLAG_CRC_PRESENT ? crc32c(body) : 0, 14);
  body.copy(out, HEADER_BYTES);
  return out;
}

/** A JSON message as one frame. */
export function encodeMessage(message: unknown, flags = FLAG_CRC_PRESENT): Buffer {
  return encodeFrame(JSON.stringify(message), flags);
}

export interface FrameDecoderOptions {
  maxPayloadBytes?: number;
  /** Check CRC32C when the frame says it carries one (default true). */
  verifyCrc?: boolean;
}

/**
 * Streaming decoder for RCPX frames. Accepts the byte stream split anywhere.
 * A payload that lies within one received chunk is returned as a view of it
 * (no copy); one that spans chunks is copied exactly once. An oversize length
 * is rejected from the header alone, before anything is allocated for it.
 * After a FrameError the decoder is unusable: the connection must end.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly maxPayload: number;
  private readonly verifyCrc: boolean;
  private failed: FrameError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxPayload = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
    this.verifyCrc = options.verifyCrc ?? true;
  }

  /** Bytes held waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Feed bytes; returns every frame completed by them. Throws FrameError. */
  push(chunk: Buffer): Frame[] {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    try {
      for (;;) {
        const frame = this.next();
        if (!frame) break;
        frames.push(frame);
      }
    } catch (err) {
      this.failed = err as FrameError;
      this.chunks = [];
      this.buffered = 0;
      throw err;
    }
    return frames;
  }

  private next(): Frame | undefined {
    if (this.buffered < HEADER_BYTES) return undefined;
    const header = this.peek(HEADER_BYTES);
    const magic = header.readUInt32BE(0);
    if (magic !== MAGIC) {
      throw new FrameError('bad_magic', `bad frame magic 0x${magic.toString(16).padStart(8, '0')} (expected RCPX)`);
    }
    const version = header.readUInt16BE(4);
    if (version !== PROTOCOL_VERSION) {
      throw new FrameError('bad_version', `unsupported frame version ${version}`);
    }
    const flags = header.readUInt16BE(6);
    if (flags & ~VALID_FLAGS) {
      throw new FrameError('bad_flags', `invalid frame flags 0x${flags.toString(16)}`);
    }
    const headerLen = header.readUInt16BE(8);
    const payloadLen = header.readUInt32BE(10);
    if (payloadLen > this.maxPayload) {
      throw new FrameError('oversize', `frame payload of ${payloadLen} bytes exceeds the ${this.maxPayload}-byte limit`);
    }
    const crc = header.readUInt32BE(14);
    const total = HEADER_BYTES + headerLen + payloadLen;
    if (this.buffered < total) return undefined;
    this.skip(HEADER_BYTES + headerLen);
    const payload = this.take(payloadLen);
    if (this.verifyCrc && flags & FLAG_CRC_PRESENT) {
      const actual = crc32c(payload);
      if (actual !== crc) {
        throw new FrameError(
          'crc_mismatch',
          `frame CRC32C mismatch (header 0x${crc.toString(16)}, payload 0x${actual.toString(16)})`,
        );
      }
    }
    return { flags, payload };
  }

  /** The first n buffered bytes, copied only when they span chunks (headers: 18 bytes). */
  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first.length >= n) return first;
    return this.gather(n, false);
  }

  private skip(n: number): void {
    while (n > 0) {
      const first = this.chunks[0];
      if (first.length <= n) {
        this.chunks.shift();
        this.buffered -= first.length;
        n -= first.length;
      } else {
        this.chunks[0] = first.subarray(n);
        this.buffered -= n;
        n = 0;
      }
    }
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    if (first.length >= n) {
      const view = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return view;
    }
    return this.gather(n, true);
  }

  /** Copy n bytes from the front of the queue into one buffer; consume them if asked. */
  private gather(n: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const c = this.chunks[i];
      const want = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, want);
      filled += want;
      if (consume) {
        if (want === c.length) {
          this.chunks.shift();
        } else {
          this.chunks[0] = c.subarray(want);
        }
        this.buffered -= want;
      } else {
        i++;
      }
    }
    return out;
  }
}

/**
 * Streaming decoder for JSONL (one JSON object per `\n`-terminated line), the
 * form a server writes once `jsonl` was negotiated. A line longer than the
 * frame limit is a protocol violation.
 */
export class LineDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed: FrameError | undefined;

  constructor(private readonly maxLineBytes = MAX_PAYLOAD_BYTES) {}

  push(chunk: Buffer): Buffer[] {
    if (this.failed) throw this.failed;
    const lines: Buffer[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      // However the line was split across reads, its whole length counts.
      if (this.buffered + (nl - start) > this.maxLineBytes) this.fail();
      let line: Buffer;
      if (this.buffered === 0) {
        line = chunk.subarray(start, nl);
      } else {
        this.chunks.push(chunk.subarray(start, nl));
        line = Buffer.concat(this.chunks, this.buffered + (nl - start));
        this.chunks = [];
        this.buffered = 0;
      }
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      if (line.length > 0) lines.push(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.chunks.push(chunk.subarray(start));
      this.buffered += chunk.length - start;
      if (this.buffered > this.maxLineBytes) this.fail();
    }
    return lines;
  }

  private fail(): never {
    this.failed = new FrameError('oversize', `JSONL line exceeds the ${this.maxLineBytes}-byte limit`);
    this.chunks = [];
    this.buffered = 0;
    throw this.failed;
  }
}

/** Parse a payload as a JSON object; anything else is a protocol violation. */
export function parseMessage(payload: Buffer): Record<string, unknown> {
  // The real server closes on invalid UTF-8; silently turning it into U+FFFD would change what was sent.
  if (!isUtf8(payload)) throw new FrameError('bad_json', 'payload is not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new FrameError('bad_json', `payload is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FrameError('bad_json', 'payload is not a JSON object');
  }
  return value as Record<string, unknown>;
}
