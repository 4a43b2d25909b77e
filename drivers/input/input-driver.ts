// The virtio input driver (VIRTIO 1.2 §5.8): binds to device ID 18, which has no feature
// bits (§5.8.3). At probe it reads what the device is through the config select
// (§5.8.5, input-config.ts), then sets up the eventq and the statusq (§5.8.2). One
// InputPort per device, kept across re-initializations; `open()` gives an InputDevice.

import type { VirtioDevice } from "../virtio/device.js";
import { DeviceHandles } from "../virtio/device-handles.js";
import { DeviceId } from "../virtio/device-types.js";
import type { RemoveReason, VirtioDriver } from "../virtio/driver.js";
import { InputQueue } from "./constants.js";
import { readInputInfo } from "./input-config.js";
import { InputDevice, type InputDeviceOptions } from "./input-device.js";
import { InputPort, type InputPortOptions } from "./input-port.js";

export interface InputDriverOptions extends InputPortOptions {
  /** Descriptors per queue (capped by QueueNumMax). Default 64. */
  readonly queueSize?: number;
}

export class InputDriver implements VirtioDriver {
  readonly name = "virtio-input";
  readonly deviceIds = [DeviceId.INPUT];
  readonly #options: InputDriverOptions;
  readonly #ports = new DeviceHandles((device) => new InputPort(device, this.#options));

  constructor(options: InputDriverOptions = {}) {
    this.#options = options;
  }

  /** §5.8.3: no device feature bits. */
  features(_offered: bigint): bigint {
    return 0n;
  }

  probe(device: VirtioDevice): void {
    const port = this.#ports.obtain(device);
    // §5.8.4: 1. query the device; 2. populate the eventq (in ready(), after DRIVER_OK).
    const info = readInputInfo(device);
    const size = this.#options.queueSize ?? 64;
    // One update is at least an event and its SYN (§5.8.6), in buffers posted together.
    const eventq = device.createQueue<number>(InputQueue.EVENT, { size, minSize: 2, minSizeFor: "event buffers of one update (event, SYN)", onUsed: () => port.onEventUsed() });
    const statusq = device.createQueue<number>(InputQueue.STATUS, { size: Math.min(size, 16), onUsed: () => port.onStatusUsed() });
    port.attach(info, eventq, statusq);
  }

  ready(device: VirtioDevice): void {
    this.#ports.start(device);
  }

  remove(device: VirtioDevice, reason: RemoveReason): void {
    this.#ports.detach(device, reason);
  }

  /** Every bound input device, in bind order. */
  ports(): InputPort[] {
    return this.#ports.values();
  }

  /** An InputDevice on the first input device (or `options.port`). */
  open(options: Omit<InputDeviceOptions, "port"> & { readonly port?: InputPort }): InputDevice {
    const port = options.port ?? this.ports()[0];
    if (port === undefined) throw new Error("no virtio input device");
    return new InputDevice({ ...options, port });
  }
}
