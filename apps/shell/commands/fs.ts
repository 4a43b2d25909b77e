// `fs ...`: the host's files over virtio-9p (drivers/9p): ls, cat, put, fill, stat, rm,
// mv, mkdir, and cp between a 9p file and a virtio-blk disk (`fs cp host:/in.bin blk:0`,
// `fs cp blk:0:BYTES host:/out.bin`), streamed in chunks with the CRC-32 of the bytes
// copied, so a test can load a disk image or vectors from the host and write results back.
// A path may be "quoted" to hold blanks; the blk disk is the first one (the `blk` global).

import type { NinepDriver } from "../../../drivers/9p/ninep-driver.js";
import type { NinepFiles } from "../../../drivers/9p/ninep-files.js";
import { utf8 } from "../../../drivers/9p/ninep-codec.js";
import type { BlockDevice } from "../../../drivers/blk/block-device.js";
import { UsageError, type Command, type CommandIO } from "../command.js";
import { crc32, crc32Dma, crc32Hex } from "../crc32.js";
import type { DmaBuffer } from "../../../platform/platform.js";

const USAGE = "fs ls PATH | cat PATH | put PATH TEXT | fill PATH BYTES [SEED] | stat PATH | rm PATH | mv FROM TO | mkdir PATH | cp host:PATH blk:LBA | cp blk:LBA:BYTES host:PATH";
const SECTOR = 512;
/** Bytes per chunk of `fs cp` (two in DMA memory) and `fs fill` (a multiple of the sector size). */
export const FS_CHUNK = 1024 * 1024;
/** Most bytes `fs cat` prints. */
export const CAT_MAX = 64 * 1024;

export type NinepSource = Pick<NinepDriver, "share">;

/** Splits a raw argument text into words; "..." keeps blanks; the last word may be the rest. */
export function words(text: string, max: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length && out.length < max) {
    while (text[i] === " ") i++;
    if (i >= text.length) break;
    if (out.length === max - 1 && text[i] !== '"') {
      out.push(text.slice(i));
      break;
    }
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new UsageError("unterminated quote");
      out.push(text.slice(i + 1, end));
      i = end + 1;
    } else {
      let end = text.indexOf(" ", i);
      if (end < 0) end = text.length;
      out.push(text.slice(i, end));
      i = end;
    }
  }
  return out;
}

