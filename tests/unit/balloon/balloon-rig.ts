// Shared set-up of the balloon tests: a host model with a page pool of 1024 pages, a
// strict balloon device model in slot 31 and the balloon driver on the bus.

import { BalloonDevice, type BalloonDeviceOptions } from "../../../platform/host/devices/balloon-device.js";
import { BalloonDriver, type BalloonDriverOptions } from "../../../drivers/balloon/balloon-driver.js";
import type { BalloonDevice as BalloonHandle } from "../../../drivers/balloon/balloon-device.js";
import { rig, type Rig } from "../core/rig.js";

export const POOL_PAGES = 1024;

export interface BalloonRig extends Rig {
  readonly model_: BalloonDevice;
  readonly driver: BalloonDriver;
  readonly balloon: BalloonHandle;
}

export async function balloonRig(version: 1 | 2, device: BalloonDeviceOptions = {}, driver: BalloonDriverOptions = {}): Promise<BalloonRig> {
  const model_ = new BalloonDevice(device);
  const r = rig({ version, device: model_, model: { ramSize: 16 << 20, dmaSize: 2 << 20, pagePoolSize: POOL_PAGES * 4096 } });
  const d = new BalloonDriver({ retryMs: 5, reportIntervalMs: 5, ...driver });
  await r.bus.register(d);
  await r.bus.scan();
  const balloon = d.devices()[0];
  if (!balloon) throw new Error("balloon not bound: " + String(r.bus.device(31)?.error?.message));
  return { ...r, model_, driver: d, balloon };
}

/** Runs the model until `cond` holds (or fails saying what it waited for). */
export async function until(r: Rig, cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await r.model.settle();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
