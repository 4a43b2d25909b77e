// The virtio console driver (VIRTIO 1.2 §5.3): binds to device ID 3. It accepts
// VIRTIO_CONSOLE_F_SIZE (cols and rows of port 0, re-read on a config change),
// MULTIPORT (the control queues and a queue pair per port, console-ports.ts and
// console-control.ts) and EMERG_WRITE (emerg_wr, for panic messages), each when offered.
// Without MULTIPORT only port 0 exists, exactly as before. One ConsolePorts per device,
// kept across re-initializations; `open()` gives a Serial on a port, found by its name.

import type { VirtioDevice } from "../virtio/device.js";
import { DeviceHandles } from "../virtio/device-handles.js";
import { DeviceId } from "../virtio/device-types.js";
import type { RemoveReason, VirtioDriver } from "../virtio/driver.js";
import { ConsoleFeature } from "./constants.js";
import type { ConsolePort } from "./console-port.js";
import { ConsolePorts, type ConsolePortsOptions } from "./console-ports.js";
import { ConsolePortNotFoundError } from "./errors.js";
import { Serial, type SerialOptions } from "./serial.js";

export type ConsoleDriverOptions = ConsolePortsOptions;

const ACCEPTED = (1n << BigInt(ConsoleFeature.SIZE)) | (1n << BigInt(ConsoleFeature.MULTIPORT)) | (1n << BigInt(ConsoleFeature.EMERG_WRITE));

export class ConsoleDriver implements VirtioDriver {
  readonly name = "virtio-console";
  readonly deviceIds = [DeviceId.CONSOLE];
  readonly #options: ConsoleDriverOptions;
  readonly #devices = new DeviceHandles((device) => new ConsolePorts(device, this.#options));

  constructor(options: ConsoleDriverOptions = {}) {
    this.#options = options;
  }

  /** §5.3.3: SIZE, MULTIPORT and EMERG_WRITE, as offered. */
  features(offered: bigint): bigint {
    return offered & ACCEPTED;
  }

  probe(device: VirtioDevice): void {
    this.#devices.obtain(device).probe();
  }

  ready(device: VirtioDevice): void {
    this.#devices.start(device);
  }

  remove(device: VirtioDevice, reason: RemoveReason): void {
    this.#devices.detach(device, reason);
  }

  /** §5.3.4: cols and rows may change; the device signals it with a config change. */
  configChanged(device: VirtioDevice): void {
    this.#devices.get(device)?.configChanged();
  }

  /** Port 0 of every bound console device, in bind order ("hvc0", "hvc1", ...). */
  ports(): ConsolePort[] {
    return this.#devices.values().map((d) => d.port0);
  }

  /** Every bound console device's ports. */
  devices(): ConsolePorts[] {
    return this.#devices.values();
  }

  /** The port named `name` (PORT_NAME) on any console device, if one is present. */
  findPort(name: string): ConsolePort | undefined {
    for (const d of this.#devices.values()) {
      const port = d.find(name);
      if (port !== undefined) return port;
    }
    return undefined;
  }

  /**
   * A Serial on a port: `options.port` a ConsolePort, a port name (PORT_NAME) or absent
   * for port 0 of the first console device. Applications use the provider's
   * `device.io.Serial` with a port name instead (apps/provider).
   */
  open(options: Omit<SerialOptions, "port"> & { readonly port?: ConsolePort | string }): Serial {
    const given = options.port;
    const port = typeof given === "string" ? this.findPort(given) : given ?? this.ports()[0];
    if (port === undefined) {
      if (typeof given === "string") throw new ConsolePortNotFoundError(given);
      throw new Error("no virtio console device");
    }
    return new Serial({ ...options, port: port.location }, () => port);
  }

  /** Emergency write of `text` on the first console device offering EMERG_WRITE (§5.3.4);
   * false if none does. For panic messages: no queue, no interrupt, no promise. */
  emergencyWrite(text: string): boolean {
    for (const d of this.#devices.values()) if (d.emergencyWrite(text)) return true;
    return false;
  }
}
