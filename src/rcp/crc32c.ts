/**
 * CRC-32C (Castagnoli). The native implementation from `@node-rs/crc32` is used
 * when it loads; otherwise a slicing-by-8 TypeScript implementation, so the
 * client keeps working where the prebuilt addon is missing (other platforms,
 * a bundle that could not carry it).
 */

const POLY = 0x82f63b78;

function makeTables(): Uint32Array[] {
  const tables: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[i] = c >>> 0;
  }
  tables.push(t0);
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1];
    const cur = new Uint32Array(256);
    for (let i = 0; i < 256; i++) cur[i] = (prev[i] >>> 8) ^ t0[prev[i] & 0xff];
    tables.push(cur);
  }
  return tables;
}

let tables: Uint32Array[] | undefined;

/** Pure TypeScript CRC-32C; `initial` continues a previous result. */
export function crc32cFallback(data: Uint8Array, initial = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = (tables ??= makeTables());
  let crc = ~initial >>> 0;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    const a = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) ^ crc;
    crc =
      t7[a & 0xff] ^
      t6[(a >>> 8) & 0xff] ^
      t5[(a >>> 16) & 0xff] ^
      t4[a >>> 24] ^
      t3[data[i + 4]] ^
      t2[data[i + 5]] ^
      t1[data[i + 6]] ^
      t0[data[i + 7]];
    i += 8;
  }
  while (i < n) crc = t0[(crc ^ data[i++]) & 0xff] ^ (crc >>> 8);
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
