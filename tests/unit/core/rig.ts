// Shared set-up for the core, rng and property tests: a host model with devices in
// chosen slots, a VirtioBus over its platform, and the checks every test ends with.

import * as assert from "uvu/assert";
import { createHostModel, RngDevice, type DeviceModel, type HostModel, type HostModelOptions, type MmioDeviceModel, type MmioDeviceOptions } from "../../../platform/host/index.js";
import { createBus } from "../../../apps/bus.js";
import type { VirtioBus } from "../../../drivers/virtio/bus.js";
import type { VirtioDeviceOptions } from "../../../drivers/virtio/device.js";

export interface Rig {
  readonly model: HostModel;
  readonly bus: VirtioBus;
  /** The device model in slot 31 (the first slot QEMU fills). */
  readonly dev: MmioDeviceModel;
}

export interface RigOptions {
  readonly version: 1 | 2;
  readonly device?: DeviceModel;
  readonly mmio?: Partial<MmioDeviceOptions>;
  readonly slot?: number;
  readonly model?: HostModelOptions;
  readonly core?: VirtioDeviceOptions;
}

/** A model with one device (an rng unless told otherwise) and a bus, not yet scanned. */
export function rig(options: RigOptions): Rig {
  const model = createHostModel({ ramSize: 4 << 20, dmaSize: 2 << 20, ...options.model });
  const dev = model.attach(options.slot ?? 31, options.device ?? new RngDevice({ seed: 5 }), { ...options.mmio, version: options.version });
  const bus = createBus(model.platform, options.core);
  return { model, bus, dev };
}

/** The end of every test: the driver broke no rule, nothing escaped into the event loop,
 * and after shutdown the device is reset and every DMA byte is back. */
export async function finish(r: Rig, dmaBaseline = 0): Promise<void> {
  await r.model.settle();
  await r.bus.shutdown();
  await r.model.settle();
  assert.equal(r.model.escapedErrors, [], "no exception escaped into the event loop");
  r.model.assertNoViolations();
  assert.is(r.model.dma.stats().used, dmaBaseline, "all DMA memory freed");
  assert.is(r.model.timers.active, 0, "no timer left running");
  r.model.platform.powerOff();
}

/** Versions every rule is checked in. */
export const VERSIONS = [1, 2] as const;
