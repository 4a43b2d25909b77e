// The app-facing handle of each device a driver serves, kept across re-initializations.
// The core re-initializes a device by remove("reset") then probe() and ready() again
// (§2.1.2 DEVICE_NEEDS_RESET, or restart()); the application keeps the same object all
// along. The handle is made at the device's first probe and forgotten at unbind.

import type { VirtioDevice } from "./device.js";
import type { RemoveReason } from "./driver.js";

/** What a driver's per-device handle does at the driver's ready() and remove(). */
export interface DeviceHandle {
  /** DRIVER_OK is set: post buffers, kick, start serving. */
  start(): void;
  /** The device was reset (or unbound, or its probe failed): take back what is in
   * flight, fail its requests, free DMA memory. Must not throw. */
  detach(reason: RemoveReason): void;
}

export class DeviceHandles<H extends DeviceHandle> {
  readonly #create: (device: VirtioDevice) => H;
  readonly #handles = new Map<VirtioDevice, H>();

  /** `create` makes the handle of a device at its first probe. */
  constructor(create: (device: VirtioDevice) => H) {
    this.#create = create;
  }

  /** For probe(): the device's handle, made now if this is its first probe. */
  obtain(device: VirtioDevice): H {
    let handle = this.#handles.get(device);
    if (handle === undefined) {
      handle = this.#create(device);
      this.#handles.set(device, handle);
    }
    return handle;
  }

  /** The handle of a device, if it has been probed and not unbound. */
  get(device: VirtioDevice): H | undefined {
    return this.#handles.get(device);
  }

  /** For ready(): the device's handle starts serving. */
  start(device: VirtioDevice): void {
    this.#handles.get(device)?.start();
  }

  /** For remove(): the device's handle lets go of it; at unbind it is then forgotten.
   * Returns the handle (undefined if the device was never probed). */
  detach(device: VirtioDevice, reason: RemoveReason): H | undefined {
    const handle = this.#handles.get(device);
    if (handle === undefined) return undefined;
    handle.detach(reason);
    if (reason === "unbind") this.#handles.delete(device);
    return handle;
  }

  /** Every handle, in first-probe order. */
  values(): H[] {
    return [...this.#handles.values()];
  }

  /** Every device with its handle, in first-probe order. */
  entries(): [VirtioDevice, H][] {
    return [...this.#handles.entries()];
  }
}
