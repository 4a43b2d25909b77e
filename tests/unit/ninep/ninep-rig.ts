// Shared set-up of the 9p tests: a host model with the strict 9p device model in slot 31
// and the 9p driver on the bus, the session started.

import { NinepDevice, type NinepDeviceOptions } from "../../../platform/host/devices/ninep-device.js";
import { NinepDriver, type NinepDriverOptions, type NinepShare } from "../../../drivers/9p/ninep-driver.js";
import { rig, type Rig } from "../core/rig.js";

export interface NinepRig extends Rig {
  readonly model_: NinepDevice;
  readonly driver: NinepDriver;
  readonly share: NinepShare;
}

export async function ninepRig(version: 1 | 2, device: NinepDeviceOptions = {}, driver: NinepDriverOptions = {}, before?: (m: NinepDevice) => void): Promise<NinepRig> {
  const model_ = new NinepDevice(device);
  before?.(model_);
  const r = rig({ version, device: model_, model: { ramSize: 16 << 20, dmaSize: 4 << 20 } });
  const d = new NinepDriver(driver);
  await r.bus.register(d);
  await r.bus.scan();
  const share = d.devices()[0];
  if (!share) throw new Error("9p not bound: " + String(r.bus.device(31)?.error?.message));
  return { ...r, model_, driver: d, share };
}

/** Awaits `p` while the model runs (its completions come from the model's event loop). */
export async function run<T>(r: Rig, p: Promise<T>): Promise<T> {
  let done = false;
  const tracked = p.finally(() => (done = true));
  tracked.catch(() => {});
  const end = Date.now() + 5000;
  while (!done) {
    if (Date.now() > end) throw new Error("timed out waiting for a 9p request");
    await r.model.settle();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return tracked;
}

/** Bytes 0..n-1 of a simple pattern. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
