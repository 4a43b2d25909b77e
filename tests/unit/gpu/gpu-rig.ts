// Shared set-up of the gpu tests: a host model with the strict gpu device model in slot 31
// and the gpu driver on the bus.

import { GpuDevice as GpuModel, type GpuDeviceOptions } from "../../../platform/host/devices/gpu-device.js";
import { GpuDriver } from "../../../drivers/gpu/gpu-driver.js";
import type { GpuDevice } from "../../../drivers/gpu/gpu-device.js";
import type { GpuOptions } from "../../../drivers/gpu/gpu-device.js";
import { rig, type Rig } from "../core/rig.js";

export interface GpuRig extends Rig {
  readonly gpuModel: GpuModel;
  readonly driver: GpuDriver;
  readonly gpu: GpuDevice;
}

export async function gpuRig(version: 1 | 2, device: GpuDeviceOptions = {}, driver: GpuOptions = {}): Promise<GpuRig> {
  const gpuModel = new GpuModel({ width: 320, height: 200, ...device });
  const r = rig({ version, device: gpuModel, model: { ramSize: 16 << 20, dmaSize: 4 << 20 } });
  const d = new GpuDriver({ timeoutMs: 200, ...driver });
  await r.bus.register(d);
  await r.bus.scan();
  const gpu = d.devices()[0];
  if (!gpu) throw new Error("gpu not bound: " + String(r.bus.device(31)?.error?.message));
  await r.model.settle();
  return { ...r, gpuModel, driver: d, gpu };
}

/** Awaits `p` while the model runs (the device answers from the event loop). */
export async function run<T>(r: Rig, p: Promise<T>): Promise<T> {
  let done = false;
  const out = p.finally(() => { done = true; });
  out.catch(() => undefined);
  for (let i = 0; i < 10_000 && !done; i++) {
    await r.model.settle();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return out;
}
