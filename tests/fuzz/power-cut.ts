// Power cuts on the host model: a blk device in power-cut mode (a volatile writeback
// cache that only FLUSH moves to the backing image, platform/host/devices/blk-cache.ts)
// behind the real driver stack. Each cycle boots a fresh machine over the same backing
// image, writes sectors with a known pattern (sector number, version, checksum) and
// flushes, in random order and overlap, cuts the power at a random moment (what was not
// flushed is lost, or partly written back by the drive on its own) and checks the image:
// every write acknowledged before a flush that completed is there and intact; nothing
// on the disk is torn or foreign. Then the next cycle boots on what is left.

import { BlkDevice } from "../../platform/host/devices/blk-device.js";
import { BlkDriver } from "../../drivers/blk/blk-driver.js";
import type { BlockDevice } from "../../drivers/blk/block-device.js";
import { FlashStorage } from "../../drivers/blk/flash-storage.js";
import { Rand } from "./random.js";
import { World } from "./world.js";

const SECTOR = 512;
const MAGIC = 0x50_43_55_54; // "PCUT"

export interface PowerCutOptions {
  readonly cycles: number;
  readonly seed: number;
  /** Sectors on the disk (default 64). */
  readonly sectors?: number;
  readonly log?: (line: string) => void;
  readonly progressMs?: number;
  /** Called with each cycle's BlockDevice (a test makes the driver misbehave to see the
   * check catch it). */
  readonly onDevice?: (blk: BlockDevice) => void;
}

export interface PowerCutResult {
  readonly cycles: number;
  /** Sector writes a completed flush covered (each checked after its cut). */
  readonly acknowledged: number;
  /** Of those, sectors found older than the flushed version. */
  readonly lost: number;
  /** Sectors whose bytes are no version ever written (torn, foreign). */
  readonly corrupt: number;
  /** Writes that completed without a flush after them, and what was left of them. */
  readonly unflushedAcknowledged: number;
  /** Cycles that wrote through the flash API (FlashStorage), and the writes of them whose
   * own FLUSH failed, made durable by close() alone. */
  readonly flashCycles: number;
  readonly flashClosedWrites: number;
  readonly ms: number;
  /** The first problems, for the report. */
  readonly problems: readonly string[];
}

/** The 512 bytes of version `version` of `sector`: a header and a pattern from both. */
export function sectorPattern(sector: number, version: number): Uint8Array {
  const out = new Uint8Array(SECTOR);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, sector, true);
  v.setUint32(8, version, true);
  let x = (sector * 0x9e37_79b9 + version * 0x85eb_ca6b + 1) >>> 0;
  for (let i = 16; i < SECTOR; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  let sum = 0;
  for (let i = 16; i < SECTOR; i++) sum = (sum * 31 + out[i]!) >>> 0;
  v.setUint32(12, sum, true);
  return out;
}

/** The version a sector holds (0: never written, all zero), or null if it is no version ever written. */
export function sectorVersion(bytes: Uint8Array, sector: number): number | null {
  if (bytes.every((b) => b === 0)) return 0;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC || v.getUint32(4, true) !== sector) return null;
  const version = v.getUint32(8, true);
  return Buffer.compare(bytes, sectorPattern(sector, version)) === 0 ? version : null;
}

interface WriteOp {
  readonly lba: number;
  readonly versions: readonly number[];
  acked: number | null;
}

