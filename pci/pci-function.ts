// What enumeration learns about one PCI function: the record behind the `pci` command
// and what the virtio-pci transport starts from.

import type { PciAddress } from "./ecam.js";

export type BarKind = "io" | "mem32" | "mem64";

/** One Base Address Register, sized and (if a window had room) assigned. */
export interface PciBar {
  /** BAR number 0-5 (a 64-bit BAR takes two: this is the lower). */
  readonly index: number;
  readonly kind: BarKind;
  readonly prefetchable: boolean;
  /** Bytes decoded (a power of two). */
  readonly size: number;
  /** Address on the PCI bus (what the BAR register holds); -1 if unassigned. */
  readonly pciAddress: number;
  /** The CPU address of the same bytes (through the bridge window); -1 if unassigned. */
  readonly cpuAddress: number;
}

export interface PciCapability {
  readonly id: number;
  /** Offset of the capability in configuration space. */
  readonly offset: number;
}

export interface PciFunction extends PciAddress {
  readonly vendorId: number;
  readonly deviceId: number;
  readonly revision: number;
  /** Class code, subclass and programming interface: 24 bits. */
  readonly classCode: number;
  /** Header type without the multi-function bit: 0 device, 1 PCI-to-PCI bridge. */
  readonly headerType: number;
  readonly multiFunction: boolean;
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
  readonly bars: readonly PciBar[];
  readonly capabilities: readonly PciCapability[];
  /** Interrupt pin 1-4 (INTA-INTD), 0 for none. */
  readonly interruptPin: number;
  /** GIC INTID the pin reaches through the bridges' swizzle and the interrupt map; null if none. */
  readonly irq: number | null;
  /** For a bridge: the bus numbers it forwards. */
  readonly secondaryBus?: number;
  readonly subordinateBus?: number;
  /** Why a BAR could not be assigned, if one could not. */
  readonly problems: readonly string[];
}
