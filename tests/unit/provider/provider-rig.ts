// The provider booted on the host model with one device of each kind: console (slot 31),
// net (30, static 10.0.2.15), blk (29, served inside the notify so that synchronous
// flash calls complete while the CPU polls, as on QEMU), keyboard (28), rng (27).

import { createHostModel, RngDevice, type HostModel } from "../../../platform/host/index.js";
import { ConsoleDeviceModel } from "../../../platform/host/devices/console-device.js";
import { VirtioNetModel } from "../../../platform/host/devices/net-device.js";
import { BlkDevice } from "../../../platform/host/devices/blk-device.js";
import { InputDeviceModel } from "../../../platform/host/devices/input-device.js";
import { bootProvider } from "../../../apps/provider/boot.js";
import { setProvider, type ProviderContext } from "../../../apps/provider/context.js";
import { finish } from "../core/rig.js";
import { pattern } from "../blk/blk-rig.js";

export interface ProviderRig {
  readonly model: HostModel;
  readonly context: ProviderContext;
  readonly console: ConsoleDeviceModel;
  readonly nic: VirtioNetModel;
  readonly disk: BlkDevice;
  readonly keyboard: InputDeviceModel;
}

export const GUEST_IP = "10.0.2.15";

export async function providerRig(version: 1 | 2 = 2): Promise<ProviderRig> {
  const model = createHostModel({ ramSize: 16 << 20, dmaSize: 8 << 20 });
  const console = new ConsoleDeviceModel();
  const nic = new VirtioNetModel();
  const disk = new BlkDevice({ image: pattern(256) });
  const keyboard = new InputDeviceModel();
  model.attach(31, console, { version });
  model.attach(30, nic, { version });
  model.attach(29, disk, { version, processing: "sync" });
  model.attach(28, keyboard, { version });
  model.attach(27, new RngDevice({ seed: 3 }), { version });
  const context = await bootProvider({ platform: model.platform, network: { address: GUEST_IP, gateway: "10.0.2.2" } });
  await model.settle();
  return { model, context, console, nic, disk, keyboard };
}

/** Forgets the provider, then the end every test has (tests/unit/core/rig.ts finish():
 * shutdown, no escaped exception, no rule broken, every DMA byte and timer given back). */
export async function finishProvider(r: ProviderRig): Promise<void> {
  setProvider(null);
  await finish({ model: r.model, bus: r.context.bus, dev: r.model.device(31)! });
}

/** Runs `body` and returns the promise rejections nobody handled meanwhile. */
export async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  process.on("unhandledRejection", onRejection);
  try {
    await body();
    await new Promise((resolve) => setTimeout(resolve, 10));
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  return seen;
}
