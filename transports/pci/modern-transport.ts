// The virtio-pci modern transport (VIRTIO 1.2 §4.1.4-4.1.5): the common configuration
// structure for status, features (through the select registers), queue set-up and
// MSI-X vectors; notification at notify.address + queue_notify_off * multiplier;
// ISR read-to-acknowledge; device configuration with config_generation. Every field is
// accessed at its own width (§4.1.3.1), 64-bit fields as two 32-bit halves.

import type { Mmio } from "../../platform/platform.js";
import type { QueueAddresses, QueueLayout, Transport, TransportDescription } from "../../drivers/virtio/transport.js";
import { PciAreaAccessError } from "./errors.js";
import { CONFIG_BITS, QUEUE_BITS, type PciIrq } from "./pci-irq.js";
import type { VirtioArea, VirtioCaps } from "./virtio-caps.js";

/** Common configuration offsets (§4.1.4.3). */
const C = {
  DeviceFeatureSelect: 0x00, DeviceFeature: 0x04, DriverFeatureSelect: 0x08, DriverFeature: 0x0c,
  ConfigMsixVector: 0x10, NumQueues: 0x12, DeviceStatus: 0x14, ConfigGeneration: 0x15,
  QueueSelect: 0x16, QueueSize: 0x18, QueueMsixVector: 0x1a, QueueEnable: 0x1c, QueueNotifyOff: 0x1e,
  QueueDesc: 0x20, QueueDriver: 0x28, QueueDevice: 0x30,
} as const;

export const NO_VECTOR = 0xffff;
const MODERN_LAYOUT: QueueLayout = { contiguous: false, usedAlign: 4, baseAlign: 16 };

export interface PciTransportIdentity {
  readonly location: string;
  readonly pciAddress: string;
  readonly deviceId: number;
  readonly vendorId: number;
}

export class PciModernTransport implements Transport {
  readonly bus = "pci";
  readonly version = 2;
  readonly queueLayout = MODERN_LAYOUT;
  readonly location: string;
  readonly deviceId: number;
  readonly vendorId: number;
  readonly interrupts: PciIrq;
  readonly #pciAddress: string;
  readonly #mmio: Mmio;
  readonly #caps: VirtioCaps;
  readonly #common: number;
  /** Notification address of each queue set up, by index (hot path: one write). */
  readonly #notifyAt: number[] = [];
  /** Queues get their own vector until the table runs out, then share one (Linux's order). */
  #perQueueVectors = true;

