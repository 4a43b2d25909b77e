// The virtio memory device driver (VIRTIO 1.2 §5.15): binds to device ID 24, accepts
// UNPLUGGED_INACCESSIBLE (it never touches unplugged memory), sets up the guest-request
// queue and hands out one MemDevice per device.

import type { VirtioDevice } from "../virtio/device.js";
import { DeviceHandles } from "../virtio/device-handles.js";
import { DeviceId } from "../virtio/device-types.js";
import type { RemoveReason, VirtioDriver } from "../virtio/driver.js";
import { MemDevice, type MemOp, type MemOptions } from "./mem-device.js";
import { MemFeature } from "./mem-spec.js";

/** §5.15.2: queue 0, guest-request. */
const REQUEST_QUEUE = 0;

export class MemDriver implements VirtioDriver {
  readonly name = "virtio-mem";
  readonly deviceIds = [DeviceId.MEMORY];
  readonly #options: MemOptions;
  readonly #devices = new DeviceHandles((device) => new MemDevice(device, this.#options));

  constructor(options: MemOptions = {}) {
    this.#options = options;
  }

  /** §5.15.3: UNPLUGGED_INACCESSIBLE (SHOULD, §5.15.5.1); not ACPI_PXM nor PERSISTENT_SUSPEND. */
  features(offered: bigint): bigint {
    return offered & (1n << BigInt(MemFeature.UNPLUGGED_INACCESSIBLE));
  }

  probe(device: VirtioDevice): void {
    const mem = this.#devices.obtain(device);
    const queue = device.createQueue<MemOp>(REQUEST_QUEUE, { size: 8, onUsed: () => mem.onUsed() });
    mem.attach(queue);
  }

  ready(device: VirtioDevice): void {
    this.#devices.start(device);
  }

  remove(device: VirtioDevice, reason: RemoveReason): void {
    this.#devices.detach(device, reason);
  }

  configChanged(device: VirtioDevice): void {
    this.#devices.get(device)?.configChanged();
  }

  devices(): MemDevice[] {
    return this.#devices.values();
  }
}
