// `blk bench ...`: timed block workloads for `npm run bench` (tools/bench.mjs). Each
// prints ONE line of JSON. Time comes from platform.clock (the generic timer on `virt`);
// data goes straight into DMA buffers, never into JavaScript arrays.
//
// The bench image (tools/lib/bench-image.mjs) is checkable block by block: every 4 KiB
// block starts with its own index (u32 LE) and the CRC-32 of its bytes 8..4095 (u32 LE);
// the rest is a deterministic pseudo-random stream. Scattered reads check both; the
// sequential read returns the CRC-32 of the whole disk for the host to compare.

import type { DmaBuffer } from "../../../platform/platform.js";
import type { BlockDevice } from "../../../drivers/blk/block-device.js";
import { UsageError, type CommandIO } from "../command.js";
import { crc32, crc32Hex } from "../crc32.js";

export const BENCH_USAGE =
  "blk bench seq [REQ_KIB|max] [DEPTH] [PASSES] [nocrc] | read4k COUNT DEPTH [SEED] | write4k COUNT DEPTH [SEED] | stats";

const SECTOR = 512;
const BLOCK = 4096;
const SECTORS_PER_BLOCK = BLOCK / SECTOR;

type NativeDmaCrc = (phys: number, length: number, crc: number) => number;

/** CRC-32 of `length` bytes at `offset` in a DMA buffer: the firmware's native routine
 * when it has one (`__xsDmaCrc32`), else JavaScript (Node, the host model). */
function dmaCrc(buffer: DmaBuffer, offset: number, length: number, crc = 0): number {
  const native = (globalThis as { __xsDmaCrc32?: NativeDmaCrc }).__xsDmaCrc32;
  if (typeof native === "function") return native(buffer.phys + offset, length, crc >>> 0) >>> 0;
  return crc32(buffer.bytes.subarray(offset, offset + length), crc);
}

/** xorshift32: the scattered offsets, the same for one seed on every run. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function parseInteger(text: string | undefined, what: string, fallback?: number): number {
  if (text === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`missing ${what}`);
  }
  const n = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text.slice(2), 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${what} must be a positive integer, not "${text}"`);
  return n;
}

/** The core's per-device counters, found through the bus by the device's location. */
interface CounterSource {
  list?(deviceId?: number): readonly { readonly location: string; stats(): { readonly interrupts: number } }[];
}

interface Counters {
  readonly requests: number;
  readonly notifications: number;
  readonly kicks: number;
  readonly interrupts: number;
  /** Completions the watchdog's poll found (no interrupt for them). */
  readonly polled: number;
  /** ms the CPU slept waiting (the event loop's `wfi`; -1 where the platform does not say). */
  readonly idleMs: number;
}

function counters(io: CommandIO, device: BlockDevice): Counters {
  const q = device.queueStats();
  const bus = io.bus as CounterSource | null;
  const core = bus?.list?.(2).find((d) => d.location === device.location);
  return {
    requests: q?.added ?? 0,
    notifications: q?.notifications ?? 0,
    kicks: q?.kicks ?? 0,
    interrupts: core?.stats().interrupts ?? -1,
    polled: device.stats().polledCompletions,
    idleMs: io.platform.engineStats().idleMs ?? -1,
  };
}

/** What happened between two counter snapshots, per request too. */
function delta(before: Counters, after: Counters): Record<string, number> {
  const requests = after.requests - before.requests;
  const notifications = after.notifications - before.notifications;
  const interrupts = before.interrupts < 0 ? -1 : after.interrupts - before.interrupts;
  const per = (n: number) => (requests > 0 && n >= 0 ? Math.round((n / requests) * 10000) / 10000 : -1);
  return {
    requests,
    notifications,
    kicks: after.kicks - before.kicks,
    interrupts,
    polled: after.polled - before.polled,
    notificationsPerRequest: per(notifications),
    interruptsPerRequest: per(interrupts),
    // The CPU asleep, waiting for the device (the rest of the time it ran the stack).
    idleMs: before.idleMs < 0 ? -1 : Math.round((after.idleMs - before.idleMs) * 100) / 100,
  };
}

function heap(io: CommandIO): Record<string, number> {
  const s = io.platform.engineStats();
  const out: Record<string, number> = {};
  for (const key of ["chunksPeak", "slotsPeak", "chunksUsed", "slotsUsed"]) if (typeof s[key] === "number") out[key] = s[key]!;
  return out;
}