  constructor(mmio: Mmio, caps: VirtioCaps, identity: PciTransportIdentity, irq: PciIrq) {
    this.#mmio = mmio;
    this.#caps = caps;
    this.#common = caps.common.address;
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
    return { mode: "pci modern", pciAddress: this.#pciAddress, interrupt: this.interrupts.describe() };
  }

  getStatus(): number {
    return this.#mmio.read8(this.#common + C.DeviceStatus); // 8-bit
  }

  setStatus(status: number): void {
    this.#mmio.write8(this.#common + C.DeviceStatus, status & 0xff);
  }

  reset(): void {
    this.#mmio.write8(this.#common + C.DeviceStatus, 0); // §4.1.4.3.1: 0 resets the device
  }

  deviceFeatures(): bigint {
    const m = this.#mmio;
    m.write32(this.#common + C.DeviceFeatureSelect, 0);
    const low = m.read32(this.#common + C.DeviceFeature) >>> 0;
    m.write32(this.#common + C.DeviceFeatureSelect, 1);
    const high = m.read32(this.#common + C.DeviceFeature) >>> 0;
    return (BigInt(high) << 32n) | BigInt(low);
  }

  setDriverFeatures(features: bigint): void {
    const m = this.#mmio;
    m.write32(this.#common + C.DriverFeatureSelect, 0);
    m.write32(this.#common + C.DriverFeature, Number(features & 0xffffffffn));
    m.write32(this.#common + C.DriverFeatureSelect, 1);
    m.write32(this.#common + C.DriverFeature, Number((features >> 32n) & 0xffffffffn));
    // The configuration vector is chosen here, once per initialization (a reset forgot it).
    this.#setConfigVector();
  }

  #setConfigVector(): void {
    const irq = this.interrupts;
    if (irq.mode !== "msix") return;
    const entry = irq.useVector(0, CONFIG_BITS);
    this.#mmio.write16(this.#common + C.ConfigMsixVector, entry < 0 ? NO_VECTOR : entry);
    // §4.1.5.1.2.1: the device answers NO_VECTOR when it could not map the vector.
    if (entry < 0 || this.#mmio.read16(this.#common + C.ConfigMsixVector) !== entry) irq.fallBackToIntx();
    else irq.unmask();
  }

  /** queue_select; every queue register below it refers to this queue. */
  #select(index: number): void {
    this.#mmio.write16(this.#common + C.QueueSelect, index);
  }

  queueMaxSize(index: number): number {
    if (index >= this.#mmio.read16(this.#common + C.NumQueues)) return 0;
    this.#select(index);
    return this.#mmio.read16(this.#common + C.QueueSize); // §4.1.4.3.2: the maximum after reset
  }

  queueInUse(index: number): boolean {
    this.#select(index);
    return this.#mmio.read16(this.#common + C.QueueEnable) !== 0;
  }

  /** §4.1.5.1.3: queue_select, queue_size, the vector, the three addresses, then queue_enable = 1. */
  enableQueue(index: number, q: QueueAddresses): void {
    const m = this.#mmio;
    const c = this.#common;
    this.#select(index);
    m.write16(c + C.QueueSize, q.size);
    this.#setQueueVector(index);
    this.#write64(c + C.QueueDesc, q.desc);
    this.#write64(c + C.QueueDriver, q.driver);
    this.#write64(c + C.QueueDevice, q.device);
    const off = m.read16(c + C.QueueNotifyOff);
    const at = this.#caps.notifyMultiplier * off;
    if (at + 2 > this.#caps.notify.length) throw new PciAreaAccessError(this.location, "notify", at, 2, this.#caps.notify.length);
    this.#notifyAt[index] = this.#caps.notify.address + at;
    m.write16(c + C.QueueEnable, 1);
  }

  /** A vector per queue while the table has entries (1 + index), else one shared vector (1). */
  #setQueueVector(index: number): void {
    const irq = this.interrupts;
    if (irq.mode !== "msix") return;
    const c = this.#common;
    const tryVector = (entry: number): boolean => {
      if (irq.useVector(entry, QUEUE_BITS) < 0) return false;
      this.#mmio.write16(c + C.QueueMsixVector, entry);
      return this.#mmio.read16(c + C.QueueMsixVector) === entry;
    };
    if (this.#perQueueVectors && tryVector(1 + index)) return;
    this.#perQueueVectors = false;
    if (tryVector(1)) return;
    irq.fallBackToIntx();
    this.#mmio.write16(c + C.QueueMsixVector, NO_VECTOR);
  }

  disableQueue(index: number): void {
    // §4.1.4.3.2: the driver MUST NOT write 0 to queue_enable; a reset takes queues away.
    void index;
  }

  notify(index: number): void {
    this.#mmio.write16(this.#notifyAt[index]!, index); // §4.1.5.2: the 16-bit queue index
  }

  interruptStatus(): number {
    const irq = this.interrupts;
    if (irq.mode === "msix") return irq.pending;
    return this.#mmio.read8(this.#caps.isr.address); // §4.1.4.5: reading acknowledges
  }

  ackInterrupt(bits: number): void {
    this.interrupts.pending &= ~bits; // INTx: the ISR read already acknowledged
  }

  configGeneration(): number {
    return this.#mmio.read8(this.#common + C.ConfigGeneration);
  }

  readConfig8(offset: number): number {
    return this.#mmio.read8(this.#config(offset, 1)); // 8-bit
  }
  readConfig16(offset: number): number {
    return this.#mmio.read16(this.#config(offset, 2)); // 16-bit
  }
  readConfig32(offset: number): number {
    return this.#mmio.read32(this.#config(offset, 4)) >>> 0; // 32-bit
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

  /** A device configuration field's address; outside the device area it is refused. */
  #config(offset: number, width: number): number {
    const area: VirtioArea | null = this.#caps.device;
    const length = area?.length ?? 0;
    if (area === null || !Number.isInteger(offset) || offset < 0 || offset + width > length) {
      throw new PciAreaAccessError(this.location, "device configuration", offset, width, length);
    }
    return area.address + offset;
  }

  #write64(at: number, address: number): void {
    this.#mmio.write32(at, address % 0x1_0000_0000);
    this.#mmio.write32(at + 4, Math.floor(address / 0x1_0000_0000));
  }
}
