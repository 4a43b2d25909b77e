// Raw disk images for QEMU runs: the demo disk `npm start` attaches, deterministic
// pseudo-random images for tests and benchmarks, and the IEEE CRC-32 the shell's
// `blk read` prints, to check what the guest read.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export const SECTOR = 512;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Continues an IEEE CRC-32 (start with crc = 0). */
export function crc32(bytes, crc = 0) {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 as the shell prints it: 8 lowercase hex digits. */
export const crc32Hex = (bytes) => crc32(bytes).toString(16).padStart(8, "0");

/** CRC-32 of `count` sectors of a file from `lba`. */
export function fileCrc32(path, lba = 0, count = undefined) {
  const data = readFileSync(path);
  const start = lba * SECTOR;
  const end = count === undefined ? data.length : start + count * SECTOR;
  return crc32Hex(data.subarray(start, end));
}

/** xorshift32 bytes: the same seed gives the same image on every machine. */
export function pseudoRandomBytes(length, seed = 1) {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
    if (i + 1 < length) out[i + 1] = (x >>> 8) & 0xff;
    if (i + 2 < length) out[i + 2] = (x >>> 16) & 0xff;
    if (i + 3 < length) out[i + 3] = (x >>> 24) & 0xff;
  }
  return out;
}

function writeImage(path, sizeBytes, fillChunk) {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "w");
  try {
    const chunk = 1 << 20;
    for (let off = 0; off < sizeBytes; off += chunk) {
      const n = Math.min(chunk, sizeBytes - off);
      writeSync(fd, fillChunk(off, n), 0, n, off);
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/** Writes a raw image of pseudo-random bytes (size a multiple of 512). */
export function makeRandomImage(path, sizeBytes, seed = 1) {
  if (sizeBytes % SECTOR !== 0) throw new RangeError(`image size ${sizeBytes} is not a multiple of ${SECTOR}`);
  const all = pseudoRandomBytes(sizeBytes, seed);
  return writeImage(path, sizeBytes, (off, n) => all.subarray(off, off + n));
}

/** Writes a raw image filled with one byte value. */
export function makeFilledImage(path, sizeBytes, byte = 0) {
  if (sizeBytes % SECTOR !== 0) throw new RangeError(`image size ${sizeBytes} is not a multiple of ${SECTOR}`);
  return writeImage(path, sizeBytes, (_off, n) => new Uint8Array(n).fill(byte));
}

export const DEMO_DISK_SIZE = 1 << 20;
export const DEMO_DISK_MAGIC = "virtio-xs demo disk";

/**
 * The demo disk: 1 MiB where every sector starts with a readable line
 * "virtio-xs demo disk, sector N\n" and the rest is the sector number's low byte,
 * so `blk read` output is easy to recognise. Made once; returns the path.
 */
export function ensureDemoDisk(path) {
  if (existsSync(path) && statSync(path).size === DEMO_DISK_SIZE) return path;
  const sectors = DEMO_DISK_SIZE / SECTOR;
  const data = new Uint8Array(DEMO_DISK_SIZE);
  const enc = new TextEncoder();
  for (let s = 0; s < sectors; s++) {
    const base = s * SECTOR;
    data.fill(s & 0xff, base, base + SECTOR);
    data.set(enc.encode(`${DEMO_DISK_MAGIC}, sector ${s}\n`), base);
  }
  return writeImage(path, DEMO_DISK_SIZE, (off, n) => data.subarray(off, off + n));
}
