// The virtio-pci legacy interface (VIRTIO 1.2 §4.1.4.8, "Legacy Interfaces: A Note on
// PCI Device Layout"): a register block in I/O BAR0 - 32-bit host/guest features, the
// queue's page frame number (4096-byte pages, used ring 4096-aligned), its fixed size,
// select, notify, 8-bit status and ISR - then, with MSI-X enabled, the configuration
// and queue vectors, then the device configuration (guest-endian: little on arm).

import type { Mmio } from "../../platform/platform.js";
import type { QueueAddresses, QueueLayout, Transport, TransportDescription } from "../../drivers/virtio/transport.js";
import { PciAreaAccessError } from "./errors.js";
import { NO_VECTOR, type PciTransportIdentity } from "./modern-transport.js";
import { CONFIG_BITS, QUEUE_BITS, type PciIrq } from "./pci-irq.js";

const L = {
  HostFeatures: 0x00, GuestFeatures: 0x04, QueuePfn: 0x08, QueueSize: 0x0c, QueueSelect: 0x0e,
  QueueNotify: 0x10, Status: 0x12, Isr: 0x13, ConfigVector: 0x14, QueueVector: 0x16,
} as const;

/** VIRTIO_PCI_VRING_ALIGN and the page the PFN counts in. */
export const LEGACY_PCI_PAGE = 4096;
const LEGACY_LAYOUT: QueueLayout = { contiguous: true, usedAlign: LEGACY_PCI_PAGE, baseAlign: LEGACY_PCI_PAGE };

export class PciLegacyTransport implements Transport {
  readonly bus = "pci";
  readonly version = 1;
  readonly queueLayout = LEGACY_LAYOUT;
  readonly fixedQueueSize = true;
  readonly location: string;
  readonly deviceId: number;
  readonly vendorId: number;
  readonly interrupts: PciIrq;
  readonly #pciAddress: string;
  readonly #mmio: Mmio;
  /** CPU address of the I/O block (through the bridge's I/O window). */
  readonly #base: number;
  readonly #size: number;
  #perQueueVectors = true;

  constructor(mmio: Mmio, base: number, size: number, identity: PciTransportIdentity, irq: PciIrq) {
    this.#mmio = mmio;
    this.#base = base;
    this.#size = size;
    this.location = identity.location;
    this.#pciAddress = identity.pciAddress;
    this.deviceId = identity.deviceId;
    this.vendorId = identity.vendorId;
    this.interrupts = irq;
  }

  get irq(): number {
    return this.interrupts.line;
  }

  describe(): TransportDescription {
    return { mode: "pci legacy", pciAddress: this.#pciAddress, interrupt: this.interrupts.describe() };
  }

  getStatus(): number {
    return this.#mmio.read8(this.#base + L.Status); // 8-bit
  }
  setStatus(status: number): void {
    this.#mmio.write8(this.#base + L.Status, status & 0xff);
  }
  reset(): void {
    this.#mmio.write8(this.#base + L.Status, 0);
  }

  deviceFeatures(): bigint {
    return BigInt(this.#mmio.read32(this.#base + L.HostFeatures) >>> 0); // 32 bits only
  }

  setDriverFeatures(features: bigint): void {
    this.#mmio.write32(this.#base + L.GuestFeatures, Number(features & 0xffffffffn));
    const irq = this.interrupts;
    if (irq.mode !== "msix") return;
    const entry = irq.useVector(0, CONFIG_BITS);
    this.#mmio.write16(this.#base + L.ConfigVector, entry < 0 ? NO_VECTOR : entry);
    if (entry < 0 || this.#mmio.read16(this.#base + L.ConfigVector) !== entry) irq.fallBackToIntx();
    else irq.unmask();
  }

  #select(index: number): void {
    this.#mmio.write16(this.#base + L.QueueSelect, index);
  }

  queueMaxSize(index: number): number {
    this.#select(index);
    return this.#mmio.read16(this.#base + L.QueueSize); // 16-bit; 0: no such queue
  }

  queueInUse(index: number): boolean {
    this.#select(index);
    return this.#mmio.read32(this.#base + L.QueuePfn) !== 0;
  }

  enableQueue(index: number, q: QueueAddresses): void {
    if (q.desc % LEGACY_PCI_PAGE !== 0 || q.desc / LEGACY_PCI_PAGE > 0xffffffff) {
      throw new PciAreaAccessError(this.location, "queue (legacy PFN needs a page-aligned 44-bit address)", q.desc, 4, 0);
    }
    this.#select(index);
    const irq = this.interrupts;
    if (irq.mode === "msix") {
      const tryVector = (entry: number): boolean => {
        if (irq.useVector(entry, QUEUE_BITS) < 0) return false;
        this.#mmio.write16(this.#base + L.QueueVector, entry);
        return this.#mmio.read16(this.#base + L.QueueVector) === entry;
      };
      if (!(this.#perQueueVectors && tryVector(1 + index))) {
        this.#perQueueVectors = false;
        if (!tryVector(1)) irq.fallBackToIntx();
      }
    }
    this.#mmio.write32(this.#base + L.QueuePfn, q.desc / LEGACY_PCI_PAGE);
  }

  disableQueue(index: number): void {
    this.#select(index);
    this.#mmio.write32(this.#base + L.QueuePfn, 0);
  }

  notify(index: number): void {
    this.#mmio.write16(this.#base + L.QueueNotify, index);
  }

  interruptStatus(): number {
    const irq = this.interrupts;
    if (irq.mode === "msix") return irq.pending;
    return this.#mmio.read8(this.#base + L.Isr); // read-to-acknowledge
  }

  ackInterrupt(bits: number): void {
    this.interrupts.pending &= ~bits;
  }

  configGeneration(): number {
    return 0; // legacy: none (§2.5.4 reads twice instead; the core re-reads)
  }

  readConfig8(offset: number): number {
    return this.#mmio.read8(this.#config(offset, 1));
  }
  readConfig16(offset: number): number {
    return this.#mmio.read16(this.#config(offset, 2));
  }
  readConfig32(offset: number): number {
    return this.#mmio.read32(this.#config(offset, 4)) >>> 0;
  }
  writeConfig8(offset: number, value: number): void {
    this.#mmio.write8(this.#config(offset, 1), value);
  }
  writeConfig16(offset: number, value: number): void {
    this.#mmio.write16(this.#config(offset, 2), value);
  }
  writeConfig32(offset: number, value: number): void {
    this.#mmio.write32(this.#config(offset, 4), value);
  }

  /** The device configuration starts after the MSI-X vector fields when MSI-X is on. */
  #config(offset: number, width: number): number {
    const start = this.interrupts.mode === "msix" ? 0x18 : 0x14;
    if (!Number.isInteger(offset) || offset < 0 || start + offset + width > this.#size) {
      throw new PciAreaAccessError(this.location, "legacy device configuration", offset, width, this.#size - start);
    }
    return this.#base + start + offset;
  }
}
