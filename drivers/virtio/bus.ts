// The virtio bus (as Linux's drivers/virtio/virtio.c): finds the devices behind every
// transport the start-up code registered (transport-provider.ts: virtio-mmio windows,
// virtio PCI functions), matches registered drivers to them by device ID, binds (probe)
// and unbinds (remove), and reports what it found (DeviceInfo).

import type { Platform } from "../../platform/platform.js";
import type { DeviceInfo } from "./device-info.js";
import { VirtioDevice, type VirtioDeviceOptions } from "./device.js";
import type { VirtioDriver } from "./driver.js";
import type { TransportCandidate, TransportProvider } from "./transport-provider.js";

/** A place that could not be probed: not virtio-mmio, an unsupported version, a bad
 * PCI capability layout, ... */
export interface ProbeProblem {
  readonly slot: number;
  readonly base: number;
  readonly error: Error;
}

export class VirtioBus {
  readonly #platform: Platform;
  readonly #deviceOptions: VirtioDeviceOptions;
  readonly #drivers: VirtioDriver[] = [];
  readonly #providers: TransportProvider[] = [];
  /** Devices found, by slot. */
  readonly #devices = new Map<number, VirtioDevice>();
  readonly #problems: ProbeProblem[] = [];
  #scanned = false;

  /** `providers`: the transport kinds to scan (more with addProvider). */
  constructor(platform: Platform, deviceOptions: VirtioDeviceOptions = {}, providers: readonly TransportProvider[] = []) {
    this.#platform = platform;
    this.#deviceOptions = deviceOptions;
    for (const provider of providers) this.addProvider(provider);
  }

  /** Adds a transport kind the scan looks through (done by the start-up code). */
  addProvider(provider: TransportProvider): void {
    if (!this.#providers.includes(provider)) this.#providers.push(provider);
  }

  /** Names of the registered transport kinds, e.g. ["mmio", "pci"]. */
  providers(): string[] {
    return this.#providers.map((p) => p.name);
  }

  /**
   * Probes every place each registered provider lists (virtio-mmio: §4.2.3.1; PCI:
   * §4.1.2), skipping empty ones, resets each device found, and binds registered
   * drivers. Places that fail their probe are listed in problems(). Scanning again
   * finds only new devices.
   */
  async scan(): Promise<void> {
    if (this.#providers.length === 0) {
      throw new Error("VirtioBus.scan: no transport provider registered (call bus.addProvider, e.g. with mmioTransports)");
    }
    this.#scanned = true;
    for (const provider of this.#providers) {
      const candidates = provider.candidates(this.#platform);
      for (let i = 0; i < candidates.length; i++) {
        // An empty place costs no await (QEMU's virt board has 32 virtio-mmio windows).
        const found = this.#probe(candidates[i]!);
        if (found !== null) await found;
      }
    }
    await this.#bindAll();
  }

  /** The device's first reset when `candidate` holds a new one; null for an empty place,
   * a known device or a failed probe (listed in problems()). */
  #probe(candidate: TransportCandidate): Promise<boolean> | null {
    const { slot, base } = candidate;
    if (this.#devices.has(slot)) return null;
    let transport;
    try {
      transport = candidate.probe();
    } catch (error) {
      if (!this.#problems.some((p) => p.slot === slot)) this.#problems.push({ slot, base, error: error as Error });
      return null;
    }
    if (transport === null) return null;
    const device = new VirtioDevice(this.#platform, transport, slot, base, this.#deviceOptions);
    this.#devices.set(slot, device);
    // A device may have been left running (by a boot loader, or a previous run).
    return device.resetDevice();
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
    return this.#sorted().map((device) => {
      const t = device.transport;
      const d = t.describe?.() ?? { mode: `${t.bus} v${t.version}`, pciAddress: null, interrupt: `line ${t.irq}` };
      return { ...device.info(), transport: t.bus, mode: d.mode, pciAddress: d.pciAddress, interrupt: d.interrupt };
    });
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
