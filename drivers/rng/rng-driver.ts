// The virtio entropy driver (VIRTIO 1.2 §5.4): binds to device ID 4, asks for no
// device features (§5.4.3: there are none), sets up the single requestq (§5.4.2) and
// hands out one RngDevice per device.

import type { VirtioDevice } from "../virtio/device.js";
import { DeviceHandles } from "../virtio/device-handles.js";
import { DeviceId } from "../virtio/device-types.js";
import type { RemoveReason, VirtioDriver } from "../virtio/driver.js";
import { RngDevice, type RngChunk, type RngOptions } from "./rng-device.js";

/** §5.4.2: queue 0, requestq. */
const REQUEST_QUEUE = 0;

export interface RngDriverOptions extends RngOptions {
  /** Descriptors in the requestq (capped by QueueNumMax). Default 64. */
  readonly queueSize?: number;
}

export class RngDriver implements VirtioDriver {
  readonly name = "virtio-rng";
  readonly deviceIds = [DeviceId.ENTROPY];
  readonly #options: RngDriverOptions;
  /** The same RngDevice survives a re-initialization of its device. */
  readonly #devices = new DeviceHandles((device) => new RngDevice(device, this.#options));

  constructor(options: RngDriverOptions = {}) {
    this.#options = options;
  }

  /** §5.4.3: the entropy device has no feature bits. */
  features(_offered: bigint): bigint {
    return 0n;
  }

  probe(device: VirtioDevice): void {
    const rng = this.#devices.obtain(device);
    const queue = device.createQueue<RngChunk>(REQUEST_QUEUE, {
      size: this.#options.queueSize ?? 64,
      onUsed: () => rng.onUsed(),
    });
    rng.attach(queue);
  }

  ready(device: VirtioDevice): void {
    this.#devices.start(device);
  }

  remove(device: VirtioDevice, reason: RemoveReason): void {
    this.#devices.detach(device, reason);
  }

  /** Entropy devices bound to this driver, in bind order. */
  devices(): RngDevice[] {
    return this.#devices.values();
  }

  /** The RngDevice of a bound VirtioDevice. */
  deviceFor(device: VirtioDevice): RngDevice | undefined {
    return this.#devices.get(device);
  }
}
