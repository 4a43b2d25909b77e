// `embedded:storage/flash` on this board: a virtio-blk disk, or one of its MBR partitions,
// as ECMA-419 flash (drivers/blk/flash-storage.ts: synchronous read / write / eraseBlock
// / status by polling the used ring; writes are flushed to the disk; close() flushes).
// Paths: "blk0", "blk1", ... (the disks in bind order), "blk0p1" to "blk0p4" (partitions).
//   const flash = device.storage.flash.open({ path: "blk0" });

import { FlashStorage, type FlashOpenOptions } from "../../drivers/blk/flash-storage.js";
import { PolledBlockIo } from "../../drivers/blk/polled-io.js";
import { SECTOR_SIZE } from "../../drivers/blk/blk-spec.js";
import type { BlockDevice } from "../../drivers/blk/block-device.js";
import { provider } from "./context.js";
import { mbrPartitions } from "./partitions.js";

export type { FlashStatus } from "../../drivers/blk/flash-storage.js";

export interface FlashOptions extends Omit<FlashOpenOptions, "device" | "platform" | "offset" | "size"> {
  /** "blk0", "blk1", ...: a whole disk; "blk0p1" .. "blk0p4": an MBR partition of it. */
  readonly path: string;
}

/** The disks' paths now: "blk0", "blk1", ... */
export function flashPaths(): string[] {
  return provider("flash").drivers.blk.devices().map((_, i) => `blk${i}`);
}

function disk(index: number): BlockDevice {
  const device = provider("flash").drivers.blk.devices()[index];
  if (device === undefined) throw new RangeError(`flash: no disk blk${index} (this board has ${flashPaths().join(", ") || "no virtio-blk disk"})`);
  return device;
}

/** Offset and size of partition `number` of `device`, read from its MBR. */
function partition(device: BlockDevice, number: number): { offset: number; size: number } {
  const { platform } = provider("flash");
  const io = new PolledBlockIo(device, platform, { maxRequestBytes: SECTOR_SIZE });
  const sector0 = new Uint8Array(SECTOR_SIZE);
  try {
    io.read(0, sector0);
  } finally {
    io.close();
  }
  const found = mbrPartitions(sector0, device.capacity).find((p) => p.number === number);
  if (found === undefined) throw new RangeError(`flash: ${device.location} has no partition ${number} in its MBR`);
  return { offset: found.firstSector * SECTOR_SIZE, size: found.sectors * SECTOR_SIZE };
}

export default class Flash extends FlashStorage {
  constructor(options: FlashOptions) {
    if (options === null || typeof options !== "object") throw new TypeError("flash: options must be an object");
    const match = /^blk(\d+)(?:p([1-4]))?$/.exec(String(options.path));
    if (match === null) throw new RangeError(`flash: path "${String(options.path)}" must be "blk0", "blk1", ... or "blk0p1" .. "blk0p4"`);
    const device = disk(Number(match[1]));
    const { platform } = provider("flash");
    const { path: _path, ...rest } = options;
    if (match[2] === undefined) {
      super({ ...rest, device, platform });
      return;
    }
    const { offset, size } = partition(device, Number(match[2]));
    const blockLength = options.blockLength ?? 4096;
    super({ ...rest, device, platform, offset, size: Math.floor(size / blockLength) * blockLength });
  }
}
