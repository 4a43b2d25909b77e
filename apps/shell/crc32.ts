// IEEE 802.3 CRC-32 (reflected polynomial 0xedb88320, initial and final XOR 0xffffffff),
// as zlib's crc32 computes it, for checking what `blk read` read against the host's
// image. Slicing-by-8: eight bytes per loop turn, which matters on an interpreter.

const POLY = 0xedb88320;

/** tables[k][n]: the CRC contribution of byte n seen k bytes before the end of a word.
 * Built on the first JavaScript CRC, not when the module loads: on XS under TCG the
 * 2,304 table entries take ~55 ms, which every boot paid before the prompt although the
 * firmware's CRCs over DMA memory are native (crc32Dma). */
let tables: Uint32Array[] | null = null;

function crcTables(): Uint32Array[] {
  tables ??= buildTables();
  return tables;
}

function buildTables(): Uint32Array[] {
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLY ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  const out = [t0];
  for (let k = 1; k < 8; k++) {
    const prev = out[k - 1]!;
    const t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) t[n] = (prev[n]! >>> 8) ^ t0[prev[n]! & 0xff]!;
    out.push(t);
  }
  return out;
}

/** Continues a CRC-32 over `bytes` (start with 0); returns the new CRC (unsigned). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = crcTables() as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = ~crc;
  let i = 0;
  const n = bytes.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    const lo = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    const hi = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
    c =
      t7[lo & 0xff]! ^ t6[(lo >>> 8) & 0xff]! ^ t5[(lo >>> 16) & 0xff]! ^ t4[lo >>> 24]! ^
      t3[hi & 0xff]! ^ t2[(hi >>> 8) & 0xff]! ^ t1[(hi >>> 16) & 0xff]! ^ t0[hi >>> 24]!;
    i += 8;
  }
  while (i < n) c = t0[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** A CRC as `blk read` prints it: 8 lowercase hex digits. */
export function crc32Hex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, "0");
}

/** A native CRC over DMA memory, when the platform installs one (the firmware's
 * `__xsDmaCrc32`); the interpreter walks bytes too slowly for a 16 MiB check. */
type NativeDmaCrc = (phys: number, length: number, crc: number) => number;

/** Continues a CRC-32 over the first `length` bytes of a DMA buffer: natively where the
 * platform can, else in JavaScript. */
export function crc32Dma(buffer: { readonly phys: number; readonly bytes: Uint8Array }, length: number, crc = 0): number {
  const native = (globalThis as { __xsDmaCrc32?: NativeDmaCrc }).__xsDmaCrc32;
  if (typeof native === "function") return native(buffer.phys, length, crc >>> 0) >>> 0;
  return crc32(buffer.bytes.subarray(0, length), crc);
}
