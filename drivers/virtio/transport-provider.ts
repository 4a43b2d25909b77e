// How the bus finds transports without knowing any of them (as Linux's virtio core
// knows neither virtio_mmio nor virtio_pci): the start-up code registers one provider
// per transport kind (transports/mmio, transports/pci); each lists the places a device
// may sit, and the bus probes the places it has not seen yet.

import type { Platform } from "../../platform/platform.js";
import type { Transport } from "./transport.js";

/** One place a device may sit: an mmio window, a PCI function. */
export interface TransportCandidate {
  /** Bus-wide slot number: stable across scans, unique over all providers. */
  readonly slot: number;
  /** Base address shown for the place (window base, first BAR or ECAM address). */
  readonly base: number;
  /**
   * Looks at the place: a transport, null when nothing is there (an empty mmio slot),
   * or throws a named error for something that is not a usable virtio transport.
   */
  probe(): Transport | null;
}

export interface TransportProvider {
  /** "mmio", "pci". */
  readonly name: string;
  /** The places to probe, called at every scan. */
  candidates(platform: Platform): readonly TransportCandidate[];
}
