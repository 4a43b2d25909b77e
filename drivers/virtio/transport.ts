// The transport interface (VIRTIO 1.2 §4): how the core reaches one device's registers,
// whatever the bus. Only transport implementations (transports/mmio/, transports/pci/) touch
// registers; the core, rings and device drivers see this interface only.

import type { Interrupts } from "../../platform/platform.js";

/** Where a virtqueue's three areas live, as physical addresses (VIRTIO 1.2 §2.7). */
export interface QueueAddresses {
  /** Queue size: number of descriptors, a power of two (§2.7). */
  readonly size: number;
  /** Descriptor table. */
  readonly desc: number;
  /** Driver area (the available ring). */
  readonly driver: number;
  /** Device area (the used ring). */
  readonly device: number;
}

/**
 * How a transport needs the three areas of a queue laid out.
 * Modern (virtio-mmio version 2): three independent areas, aligned 16/2/4 (§2.7.1).
 * Legacy (version 1): one contiguous block starting on a page, the used ring starting on
 * the next `usedAlign` boundary after the available ring (§2.7.2 "Legacy Interfaces",
 * §4.2.4).
 */
export interface QueueLayout {
  readonly contiguous: boolean;
  /** Alignment of the used ring inside the block (legacy: QueueAlign); 4 if not contiguous. */
  readonly usedAlign: number;
  /** Alignment of the block's start (legacy: GuestPageSize); 16 if not contiguous. */
  readonly baseAlign: number;
}

/** InterruptStatus bits (§4.2.2). */
export const INTERRUPT_USED_BUFFER = 1;
export const INTERRUPT_CONFIG_CHANGE = 2;

/** How a transport describes itself for `devices` (DeviceInfo). */
export interface TransportDescription {
  /** "mmio v1", "mmio v2", "pci modern", "pci legacy". */
  readonly mode: string;
  /** "00:01.0" for a PCI function, null elsewhere. */
  readonly pciAddress: string | null;
  /** "line 48", "intx 36", "msix 3 (80-82)". */
  readonly interrupt: string;
}

export interface Transport {
  /** "mmio" or "pci". */
  readonly bus: string;
  /** Human-readable location, e.g. "mmio@0x0a003e00". */
  readonly location: string;
  /** Transport version: 1 legacy, 2 modern (virtio-mmio Version register). */
  readonly version: number;
  /** Device ID (§5): 1 net, 2 blk, 3 console, 4 rng, 18 input, ... */
  readonly deviceId: number;
  readonly vendorId: number;
  /** Interrupt line of this transport (for MSI-X: the first vector's line). */
  readonly irq: number;
  /**
   * The interrupt controller the core attaches its handler to, when not the platform's
   * own: virtio-pci shares INTx lines between functions and spreads MSI-X vectors over
   * several lines, all delivered to the one handler.
   */
  readonly interrupts?: Interrupts;
  /** True when a queue must have exactly queueMaxSize() entries (legacy virtio-pci). */
  readonly fixedQueueSize?: boolean;
  /** Mode, address and interrupt kind, for `devices`. */
  describe?(): TransportDescription;
  /** Queue memory layout the transport requires. */
  readonly queueLayout: QueueLayout;

  /** Device status field (§2.1). */
  getStatus(): number;
  setStatus(status: number): void;
  /** Writes 0 to the status: a reset starts (§2.4). The core waits for status 0. */
  reset(): void;

  /** All 64 device feature bits (§2.2), read through the selector. */
  deviceFeatures(): bigint;
  /** Writes all 64 driver feature bits through the selector. */
  setDriverFeatures(features: bigint): void;

  /** QueueNumMax for queue `index`; 0 means the queue does not exist. */
  queueMaxSize(index: number): number;
  /** True if the queue is already in use (QueueReady / QueuePFN non-zero). */
  queueInUse(index: number): boolean;
  /** Tells the device where queue `index` lives and makes it live. */
  enableQueue(index: number, addresses: QueueAddresses): void;
  /** Takes queue `index` away from the device (QueueReady 0 / QueuePFN 0). */
  disableQueue(index: number): void;
  /** Available buffer notification (QueueNotify). */
  notify(index: number): void;

  /** Reads InterruptStatus. */
  interruptStatus(): number;
  /** Acknowledges the given InterruptStatus bits (InterruptACK). */
  ackInterrupt(bits: number): void;

  /** ConfigGeneration (§2.5.1); always 0 where the transport has none (legacy). */
  configGeneration(): number;
  readConfig8(offset: number): number;
  readConfig16(offset: number): number;
  readConfig32(offset: number): number;
  writeConfig8(offset: number, value: number): void;
  writeConfig16(offset: number, value: number): void;
  writeConfig32(offset: number, value: number): void;
}