const round = (n: number, places = 3) => Math.round(n * 10 ** places) / 10 ** places;

function allocAll(io: CommandIO, count: number, size: number): DmaBuffer[] {
  const out: DmaBuffer[] = [];
  try {
    for (let i = 0; i < count; i++) out.push(io.platform.dma.alloc(size, 64));
  } catch (error) {
    for (const b of out) io.platform.dma.free(b);
    throw error;
  }
  return out;
}

/** A DMA buffer for `length` bytes at `offset` of `region`: the chunk one request fills. */
function chunkOf(region: DmaBuffer, offset: number, length: number): DmaBuffer {
  const bytes = region.bytes.subarray(offset, offset + length);
  return { phys: region.phys + offset, size: length, bytes, view: new DataView(bytes.buffer, bytes.byteOffset, length) };
}

/**
 * The whole disk into ONE DMA region as large as the disk (memory the caller can use
 * afterwards), PASSES times into the same region: requests of REQ_KIB (default the
 * driver's largest direct request), DEPTH of them in flight. Before each pass but the
 * first the first word of every 4 KiB block is overwritten (so a block the pass did not
 * write shows),
 * after it the CRC-32 of the region is taken; neither is timed (as the peers, which check
 * theirs after the read). The first pass of a boot is reported apart from the others.
 */
async function seq(args: readonly string[], io: CommandIO, device: BlockDevice): Promise<number> {
  const perDirect = device.info.maxSectorsPerDirectRequest;
  // REQ_KIB `max` (or left out): the driver's largest direct request.
  const requestKiB = args[0] === "max" ? (perDirect * SECTOR) / 1024 : parseInteger(args[0], "REQ_KIB", (perDirect * SECTOR) / 1024);
  const requestSectors = (requestKiB * 1024) / SECTOR;
  const depth = parseInteger(args[1], "DEPTH", 4);
  const passes = parseInteger(args[2], "PASSES", 4);
  // `nocrc`: no checksum (nothing is verified then).
  const check = args[3] !== "nocrc";
  const total = device.capacity;
  const bytes = total * SECTOR;
  let region: DmaBuffer;
  try {
    region = io.platform.dma.alloc(bytes, BLOCK);
  } catch (error) {
    throw new UsageError(`blk bench seq: no DMA region of ${bytes} bytes for the whole disk (the pool is manifest.json dmaPoolBytes): ${(error as Error).message}`);
  }
  // Every request's chunk of the region, made before the clock starts.
  const chunks: { lba: number; count: number; buffer: DmaBuffer }[] = [];
  for (let lba = 0; lba < total; lba += requestSectors) {
    const count = Math.min(requestSectors, total - lba);
    chunks.push({ lba, count, buffer: chunkOf(region, lba * SECTOR, count * SECTOR) });
  }
  const results: { ms: number; crc32: string | null; requests: number; notifications: number; interrupts: number }[] = [];
  try {
    for (let pass = 0; pass < passes; pass++) {
      // The first pass reads into memory nothing has touched since power-on (zeros), as
      // every peer's first pass does.
      if (pass > 0) for (let off = 0; off + 4 <= bytes; off += BLOCK) region.view.setUint32(off, 0xffffffff, true);
      const before = counters(io, device);
      let next = 0;
      const worker = async () => {
        while (next < chunks.length) {
          const c = chunks[next++]!;
          await device.read(c.lba, c.count, c.buffer);
        }
      };
      const workers: Promise<void>[] = [];
      const t0 = io.platform.clock.now();
      for (let i = 0; i < depth && i < chunks.length; i++) workers.push(worker());
      await Promise.all(workers);
      const ms = io.platform.clock.now() - t0;
      const d = delta(before, counters(io, device));
      results.push({
        ms: round(ms), crc32: check ? crc32Hex(dmaCrc(region, 0, bytes)) : null,
        requests: d.requests!, notifications: d.notifications!, interrupts: d.interrupts!,
      });
    }
  } finally {
    io.platform.dma.free(region);
  }
  const mibps = (ms: number) => round(bytes / 1048576 / (ms / 1000), 1);
  io.print(JSON.stringify({
    bench: "seq", bytes, requestKiB: (requestSectors * SECTOR) / 1024, depth, regionPhys: region.phys,
    passes: results.map((r) => ({ ...r, mibps: mibps(r.ms) })), heap: heap(io),
  }));
  return 0;
}

