// The PCI bus of a board: the ECAM accessor over the host bridge the device tree names,
// enumerated once (bus numbers, BARs, command registers set), then shared by whoever
// asks (the virtio-pci transport provider, the `pci` shell command).

import type { Platform } from "../platform/platform.js";
import { Ecam, formatAddress } from "./ecam.js";
import { enumerate } from "./enumerate.js";
import type { PciFunction } from "./pci-function.js";

export class PciBus {
  readonly ecam: Ecam;
  readonly #functions: readonly PciFunction[];

  constructor(platform: Platform) {
    const host = platform.board.pci;
    if (!host) throw new Error("PciBus: the board has no reachable PCI host bridge");
    this.ecam = new Ecam(platform.mmio, host);
    this.#functions = enumerate(this.ecam, host, platform.pciBars ?? null);
  }

  /** Every function found, in enumeration order (depth first). */
  functions(): readonly PciFunction[] {
    return this.#functions;
  }

  find(bus: number, device: number, fn: number): PciFunction | undefined {
    return this.#functions.find((f) => f.bus === bus && f.device === device && f.fn === fn);
  }
}

const buses = new WeakMap<Platform, PciBus | null>();

/** The platform's PCI bus, enumerated at the first call; null when the board has none. */
export function pciBusOf(platform: Platform): PciBus | null {
  let bus = buses.get(platform);
  if (bus === undefined) {
    bus = platform.board.pci ? new PciBus(platform) : null;
    buses.set(platform, bus);
  }
  return bus;
}

export { formatAddress };
