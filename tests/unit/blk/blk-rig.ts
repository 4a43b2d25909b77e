// Shared set-up for the block driver tests: a host model with one BlkDevice model in
// slot 31, a bus with the BlkDriver bound, and a deterministic disk image.

import { BlkDevice, type BlkDeviceOptions } from "../../../platform/host/devices/blk-device.js";
import type { MmioDeviceOptions } from "../../../platform/host/index.js";
import { BlkDriver, type BlkDriverOptions } from "../../../drivers/blk/blk-driver.js";
import type { BlockDevice } from "../../../drivers/blk/block-device.js";
import { rig, type Rig } from "../core/rig.js";

export interface BlkRig extends Rig {
  readonly disk: BlkDevice;
  readonly driver: BlkDriver;
  /** The BlockDevice (undefined when probe failed). */
  readonly blk: BlockDevice;
}

/** `sectors` sectors of bytes that differ per position and per sector. */
export function pattern(sectors: number, seed = 1): Uint8Array {
  const img = new Uint8Array(sectors * 512);
  for (let i = 0; i < img.length; i++) img[i] = (i * 7 + (i >> 9) * 13 + seed) & 0xff;
  return img;
}

export async function blkRig(
  version: 1 | 2,
  disk: BlkDeviceOptions = {},
  driver: BlkDriverOptions = {},
  mmio: Partial<MmioDeviceOptions> = {},
): Promise<BlkRig> {
  const model = new BlkDevice({ image: pattern(256), ...disk });
  const r = rig({ version, device: model, mmio, model: { ramSize: 8 << 20, dmaSize: 4 << 20 } });
  const blkDriver = new BlkDriver(driver);
  await r.bus.register(blkDriver);
  await r.bus.scan();
  return { ...r, disk: model, driver: blkDriver, blk: blkDriver.devices()[0]! };
}

/** Resolves to the error a promise rejects with (fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}