/** Checks one 4 KiB block read from the bench image: its index and its CRC. */
function blockOk(buffer: DmaBuffer, index: number): boolean {
  const v = buffer.view;
  return v.getUint32(0, true) === index && v.getUint32(4, true) === dmaCrc(buffer, 8, BLOCK - 8);
}

/** COUNT 4 KiB reads (or writes) at xorshift32 offsets, DEPTH of them in flight. */
async function scattered(write: boolean, args: readonly string[], io: CommandIO, device: BlockDevice): Promise<number> {
  const count = parseInteger(args[0], "COUNT");
  const depth = parseInteger(args[1], "DEPTH");
  const seed = parseInteger(args[2], "SEED", 1);
  const blocks = Math.floor(device.capacity / SECTORS_PER_BLOCK);
  if (blocks < 1) throw new UsageError("the disk is smaller than 4 KiB");
  if (write) device.check(0, blocks * SECTORS_PER_BLOCK, true);
  const next = prng(seed);
  const pool = allocAll(io, Math.min(depth, count), BLOCK);
  if (write) {
    // Writes keep the image's format (index, CRC, pseudo-random payload), so the disk
    // stays checkable; the payload and its CRC are made before the clock starts.
    const fill = prng(seed ^ 0x9e3779b9);
    for (const b of pool) {
      for (let i = 8; i < BLOCK; i += 4) b.view.setUint32(i, fill(), true);
      b.view.setUint32(4, dmaCrc(b, 8, BLOCK - 8), true);
    }
  }
  let issued = 0;
  let bad = 0;
  let firstBad = -1;
  // The block each buffer holds last (for the check's calibration below).
  const lastIndex = pool.map(() => -1);
  const before = counters(io, device);
  const t0 = io.platform.clock.now();
  const worker = async (buffer: DmaBuffer, slot: number) => {
    while (issued < count) {
      issued++;
      const index = next() % blocks;
      if (write) {
        buffer.view.setUint32(0, index, true);
        await device.write(index * SECTORS_PER_BLOCK, buffer);
      } else {
        await device.read(index * SECTORS_PER_BLOCK, SECTORS_PER_BLOCK, buffer);
        lastIndex[slot] = index;
        if (!blockOk(buffer, index)) {
          bad++;
          if (firstBad < 0) firstBad = index;
        }
      }
    }
  };
  let ms = 0;
  let checkMs = 0;
  try {
    await Promise.all(pool.map((b, i) => worker(b, i)));
    if (write) await device.flush();
    ms = io.platform.clock.now() - t0;
    if (!write) {
      // Like with like: U-Boot checks its blocks after the timed reads, and Linux's
      // blkbench takes the same calibration out: `count` checks timed on their own
      // (the same function on the same buffers) are left out of the figure.
      const c0 = io.platform.clock.now();
      for (let i = 0; i < count; i++) blockOk(pool[i % pool.length]!, lastIndex[i % pool.length]!);
      checkMs = io.platform.clock.now() - c0;
    }
  } finally {
    for (const b of pool) io.platform.dma.free(b);
  }
  const netMs = ms > checkMs ? ms - checkMs : ms;
  io.print(JSON.stringify({
    bench: write ? "write4k" : "read4k", count, depth, seed, ms: round(ms), checkMs: round(checkMs),
    iops: round(count / (netMs / 1000), 1), iopsWithCheck: round(count / (ms / 1000), 1),
    ...(write ? { flushed: true } : { verified: count - bad, bad, firstBad }),
    ...delta(before, counters(io, device)), heap: heap(io),
  }));
  return bad === 0 ? 0 : 1;
}

/** `blk bench ...` on one block device. */
export async function blkBench(args: readonly string[], io: CommandIO, device: BlockDevice): Promise<number> {
  const [name, ...rest] = args;
  switch (name) {
    case "seq":
      return seq(rest, io, device);
    case "read4k":
      return scattered(false, rest, io, device);
    case "write4k":
      return scattered(true, rest, io, device);
    case "stats":
      io.print(JSON.stringify({ bench: "stats", ...counters(io, device), heap: heap(io), engine: io.platform.engineStats() }));
      return 0;
    default:
      throw new UsageError(`blk bench: ${BENCH_USAGE}`);
  }
}