export async function runHostPowerCuts(options: PowerCutOptions): Promise<PowerCutResult> {
  const log = options.log ?? (() => {});
  const sectors = options.sectors ?? 64;
  const rand = new Rand(options.seed >>> 0);
  const backing = new Uint8Array(sectors * SECTOR);
  /** Per sector: the newest version a completed flush covered (must survive), and the newest issued. */
  const durable = new Uint32Array(sectors);
  const issued = new Uint32Array(sectors);
  let nextVersion = 1;
  let acknowledged = 0;
  let lost = 0;
  let corrupt = 0;
  let unflushed = 0;
  let flashCycles = 0;
  let flashClosedWrites = 0;
  const problems: string[] = [];
  const started = performance.now();
  let lastLog = started;
  for (let cycle = 0; cycle < options.cycles; cycle++) {
    const w = new World(2 << 20, 1 << 20);
    // A quarter of the cycles write through the flash API, which polls: a device that answers inside the notify.
    const flash = rand.chance(0.25);
    const disk = new BlkDevice({ image: backing, writeback: true, delayTurns: flash ? 0 : rand.pick([0, 0, 1, 2]), outOfOrder: rand.chance(0.3), queueMaxSize: rand.pick([8, 64, 256]) });
    w.attach(disk, rand.pick([1, 2] as const), { processing: flash ? "sync" : rand.pick(["sync", "async"] as const) });
    const driver = new BlkDriver({ maxInFlight: rand.pick([1, 4, 16]), maxRequestBytes: rand.pick([512, 4096, 65536]) });
    await w.bus.register(driver);
    w.track("bus.scan()", w.bus.scan());
    await w.run(10_000, () => w.pending.size === 0);
    const blk: BlockDevice | undefined = driver.devices()[0];
    if (!blk) throw new Error(`power-cut cycle ${cycle}: no block device (${w.findings.map((f) => f.message).join("; ")})`);
    options.onDevice?.(blk);
    const writes: WriteOp[] = [];
    if (flash) {
      flashCycles++;
      const [made, closeOnly] = flashWrites(blk, w, disk, rand, sectors, issued, durable, () => nextVersion++);
      acknowledged += made;
      flashClosedWrites += closeOnly;
    }
    /** Sector versions acknowledged when each flush was issued, once it completed. */
    const cutAt = flash ? 0 : rand.int(0, 120);
    let turns = 0;
    while (turns < cutAt) {
      const r = rand.next();
      if (r < 0.45) {
        const count = rand.pick([1, 1, 2, 4, 9]);
        const lba = rand.int(0, sectors - count);
        const versions: number[] = [];
        const data = new Uint8Array(count * SECTOR);
        for (let k = 0; k < count; k++) {
          const version = nextVersion++;
          versions.push(version);
          issued[lba + k] = version;
          data.set(sectorPattern(lba + k, version), k * SECTOR);
        }
        const op: WriteOp = { lba, versions, acked: null };
        writes.push(op);
        blk.write(lba, data).then(() => { op.acked = turns; }, () => {});
      } else if (r < 0.6) {
        // A flush covers the writes acknowledged before it was issued (§5.2.6.1).
        const covered = writes.filter((op) => op.acked !== null);
        blk.flush().then(() => {
          for (const op of covered) {
            op.versions.forEach((version, k) => {
              const s = op.lba + k;
              if (version > durable[s]!) durable[s] = version;
            });
          }
        }, () => {});
      } else {
        await w.turn();
        turns++;
      }
    }
    // The power goes: unflushed sectors are lost, or some reach the disk anyway.
    const keep = rand.pick([0, 0, 0.3, 1]);
    disk.powerCut(() => rand.chance(keep));
    w.time.clearAll();
    w.model.platform.powerOff();
    // Check every sector of the backing image.
    const counted = new Set<number>();
    for (const op of writes) {
      if (op.acked === null) continue;
      op.versions.forEach((version, k) => {
        if (version <= durable[op.lba + k]!) counted.add(version);
        else unflushed++;
      });
    }
    acknowledged += counted.size;
    for (let s = 0; s < sectors; s++) {
      const version = sectorVersion(backing.subarray(s * SECTOR, (s + 1) * SECTOR), s);
      if (version === null || version > issued[s]!) {
        corrupt++;
        if (problems.length < 10) problems.push(`cycle ${cycle}: sector ${s} holds bytes no write put there`);
      } else if (version < durable[s]!) {
        lost++;
        if (problems.length < 10) problems.push(`cycle ${cycle}: sector ${s} holds version ${version}, a completed flush covered version ${durable[s]}`);
      }
      // What is on the backing image now stays there: the next cycle's floor.
      if (version !== null && version > durable[s]!) durable[s] = version;
    }
    const now = performance.now();
    if (now - lastLog > (options.progressMs ?? 5000)) {
      lastLog = now;
      log(`[power-cut] host: ${cycle + 1}/${options.cycles} cycles, ${acknowledged} acknowledged writes checked, ${lost} lost, ${corrupt} corrupt, ${((cycle + 1) / ((now - started) / 1000)).toFixed(0)} cycles/s`);
    }
  }
  return { cycles: options.cycles, acknowledged, lost, corrupt, unflushedAcknowledged: unflushed, flashCycles, flashClosedWrites, ms: performance.now() - started, problems };
}

/**
 * A cycle through the flash API (synchronous: durable when write() returns): patterned
 * sectors written with FlashStorage.write(); some writes' own FLUSH fails (the disk says
 * IOERR once), which leaves them in the cache until close() flushes. Returns how many
 * writes only close() made durable. The power is cut after close(), or without one.
 */
function flashWrites(blk: BlockDevice, w: World, disk: BlkDevice, rand: Rand, sectors: number, issued: Uint32Array, durable: Uint32Array, version: () => number): [number, number] {
  const storage = new FlashStorage({ device: blk, platform: w.model.platform, size: Math.floor((sectors * SECTOR) / 4096) * 4096 });
  let waiting: [number, number][] = [];
  let made = 0;
  const settle = (): void => {
    for (const [s, v] of waiting) if (v > durable[s]!) durable[s] = v;
    made += waiting.length;
    waiting = [];
  };
  for (let n = rand.int(1, 6); n > 0; n--) {
    const s = rand.int(0, Math.floor((sectors * SECTOR) / 4096) * 8 - 1);
    const v = version();
    issued[s] = v;
    waiting.push([s, v]);
    const failFlush = rand.chance(0.3);
    if (failFlush) disk.faults.failFlushes = 1;
    try {
      storage.write(sectorPattern(s, v), s * SECTOR);
      settle(); // durable once write() returns: every write before it too
    } catch {
      // the write's FLUSH failed: the sector sits in the drive's cache until a flush
    }
  }
  const closeFlushes = waiting.length;
  if (!rand.chance(0.8)) return [made, 0]; // the power goes with the partition open
  storage.close();
  settle(); // close() flushes what is not durable yet
  return [made, closeFlushes];
}
