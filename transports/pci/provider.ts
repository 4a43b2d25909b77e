// The virtio-pci transport provider: one candidate per virtio function the PCI layer
// enumerated (vendor 0x1af4, device 0x1000-0x107f, §4.1.2), slots after the mmio ones.
// Probe prefers the modern interface (§4.1.4 capabilities); a function without them
// that is transitional (0x1000-0x103f) with an I/O BAR0 is driven through the legacy
// block (§4.1.4.8). Interrupts: MSI-X when the function and the board's GICv2m frame
// allow, else INTx through the interrupt map.

import type { Platform } from "../../platform/platform.js";
import type { TransportCandidate, TransportProvider } from "../../drivers/virtio/transport-provider.js";
import type { Transport } from "../../drivers/virtio/transport.js";
import { formatAddress } from "../../pci/ecam.js";
import { pciBusOf, type PciBus } from "../../pci/pci-bus.js";
import type { PciFunction } from "../../pci/pci-function.js";
import { PciCapabilityError } from "./errors.js";
import { PciLegacyTransport } from "./legacy-transport.js";
import { PciModernTransport, type PciTransportIdentity } from "./modern-transport.js";
import { msiFrameOf } from "./msi-frame.js";
import { MsixTable } from "./msix-table.js";
import { PciIrq } from "./pci-irq.js";
import { readVirtioCaps } from "./virtio-caps.js";

export const VIRTIO_PCI_VENDOR = 0x1af4;
const MODERN_FIRST = 0x1040;

/** A virtio function: vendor 0x1af4, device 0x1000-0x107f (§4.1.2.1). */
export function isVirtioFunction(fn: PciFunction): boolean {
  return fn.vendorId === VIRTIO_PCI_VENDOR && fn.deviceId >= 0x1000 && fn.deviceId <= 0x107f && fn.headerType === 0;
}

/** The virtio device type: 0x1040 + type, or for transitional IDs the subsystem ID (§4.1.2.1). */
export function virtioDeviceType(fn: PciFunction): number {
  return fn.deviceId >= MODERN_FIRST ? fn.deviceId - MODERN_FIRST : fn.subsystemId;
}

/** Which interface a probe uses; "legacy" only when told or when there is no other. */
export type PciInterfacePreference = "modern" | "legacy";

export function probePciFunction(platform: Platform, bus: PciBus, fn: PciFunction, prefer: PciInterfacePreference = "modern"): Transport {
  const pciAddress = formatAddress(fn);
  const location = `pci@${pciAddress}`;
  const identity: PciTransportIdentity = { location, pciAddress, deviceId: virtioDeviceType(fn), vendorId: fn.subsystemVendorId };
  const caps = readVirtioCaps(bus.ecam, fn, location);
  const io = fn.bars.find((b) => b.index === 0 && b.kind === "io" && b.cpuAddress >= 0);
  const transitional = fn.deviceId < MODERN_FIRST;
  const useLegacy = (caps === null || prefer === "legacy") && transitional && io !== undefined;
  if (!useLegacy && caps === null) {
    throw new PciCapabilityError(location, transitional ? "no virtio capabilities and no assigned I/O BAR0" : "no common configuration capability (§4.1.4.3)");
  }
  const irq = new PciIrq(platform, fn.irq, MsixTable.find(bus.ecam, platform.mmio, fn), msiFrameOf(platform));
  if (useLegacy) return new PciLegacyTransport(platform.mmio, io!.cpuAddress, io!.size, identity, irq);
  return new PciModernTransport(platform.mmio, caps!, identity, irq);
}

/** Provider options: the first slot number (default: after the board's mmio windows). */
export interface PciProviderOptions {
  readonly firstSlot?: number;
  readonly prefer?: PciInterfacePreference;
}

export function pciTransportProvider(options: PciProviderOptions = {}): TransportProvider {
  return {
    name: "pci",
    candidates(platform: Platform): TransportCandidate[] {
      const bus = pciBusOf(platform);
      if (bus === null) return [];
      const first = options.firstSlot ?? platform.board.virtioMmio.length;
      return bus.functions().filter(isVirtioFunction).map((fn, i) => ({
        slot: first + i,
        base: bus.ecam.address(fn, 0, 4),
        probe: () => probePciFunction(platform, bus, fn, options.prefer),
      }));
    },
  };
}

/** The default provider: modern where offered, legacy where not. */
export const pciTransports: TransportProvider = pciTransportProvider();
