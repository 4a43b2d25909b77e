// One device model behind any of the four transports: virtio-mmio v1 / v2 (slot 31) or a
// virtio-pci function, modern or legacy (00.1, slot 32), with MSI-X or INTx; a bus over
// every standard transport; and the checks every test ends with.

import * as assert from "uvu/assert";
import { createHostModel, type DeviceModel, type HostModel, type MmioDeviceModel, type VirtioPciDeviceModel, type VirtioPciOptions } from "../../../platform/host/index.js";
import { createBus } from "../../../apps/bus.js";
import type { VirtioBus } from "../../../drivers/virtio/bus.js";
import type { VirtioDriver } from "../../../drivers/virtio/driver.js";

export type TransportKind = "mmio-v1" | "mmio-v2" | "pci-modern" | "pci-legacy";
export const TRANSPORT_KINDS: readonly TransportKind[] = ["mmio-v1", "mmio-v2", "pci-modern", "pci-legacy"];

export interface TransportRig {
  readonly model: HostModel;
  readonly bus: VirtioBus;
  /** The register file every rule is kept in (for PCI: the one behind the function). */
  readonly backend: MmioDeviceModel;
  /** The PCI function model, for PCI kinds. */
  readonly pci: VirtioPciDeviceModel | null;
  readonly slot: number;
}

export async function transportRig(kind: TransportKind, device: DeviceModel, driver: VirtioDriver, pci: VirtioPciOptions = {}): Promise<TransportRig> {
  const model = createHostModel({ ramSize: 8 << 20, dmaSize: 4 << 20, pci: true });
  let backend: MmioDeviceModel;
  let fn: VirtioPciDeviceModel | null = null;
  if (kind === "mmio-v1" || kind === "mmio-v2") {
    backend = model.attach(31, device, { version: kind === "mmio-v1" ? 1 : 2 });
  } else {
    fn = model.attachPci(device, { mode: kind === "pci-modern" ? "modern" : "legacy", ...pci });
    backend = fn.backend;
  }
  const bus = createBus(model.platform);
  await bus.register(driver);
  await bus.scan();
  await model.settle();
  return { model, bus, backend, pci: fn, slot: fn ? 32 : 31 };
}

export async function finishRig(r: TransportRig): Promise<void> {
  await r.model.settle();
  await r.bus.shutdown();
  await r.model.settle();
  assert.equal(r.model.escapedErrors, [], "no exception escaped into the event loop");
  r.model.assertNoViolations();
  assert.is(r.model.dma.stats().used, 0, "all DMA memory freed");
  assert.is(r.model.timers.active, 0, "no timer left running");
  r.model.platform.powerOff();
}

/** Waits (event-loop turns) until `done()` holds. */
export async function until(done: () => boolean, turns = 2000): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(done(), "condition reached");
}