function count(text: string | undefined, what: string): number {
  const n = text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${what} must be a non-negative integer, not "${String(text)}"`);
  return n;
}

/** The byte `i` of `fs fill` with `seed` (tests compute the same on the host). */
export function fillByte(i: number, seed: number): number {
  return (Math.imul(i, 31) + seed + (i >>> 8)) & 0xff;
}

function disk(io: CommandIO): BlockDevice {
  const blk = io.globals["blk"] as { devices(): readonly BlockDevice[] } | undefined;
  const d = blk?.devices()[0];
  if (d === undefined) throw new UsageError("no virtio-blk disk");
  return d;
}

/**
 * host -> blk. Two DMA chunks in turn: the 9p reads of one (several Treads in flight)
 * overlap the disk's write of the other, straight from DMA memory (no bounce copy), and
 * the CRC-32 runs natively over DMA memory (crc32Dma): in JavaScript it cost ~2 s per
 * 256 KiB under TCG, most of the old 0.45 MB/s.
 */
async function copyToDisk(files: NinepFiles, path: string, d: BlockDevice, lba: number, io: CommandIO): Promise<void> {
  const file = await files.openFile({ path });
  const chunks = new CopyChunks(io);
  let writing: Promise<void> | null = null;
  try {
    const { size } = await file.status();
    const sectors = Math.ceil(size / SECTOR);
    d.check(lba, sectors, true);
    let crc = 0;
    for (let at = 0, k = 0; at < size; at += FS_CHUNK, k ^= 1) {
      const n = Math.min(FS_CHUNK, size - at);
      const chunk = chunks.get(k);
      // The other chunk's write is in flight meanwhile; this one's finished before.
      const got = await file.read(chunk.bytes.subarray(0, n), at);
      if (got !== n) throw new Error(`${path}: read ${got} bytes at ${at}, expected ${n} (file shrank?)`);
      crc = crc32Dma(chunk, n, crc);
      const padded = Math.ceil(n / SECTOR) * SECTOR;
      chunk.bytes.fill(0, n, padded);
      if (writing !== null) await writing;
      writing = null;
      if (io.interrupted) throw new Error(`interrupted after ${at} bytes`);
      writing = d.write(lba + at / SECTOR, padded === chunk.size ? chunk : chunk.bytes.subarray(0, padded));
      writing.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
    }
    if (writing !== null) await writing;
    writing = null;
    await d.flush();
    io.print(`copied ${size} bytes host:${path} -> blk:${lba} (${sectors} sectors) crc32 ${crc32Hex(crc)}`);
  } finally {
    await chunks.free(writing); // the disk may still hold a chunk: freed once it gave it back
    await file.close();
  }
}

/** blk -> host: the disk reads straight into one DMA chunk while the other goes out in
 * Twrites; CRC-32 natively over DMA memory. */
async function copyFromDisk(files: NinepFiles, d: BlockDevice, lba: number, bytes: number, path: string, io: CommandIO): Promise<void> {
  d.check(lba, Math.ceil(bytes / SECTOR), false);
  const file = await files.openFile({ path, mode: "w" });
  const chunks = new CopyChunks(io);
  let writing: Promise<unknown> | null = null;
  try {
    let crc = 0;
    for (let at = 0, k = 0; at < bytes; at += FS_CHUNK, k ^= 1) {
      const n = Math.min(FS_CHUNK, bytes - at);
      const chunk = chunks.get(k);
      await d.read(lba + at / SECTOR, Math.ceil(n / SECTOR), chunk);
      crc = crc32Dma(chunk, n, crc);
      if (writing !== null) await writing;
      writing = null;
      if (io.interrupted) throw new Error(`interrupted after ${at} bytes`);
      writing = file.write(chunk.bytes.subarray(0, n), at);
      writing.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
    }
    if (writing !== null) await writing;
    writing = null;
    await file.flush();
    io.print(`copied ${bytes} bytes blk:${lba} -> host:${path} crc32 ${crc32Hex(crc)}`);
  } finally {
    await chunks.free(writing);
    await file.close();
  }
}

/** The two DMA chunks of a copy, allocated on first use. */
class CopyChunks {
  readonly #dma: CommandIO["platform"]["dma"];
  readonly #chunks: (DmaBuffer | null)[] = [null, null];

  constructor(io: CommandIO) {
    this.#dma = io.platform.dma;
  }

  get(k: number): DmaBuffer {
    return (this.#chunks[k] ??= this.#dma.alloc(FS_CHUNK));
  }

  /** After the transfer still in flight (if any) settled, whatever its outcome. */
  async free(inFlight: Promise<unknown> | null): Promise<void> {
    if (inFlight !== null) await inFlight.catch(() => undefined);
    for (const chunk of this.#chunks) if (chunk !== null) this.#dma.free(chunk);
    this.#chunks.fill(null);
  }
}

export function fsCommand(driver: NinepSource): Command {
  return {
    name: "fs",
    usage: USAGE,
    summary: "the host's files over virtio-9p: list, print, write, copy to/from a blk disk",
    rawArgs: true,
    async run(_args, io) {
      const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(io.argText);
      const sub = m?.[1];
      const argText = m?.[2] ?? "";
      if (sub === undefined) throw new UsageError("missing subcommand");
      const share = driver.share();
      if (share === undefined) {
        io.print("no virtio-9p device");
        return 1;
      }
      const files = share.files;
      const one = (): string => {
        const [p] = words(argText, 2);
        if (p === undefined) throw new UsageError("missing PATH");
        return p;
      };
      switch (sub) {
        case "ls": {
          const path = words(argText, 1)[0] ?? "/";
          for (const e of await files.readDirectory(path)) io.print(e.type === "directory" ? `${e.name}/` : e.name);
          return 0;
        }
        case "cat": {
          const path = one();
          const { size } = await files.status(path);
          if (size > CAT_MAX) throw new UsageError(`${path}: ${size} bytes (cat prints at most ${CAT_MAX})`);
          const data = await files.readFile(path);
          let text = "";
          for (const b of data) text += b >= 0x20 && b < 0x7f || b === 10 || b === 9 ? String.fromCharCode(b) : ".";
          io.write(text.endsWith("\n") || text === "" ? text : text + "\n");
          return 0;
        }
        case "put": {
          const [path, text] = words(argText, 2);
          if (path === undefined) throw new UsageError("missing PATH");
          const data = utf8(text ?? "");
          await files.writeFile(path, data);
          io.print(`wrote ${data.length} bytes to ${path}`);
          return 0;
        }
        case "fill": {
          const [path, n, s] = words(argText, 3);
          if (path === undefined) throw new UsageError("missing PATH");
          const bytes = count(n, "BYTES");
          const seed = s === undefined ? 0 : count(s, "SEED");
          const file = await files.openFile({ path, mode: "w" });
          let crc = 0;
          try {
            const chunk = new Uint8Array(Math.min(FS_CHUNK, Math.max(bytes, 1)));
            for (let at = 0; at < bytes; at += chunk.length) {
              const len = Math.min(chunk.length, bytes - at);
              for (let i = 0; i < len; i++) chunk[i] = fillByte(at + i, seed);
              crc = crc32(chunk.subarray(0, len), crc);
              await file.write(chunk.subarray(0, len), at);
            }
            await file.flush();
          } finally {
            await file.close();
          }
          io.print(`wrote ${bytes} bytes to ${path} crc32 ${crc32Hex(crc)}`);
          return 0;
        }
        case "stat": {
          const st = await files.status(one());
          io.print(`${st.type} ${st.size} bytes mode ${(st.mode & 0o7777).toString(8)}`);
          return 0;
        }
        case "rm":
          await files.delete(one());
          return 0;
        case "mkdir":
          await files.createDirectory(one());
          return 0;
        case "mv": {
          const [from, to] = words(argText, 2);
          if (from === undefined || to === undefined) throw new UsageError("mv needs FROM and TO");
          await files.rename(from, to.replace(/^"|"$/g, ""));
          return 0;
        }
        case "cp": {
          const [from, to] = words(argText, 2);
          if (from === undefined || to === undefined) throw new UsageError("cp needs FROM and TO");
          const blkTo = /^blk:(\d+)$/.exec(to);
          const blkFrom = /^blk:(\d+):(\d+)$/.exec(from);
          if (from.startsWith("host:") && blkTo) return copyToDisk(files, from.slice(5), disk(io), count(blkTo[1], "LBA"), io).then(() => 0);
          if (blkFrom && to.replace(/^"|"$/g, "").startsWith("host:")) {
            return copyFromDisk(files, disk(io), count(blkFrom[1], "LBA"), count(blkFrom[2], "BYTES"), to.replace(/^"|"$/g, "").slice(5), io).then(() => 0);
          }
          throw new UsageError("cp host:PATH blk:LBA, or cp blk:LBA:BYTES host:PATH");
        }
        default:
          throw new UsageError(`unknown subcommand "${sub}"`);
      }
    },
  };
}
