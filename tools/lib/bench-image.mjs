// The bench disk: a raw image of deterministic pseudo-random bytes (xorshift32, as
// disk-image.mjs makes them) where every 4 KiB block starts with its own index (u32 LE)
// and the CRC-32 of its bytes 8..4095 (u32 LE), so a guest can check any 4 KiB read on
// its own (`blk bench read4k`), and the host knows the CRC-32 of every range.
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { dirname } from "node:path";
import { crc32, pseudoRandomBytes } from "./disk-image.mjs";

export const BLOCK = 4096;
export const BENCH_IMAGE_BYTES = 64 << 20;

/** The image's bytes (size a multiple of 4 KiB). */
export function benchImageBytes(size = BENCH_IMAGE_BYTES, seed = 0x5eed) {
  const data = pseudoRandomBytes(size, seed);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let off = 0; off < size; off += BLOCK) {
    view.setUint32(off, off / BLOCK, true);
    view.setUint32(off + 4, crc32(data.subarray(off + 8, off + BLOCK)), true);
  }
  return data;
}

/** Makes (once) the image at `path`; returns {path, bytes, crc32} (crc32 of the whole image). */
export function ensureBenchImage(path, size = BENCH_IMAGE_BYTES) {
  const meta = `${path}.json`;
  if (existsSync(path) && existsSync(meta) && statSync(path).size === size) {
    const m = JSON.parse(readFileSync(meta, "utf8"));
    if (m.size === size) return { path, bytes: size, crc32: m.crc32, data: null };
  }
  mkdirSync(dirname(path), { recursive: true });
  const data = benchImageBytes(size);
  writeFileSync(path, data);
  const crc = crc32(data).toString(16).padStart(8, "0");
  writeFileSync(meta, JSON.stringify({ size, crc32: crc }) + "\n");
  return { path, bytes: size, crc32: crc, data };
}

/** A fresh scratch copy for write workloads (the reads keep the original intact). */
export function scratchCopy(from, to) {
  copyFileSync(from, to);
  return to;
}
