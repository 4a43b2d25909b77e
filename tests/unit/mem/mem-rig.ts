// Shared set-up of the virtio-mem tests: a host model with 1 MiB of hotplug room after RAM,
// the strict virtio-mem model over it (16 blocks of 64 KiB) and the driver on the bus.

import { createHostModel } from "../../../platform/host/index.js";
import { MemDevice as MemModel, type MemDeviceOptions } from "../../../platform/host/devices/mem-device.js";
import { MemDriver } from "../../../drivers/mem/mem-driver.js";
import type { MemDevice } from "../../../drivers/mem/mem-device.js";
import { createBus } from "../../../apps/bus.js";
import type { Rig } from "../core/rig.js";

export const BLOCK = 64 * 1024;
export const REGION = 16 * BLOCK;

export interface MemRig extends Rig {
  readonly device: MemModel;
  readonly driver: MemDriver;
  readonly mem: MemDevice;
}

export async function memRig(version: 1 | 2, options: Partial<MemDeviceOptions> = {}, setup?: (device: MemModel) => void): Promise<MemRig> {
  const model = createHostModel({ ramSize: 8 << 20, dmaSize: 2 << 20, pagePoolSize: 1 << 20, hotplugSize: 1 << 20 });
  const device = new MemModel({ addr: model.hotplug.base, regionSize: REGION, blockSize: BLOCK, ...options });
  setup?.(device);
  const dev = model.attach(31, device, { version });
  const bus = createBus(model.platform);
  const driver = new MemDriver({ retryMs: 2 });
  await bus.register(driver);
  await bus.scan();
  const mem = driver.devices()[0];
  if (!mem) throw new Error("virtio-mem not bound: " + String(bus.device(31)?.error?.message));
  return { model, bus, dev, device, driver, mem };
}
