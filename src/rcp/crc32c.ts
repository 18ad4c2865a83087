/**
 * CRC-32C (Castagnoli). The native implementation from `@node-rs/crc32` is used
 * when it loads; otherwise a slicing-by-16 TypeScript implementation, so the
 * client keeps working where the prebuilt addon is missing (other platforms,
 * a bundle that could not carry it).
 */
import { endianness } from 'node:os';

const POLY = 0x82f63b78;

/**
 * The 16 slicing tables in one array (table t at t * 256). One array, not 16:
 * sixteen table bases do not fit in registers, and the spills cost more than
 * the lookups (measured: about twice as fast).
 */
function makeTable(): Int32Array {
  const table = new Int32Array(16 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    table[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    for (let t = 1; t < 16; t++) {
      const prev = table[(t - 1) * 256 + i];
      table[t * 256 + i] = (prev >>> 8) ^ table[prev & 0xff];
    }
  }
  return table;
}

let table: Int32Array | undefined;
/** Whole 32-bit words can be read in the order the tables expect (every platform Node runs on, in practice). */
const littleEndian = endianness() === 'LE';
/** Below this, words save less than the setup costs. */
const WORDS_FROM = 64;
/**
 * A word view over a whole ArrayBuffer, kept for the next call: payloads of one
 * socket read, and small Buffers from Node's pool, share one, and making a view
 * per call costs as much as checksumming a few hundred bytes. Large buffers are
 * not kept (their view would keep them alive).
 */
let viewOf: ArrayBufferLike | undefined;
let view: Int32Array | undefined;
const KEEP_VIEW_BYTES = 1024 * 1024;

function wordsOf(buffer: ArrayBufferLike): Int32Array {
  if (buffer === viewOf) return view!;
  const words = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
  if (buffer.byteLength <= KEEP_VIEW_BYTES) {
    viewOf = buffer;
    view = words;
  }
  return words;
}

/** Pure TypeScript CRC-32C (slicing-by-16 over aligned 32-bit words); `initial` continues a previous result. */
export function crc32cFallback(data: Uint8Array, initial = 0): number {
  const t = (table ??= makeTable());
  let crc = ~initial;
  let i = 0;
  const n = data.length;
  if (littleEndian && n >= WORDS_FROM) {
    // Bytes up to a 4-byte boundary, then 16 bytes (four words) a step.
    const head = (4 - (data.byteOffset & 3)) & 3;
    while (i < head) crc = t[(crc ^ data[i++]) & 0xff] ^ (crc >>> 8);
    const blocks = (n - i) >>> 4;
    const w = wordsOf(data.buffer);
    const first = (data.byteOffset + i) >>> 2;
    const end = first + blocks * 4;
    for (let j = first; j < end; j += 4) {
      const a = w[j] ^ crc;
      const b = w[j + 1];
      const c = w[j + 2];
      const d = w[j + 3];
      crc =
        t[3840 | (a & 0xff)] ^ t[3584 | ((a >>> 8) & 0xff)] ^ t[3328 | ((a >>> 16) & 0xff)] ^ t[3072 | (a >>> 24)] ^
        t[2816 | (b & 0xff)] ^ t[2560 | ((b >>> 8) & 0xff)] ^ t[2304 | ((b >>> 16) & 0xff)] ^ t[2048 | (b >>> 24)] ^
        t[1792 | (c & 0xff)] ^ t[1536 | ((c >>> 8) & 0xff)] ^ t[1280 | ((c >>> 16) & 0xff)] ^ t[1024 | (c >>> 24)] ^
        t[768 | (d & 0xff)] ^ t[512 | ((d >>> 8) & 0xff)] ^ t[256 | ((d >>> 16) & 0xff)] ^ t[d >>> 24];
    }
    i += blocks * 16;
  }
  while (i < n) crc = t[(crc ^ data[i++]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

type NativeCrc = (input: Buffer, initial?: number | null) => number;

function loadNative(): NativeCrc | undefined {
  if (process.env.RSTMDB_CRC_FALLBACK === '1') return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require('@node-rs/crc32') as { crc32c?: NativeCrc };
    if (typeof mod.crc32c !== 'function') return undefined;
    // A broken binary must not silently corrupt every frame: check it once.
    if (mod.crc32c(Buffer.from('123456789')) >>> 0 !== 0xe3069283) return undefined;
    return mod.crc32c;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/** Which implementation `crc32c` uses in this process. */
export const crc32cImplementation: 'native' | 'fallback' = native ? 'native' : 'fallback';

/** The native CRC-32C, or undefined when the addon could not be loaded. */
export const crc32cNative: ((data: Buffer, initial?: number) => number) | undefined = native
  ? (data, initial = 0) => native(data, initial) >>> 0
  : undefined;

/** CRC-32C of `data`, native when available. */
export function crc32c(data: Buffer, initial = 0): number {
  return native ? native(data, initial) >>> 0 : crc32cFallback(data, initial);
}
