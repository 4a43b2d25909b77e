// What a bound driver holds on its device (its queues, and the device itself from probe
// to remove), and how it lets go once a reset completed (VIRTIO 1.2 §2.4: a buffer is
// the device's until it returns it or is reset): driver.remove, once per probe, then
// each queue disabled if the device still has it on, and its ring freed.

import type { Virtqueue } from "../../ring/virtqueue.js";
import type { VirtioDevice } from "./device.js";
import type { RemoveReason, VirtioDriver } from "./driver.js";

export interface QueueEntry {
  readonly queue: Virtqueue<unknown>;
  readonly onUsed: () => void;
}

export class DriverHold {
  /** The driver's queues, by index. */
  readonly queues = new Map<number, QueueEntry>();
  /** True from the start of driver.probe until driver.remove: remove is called once. */
  #driverHolds = false;
  /** True once driver.probe ran since bind: unbind then always reaches driver.remove,
   * even after a remove("reset") and a re-init that failed before probe (the driver
   * still keeps the device's handle and what runs on it). */
  #probedSinceBind = false;

  /** True from driver.probe until driver.remove. */
  get driverHolds(): boolean {
    return this.#driverHolds;
  }

  /** True while the driver holds the device or any queue is out: memory the device may use. */
  get holding(): boolean {
    return this.#driverHolds || this.queues.size > 0;
  }

  /** driver.probe is about to run. */
  probing(): void {
    this.#driverHolds = true;
    this.#probedSinceBind = true;
  }

  /** After a completed reset: the driver lets go (errors it throws go to `onError`), then
   * the queues are taken away and their rings freed. */
  release(device: VirtioDevice, driver: VirtioDriver | null, reason: RemoveReason, onError: (error: Error) => void): void {
    if (driver !== null && (this.#driverHolds || (reason === "unbind" && this.#probedSinceBind))) {
      this.#driverHolds = false;
      if (reason === "unbind") this.#probedSinceBind = false;
      try {
        driver.remove(device, reason);
      } catch (error) {
        onError(error instanceof Error ? error : new Error(String(error)));
      }
    }
    const t = device.transport;
    for (const [index, entry] of this.queues) {
      // After a reset the queue is normally already off; take it away only if not.
      if (t.queueInUse(index)) t.disableQueue(index);
      entry.queue.destroy();
    }
    this.queues.clear();
  }
}
