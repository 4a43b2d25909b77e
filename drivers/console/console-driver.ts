// The virtio console driver (VIRTIO 1.2 §5.3): binds to device ID 3, serves port 0 only.
// It accepts VIRTIO_CONSOLE_F_SIZE (cols and rows, re-read on a config change) and
// deliberately not MULTIPORT (so no control queues, §5.3.6.2) nor EMERG_WRITE. One
// ConsolePort per device, kept across re-initializations; `open()` gives a Serial on it.

import type { VirtioDevice } from "../virtio/device.js";
import { DeviceHandles } from "../virtio/device-handles.js";
import { DeviceId } from "../virtio/device-types.js";
import type { RemoveReason, VirtioDriver } from "../virtio/driver.js";
import type { DmaBuffer } from "../../platform/platform.js";
import { ConsoleConfig, ConsoleFeature, ConsoleQueue } from "./constants.js";
import { ConsolePort, type ConsolePortOptions, type ConsoleSize } from "./console-port.js";
import { Serial, type SerialOptions } from "./serial.js";

export interface ConsoleDriverOptions extends ConsolePortOptions {
  /** Descriptors per queue (capped by QueueNumMax). Default 64. */
  readonly queueSize?: number;
}

export class ConsoleDriver implements VirtioDriver {
  readonly name = "virtio-console";
  readonly deviceIds = [DeviceId.CONSOLE];
  readonly #options: ConsoleDriverOptions;
  readonly #ports = new DeviceHandles((device) => new ConsolePort(device, this.#options));

  constructor(options: ConsoleDriverOptions = {}) {
    this.#options = options;
  }

  /** §5.3.3: SIZE only. */
  features(offered: bigint): bigint {
    return offered & (1n << BigInt(ConsoleFeature.SIZE));
  }

  probe(device: VirtioDevice): void {
    const port = this.#ports.obtain(device);
    const size = this.#options.queueSize ?? 64;
    const rxq = device.createQueue<DmaBuffer>(ConsoleQueue.RECEIVE0, { size, onUsed: () => port.onReceiveUsed() });
    const txq = device.createQueue<DmaBuffer>(ConsoleQueue.TRANSMIT0, { size, onUsed: () => port.onTransmitUsed() });
    port.attach(rxq, txq, readSize(device));
  }

  ready(device: VirtioDevice): void {
    this.#ports.start(device);
  }

  remove(device: VirtioDevice, reason: RemoveReason): void {
    this.#ports.detach(device, reason);
  }

  /** §5.3.4: cols and rows may change; the device signals it with a config change. */
  configChanged(device: VirtioDevice): void {
    this.#ports.get(device)?.resized(readSize(device));
  }

  /** Port 0 of every bound console device, in bind order. */
  ports(): ConsolePort[] {
    return this.#ports.values();
  }

  /** A Serial on port 0 of the first console device (or `options.port`). Applications
   * use the provider's `device.io.Serial` with a port name instead (apps/provider). */
  open(options: Omit<SerialOptions, "port"> & { readonly port?: ConsolePort }): Serial {
    const port = options.port ?? this.ports()[0];
    if (port === undefined) throw new Error("no virtio console device");
    return new Serial({ ...options, port: port.location }, () => port);
  }
}

/** cols and rows when SIZE was negotiated (one generation-checked read), else null. */
function readSize(device: VirtioDevice): ConsoleSize | null {
  if (!device.hasFeature(ConsoleFeature.SIZE)) return null;
  return device.readConfig((c) => ({ cols: c.u16(ConsoleConfig.COLS), rows: c.u16(ConsoleConfig.ROWS) }));
}
