// The virtio bus (as Linux's drivers/virtio/virtio.c): finds the devices behind every
// virtio-mmio window of the board, matches registered drivers to them by device ID,
// binds (probe) and unbinds (remove), and reports what it found (DeviceInfo).

import type { Platform } from "../../platform/platform.js";
import { probeMmio } from "../mmio/mmio-transport.js";
import type { DeviceInfo } from "./device-info.js";
import { VirtioDevice, type VirtioDeviceOptions } from "./device.js";
import type { VirtioDriver } from "./driver.js";

/** A window that could not be probed: not virtio-mmio, or an unsupported version. */
export interface ProbeProblem {
  readonly slot: number;
  readonly base: number;
  readonly error: Error;
}

export class VirtioBus {
  readonly #platform: Platform;
  readonly #deviceOptions: VirtioDeviceOptions;
  readonly #drivers: VirtioDriver[] = [];
  /** Devices found, by slot. */
  readonly #devices = new Map<number, VirtioDevice>();
  readonly #problems: ProbeProblem[] = [];
  #scanned = false;

  constructor(platform: Platform, deviceOptions: VirtioDeviceOptions = {}) {
    this.#platform = platform;
    this.#deviceOptions = deviceOptions;
  }

  /**
   * Probes every virtio-mmio window of the board (§4.2.3.1), skipping empty slots,
   * resets each device found, and binds registered drivers. Windows that are not
   * virtio-mmio are listed in problems(). Scanning again finds only new devices.
   */
  async scan(): Promise<void> {
    this.#scanned = true;
    for (const window of this.#platform.board.virtioMmio) {
      if (this.#devices.has(window.slot)) continue;
      let transport;
      try {
        transport = probeMmio(this.#platform, window);
      } catch (error) {
        if (!this.#problems.some((p) => p.slot === window.slot)) {
          this.#problems.push({ slot: window.slot, base: window.base, error: error as Error });
        }
        continue;
      }
      if (transport === null) continue;
      const device = new VirtioDevice(this.#platform, transport, window.slot, window.base, this.#deviceOptions);
      this.#devices.set(window.slot, device);
      // A device may have been left running (by a boot loader, or a previous run).
      await device.resetDevice();
    }
    await this.#bindAll();
  }

  /** Adds a driver and binds it to every unbound device it matches (after a scan). */
  async register(driver: VirtioDriver): Promise<void> {
    if (this.#drivers.includes(driver)) return;
    this.#drivers.push(driver);
    if (this.#scanned) await this.#bindAll();
  }

  /** Unbinds the driver from its devices (reset, driver remove) and forgets it. */
  async unregister(driver: VirtioDriver): Promise<void> {
    const at = this.#drivers.indexOf(driver);
    if (at < 0) return;
    this.#drivers.splice(at, 1);
    for (const device of this.#devices.values()) {
      if (device.driver === driver) await device.unbind();
    }
    // Another registered driver may serve the devices now free.
    await this.#bindAll();
  }

  /** Resets every bound device and lets its driver go (before power-off). */
  async shutdown(): Promise<void> {
    for (const device of this.#devices.values()) await device.unbind();
  }

  /** Every transport that holds a device, in slot order. */
  devices(): DeviceInfo[] {
    return this.#sorted().map((device) => device.info());
  }

  /** The device in `slot`, if one was found there. */
  device(slot: number): VirtioDevice | undefined {
    return this.#devices.get(slot);
  }

  /** Devices found, optionally only those of one device ID, in slot order. */
  list(deviceId?: number): VirtioDevice[] {
    return this.#sorted().filter((device) => deviceId === undefined || device.deviceId === deviceId);
  }

  problems(): readonly ProbeProblem[] {
    return this.#problems;
  }

  #sorted(): VirtioDevice[] {
    return [...this.#devices.values()].sort((a, b) => a.slot - b.slot);
  }

  /** Linux's bus match: the first registered driver naming the device ID probes it. */
  async #bindAll(): Promise<void> {
    for (const device of this.#sorted()) {
      if (device.driver !== null) continue;
      const driver = this.#drivers.find((d) => d.deviceIds.includes(device.deviceId));
      if (driver !== undefined) await device.bind(driver);
    }
  }
}
