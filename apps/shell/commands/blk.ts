// `blk ...`: the block devices bound to virtio-blk, as U-Boot's `virtio` command gives
// them: info, read (CRC-32 of what was read), fill, flush, id, and dev to pick one.
// Large reads and fills stream through a few DMA buffers with several requests in
// flight and never hold the whole range in memory.

import type { DmaBuffer } from "../../../platform/platform.js";
import type { BlockDevice, BlockInfo } from "../../../drivers/blk/block-device.js";
import { UsageError, type Command, type CommandIO } from "../command.js";
import { crc32Dma, crc32Hex } from "../crc32.js";
import { bytes as byteCount, table } from "../format.js";
import { blkBench } from "./blk-bench.js";

/** Anything with the BlkDriver's `devices()` (the driver, or a test's fake). */
export interface BlkSource {
  devices(): readonly BlockDevice[];
}

export interface BlkCommandOptions {
  /** Sectors per streamed chunk (default 1024: 512 KiB, fewer if the DMA pool is short). */
  readonly chunkSectors?: number;
  /** Chunks in flight while streaming (default 3). */
  readonly depth?: number;
}

const USAGE = "blk info | read LBA COUNT | fill LBA COUNT BYTE | flush | id | dev [N]";
const SECTOR = 512;

/** A non-negative integer in decimal or 0x hex; UsageError otherwise. */
function parseCount(text: string | undefined, what: string): number {
  if (text === undefined) throw new UsageError(`missing ${what}`);
  const n = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text.slice(2), 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${what} must be a non-negative integer, not "${text}"`);
  return n;
}

function parseByte(text: string | undefined): number {
  if (text === undefined) throw new UsageError("missing BYTE");
  const t = text.replace(/^0x/i, "");
  if (!/^[0-9a-f]{1,2}$/i.test(t)) throw new UsageError(`BYTE must be one hex byte (00-ff), not "${text}"`);
  return parseInt(t, 16);
}

function describe(index: number, info: BlockInfo): string[] {
  const yes = (b: boolean) => (b ? "yes" : "no");
  const rows: string[][] = [
    ["device", `${index} (${info.location})`],
    ["capacity", `${info.capacity} sectors, ${byteCount(info.bytes)} bytes`],
    ["block size", `${info.blockSize}`],
    ["read-only", yes(info.readOnly)],
    ["flush", info.flush ? "yes" : "no (write-through)"],
    ["seg_max", info.segMax === null ? "-" : `${info.segMax}`],
    ["size_max", info.sizeMax === null ? "-" : `${info.sizeMax}`],
    ["max request", `${info.maxSectorsPerRequest} sectors (${info.maxSectorsPerDirectRequest} from DMA memory)`],
    ["discard", info.discard === null ? "no" : `max ${info.discard.maxSectors} sectors, ${info.discard.maxSeg} range(s)`],
    ["write zeroes", info.writeZeroes === null ? "no" : `max ${info.writeZeroes.maxSectors} sectors${info.writeZeroes.mayUnmap ? ", may unmap" : ""}`],
  ];
  if (info.geometry !== null) rows.push(["geometry", `${info.geometry.cylinders}/${info.geometry.heads}/${info.geometry.sectors} (C/H/S)`]);
  if (info.topology !== null) {
    const t = info.topology;
    rows.push(["topology", `physical block 2^${t.physicalBlockExp}, alignment ${t.alignmentOffset}, min io ${t.minIoSize}, opt io ${t.optIoSize}`]);
  }
  return table(rows);
}

export function blkCommand(source: BlkSource, options: BlkCommandOptions = {}): Command {
  const chunkSectors = options.chunkSectors ?? 1024;
  const depth = options.depth ?? 3;
  let selected = 0;

  const current = (io: CommandIO): BlockDevice | null => {
    const list = source.devices();
    const device = list[selected];
    if (device === undefined) {
      io.print(list.length === 0 ? "no virtio-blk device" : `no block device ${selected} (${list.length} found; use blk dev N)`);
      return null;
    }
    return device;
  };

  /** Up to `depth` DMA buffers of `chunkSectors` (fewer and smaller if the pool is short). */
  const buffers = (io: CommandIO, sectors: number): DmaBuffer[] => {
    const dma = io.platform.dma;
    const out: DmaBuffer[] = [];
    let size = Math.min(chunkSectors, sectors) * SECTOR;
    const want = Math.min(depth, Math.ceil(sectors / chunkSectors));
    while (out.length < want) {
      try {
        out.push(dma.alloc(size, 64));
      } catch (error) {
        if (out.length > 0) break;
        if (size <= SECTOR) throw error;
        size = Math.max(SECTOR, Math.floor(size / 2 / SECTOR) * SECTOR);
      }
    }
    return out;
  };

  /** Streams [lba, lba+count) through the buffers: `start(buffer, lba, n)` issues one
   * chunk, `done(buffer, n)` consumes it in order. Stops at Ctrl-C. */
  const stream = async (
    io: CommandIO,
    lba: number,
    count: number,
    start: (buffer: DmaBuffer, lba: number, n: number) => Promise<unknown>,
    done: (buffer: DmaBuffer, n: number) => void,
  ): Promise<boolean> => {
    const pool = buffers(io, count);
    const per = pool[0]!.size / SECTOR;
    const flying: { buffer: DmaBuffer; n: number; work: Promise<unknown> }[] = [];
    let next = lba;
    const end = lba + count;
    const issue = (buffer: DmaBuffer) => {
      const n = Math.min(per, end - next);
      flying.push({ buffer, n, work: start(buffer, next, n) });
      next += n;
    };
    try {
      for (const buffer of pool) if (next < end) issue(buffer);
      while (flying.length > 0) {
        const head = flying.shift()!;
        await head.work;
        done(head.buffer, head.n);
        if (io.interrupted) {
          await Promise.allSettled(flying.map((f) => f.work));
          return false;
        }
        if (next < end) issue(head.buffer);
      }
      return true;
    } finally {
      // Let every chunk in flight end before its buffer goes back to the pool.
      await Promise.allSettled(flying.map((f) => f.work));
      for (const buffer of pool) io.platform.dma.free(buffer);
    }
  };

  const sub: Record<string, (args: readonly string[], io: CommandIO) => Promise<number>> = {
    async bench(args, io) {
      const device = current(io);
      return device === null ? 1 : blkBench(args, io, device); // apps/shell/commands/blk-bench.ts
    },
    async info(args, io) {
      if (args.length !== 0) throw new UsageError("blk info takes no argument");
      const device = current(io);
      if (device === null) return 1;
      for (const line of describe(selected, device.info)) io.print(line);
      return 0;
    },
    async read(args, io) {
      if (args.length !== 2) throw new UsageError("blk read LBA COUNT");
      const lba = parseCount(args[0], "LBA");
      const count = parseCount(args[1], "COUNT");
      const device = current(io);
      if (device === null) return 1;
      device.check(lba, count); // the whole range, before any memory is taken
      let crc = 0;
      const complete = await stream(
        io, lba, count,
        (buffer, at, n) => device.read(at, n, buffer),
        (buffer, n) => void (crc = crc32Dma(buffer, n * SECTOR, crc)),
      );
      if (!complete) {
        io.print("interrupted");
        return 1;
      }
      io.print(`crc32=${crc32Hex(crc)}`);
      return 0;
    },
    async fill(args, io) {
      if (args.length !== 3) throw new UsageError("blk fill LBA COUNT BYTE");
      const lba = parseCount(args[0], "LBA");
      const count = parseCount(args[1], "COUNT");
      const byte = parseByte(args[2]);
      const device = current(io);
      if (device === null) return 1;
      device.check(lba, count, true);
      const complete = await stream(
        io, lba, count,
        (buffer, at, n) => {
          const size = n * SECTOR;
          const bytes = buffer.bytes.subarray(0, size);
          bytes.fill(byte);
          // The DMA buffer itself (its first n sectors): written with no copy.
          return device.write(at, { phys: buffer.phys, size, bytes, view: buffer.view });
        },
        () => {},
      );
      if (!complete) {
        io.print("interrupted");
        return 1;
      }
      io.print(`wrote ${count} sectors of 0x${byte.toString(16).padStart(2, "0")} at ${lba}`);
      return 0;
    },
    async flush(args, io) {
      if (args.length !== 0) throw new UsageError("blk flush takes no argument");
      const device = current(io);
      if (device === null) return 1;
      await device.flush();
      io.print(device.info.flush ? "flushed" : "flushed (write-through device: nothing to send)");
      return 0;
    },
    async id(args, io) {
      if (args.length !== 0) throw new UsageError("blk id takes no argument");
      const device = current(io);
      if (device === null) return 1;
      const id = await device.id();
      io.print(id === "" ? "(empty: the device has no serial)" : id);
      return 0;
    },
    async dev(args, io) {
      const list = source.devices();
      if (args.length > 1) throw new UsageError("blk dev [N]");
      if (args.length === 1) {
        const n = parseCount(args[0], "N");
        if (n >= list.length) {
          io.print(list.length === 0 ? "no virtio-blk device" : `no block device ${n}: ${list.length} found (0-${list.length - 1})`);
          return 1;
        }
        selected = n;
      }
      if (list.length === 0) {
        io.print("no virtio-blk device");
        return 1;
      }
      list.forEach((d, i) => {
        let size = "not ready";
        try {
          size = `${d.capacity} sectors`;
        } catch {
          // keep "not ready"
        }
        io.print(`${i === selected ? "*" : " "} ${i}  ${d.location}  ${size}`);
      });
      return 0;
    },
  };

  return {
    name: "blk",
    usage: USAGE,
    summary: "virtio-blk: info, read (prints crc32=...), fill, flush, id, dev N (pick a device)",
    async run(args, io) {
      const name = args[0];
      if (name === undefined) throw new UsageError("which blk command?");
      const handler = Object.prototype.hasOwnProperty.call(sub, name) ? sub[name] : undefined;
      if (handler === undefined) throw new UsageError(`unknown blk command "${name}"`);
      try {
        return await handler(args.slice(1), io);
      } catch (error) {
        if (error instanceof UsageError) throw error;
        const e = error instanceof Error ? error : new Error(String(error));
        io.print(`${e.name}: ${e.message}`);
        return 1;
      }
    },
  };
}
