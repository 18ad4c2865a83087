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

/** Writes the 18-byte header for a payload of `length` bytes that already sits at `at + HEADER_BYTES`. */
function writeHeader(out: Buffer, at: number, length: number, flags: number): void {
  out.writeUInt32BE(MAGIC, at);
  out.writeUInt16BE(PROTOCOL_VERSION, at + 4);
  out.writeUInt16BE(flags, at + 6);
  out.writeUInt16BE(0, at + 8);
  out.writeUInt32BE(length, at + 10);
  const payload = out.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length);
  out.writeUInt32BE(flags & FLAG_CRC_PRESENT ? crc32c(payload) : 0, at + 14);
}

function oversize(length: number): FrameError {
  return new FrameError('oversize', `payload of ${length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte frame limit`);
}

/** One frame, header and payload in a single allocation; a string payload is encoded straight into it. */
export function encodeFrame(payload: Buffer | string, flags = FLAG_CRC_PRESENT): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
  if (length > MAX_PAYLOAD_BYTES) throw oversize(length);
  const out = Buffer.allocUnsafe(HEADER_BYTES + length);
  if (typeof payload === 'string') out.write(payload, HEADER_BYTES, 'utf8');
  else payload.copy(out, HEADER_BYTES);
  writeHeader(out, 0, length, flags);
  return out;
}

/** A JSON message as one frame: the JSON text is encoded once, straight into the frame. */
export function encodeMessage(message: unknown, flags = FLAG_CRC_PRESENT): Buffer {
  return encodeFrame(JSON.stringify(message), flags);
}

/**
 * Frames queued to leave in one write: each message's JSON is encoded straight
 * into one shared buffer behind its header (one copy per frame, no per-frame
 * allocation), and `take()` hands the whole run to the socket at once. Many
 * small buffers in one corked write cost far more (writev) than one buffer.
 */
/** A write queue larger than this is not reused for the next run. */
const MAX_REUSED_BYTES = 256 * 1024;

export class FrameWriter {
  private buf: Buffer;
  private used = 0;

  constructor(private readonly initialBytes = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes queued. */
  get length(): number {
    return this.used;
  }

  /** Queues `message` as a frame. Throws FrameError (oversize) and leaves the queue as it was. */
  push(message: unknown, flags = FLAG_CRC_PRESENT): void {
    const json = JSON.stringify(message);
    // UTF-8 needs at most 3 bytes per UTF-16 unit. When that much room is not left, count the
    // exact length (a scan, no copy) before growing the queue (a copy of what is queued).
    let room = json.length * 3;
    if (HEADER_BYTES + room > this.buf.length - this.used || room > MAX_PAYLOAD_BYTES) {
      room = Buffer.byteLength(json, 'utf8');
      if (room > MAX_PAYLOAD_BYTES) throw oversize(room);
      this.reserve(HEADER_BYTES + room);
    }
    const at = this.used;
    const length = this.buf.write(json, at + HEADER_BYTES, 'utf8');
    writeHeader(this.buf, at, length, flags);
    this.used = at + HEADER_BYTES + length;
  }

  /** Everything queued, as one buffer the caller now owns; the writer starts afresh. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.used);
    // The socket keeps `out` until it is written: go on in the rest of the buffer, or in a new
    // one sized for a run like this one (capped, so one large message is not kept alive).
    const rest = this.buf.length - this.used;
    if (rest >= 1024 && this.buf.buffer.byteLength <= MAX_REUSED_BYTES) {
      this.buf = this.buf.subarray(this.used);
    } else {
      this.buf = Buffer.allocUnsafe(Math.min(MAX_REUSED_BYTES, Math.max(this.initialBytes, this.used * 2)));
    }
    this.used = 0;
    return out;
  }

  private reserve(n: number): void {
    if (this.buf.length - this.used >= n) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + n));
    this.buf.copy(next, 0, 0, this.used);
    this.buf = next;
  }
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
