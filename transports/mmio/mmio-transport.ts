// The virtio-mmio transport (VIRTIO 1.2 §4.2): the only code that touches a device's
// registers. Every register access is a 32-bit little-endian access through
// platform.mmio, except the device configuration space, which is read at the width asked
// (§4.2.2: "the driver MUST use ... accesses matching the field width").

import type { Mmio, Platform, VirtioMmioWindow } from "../../platform/platform.js";
import type { QueueAddresses, QueueLayout, Transport } from "../../drivers/virtio/transport.js";
import { BadMagicError, ConfigAccessError, QueueAddressError, UnsupportedVersionError } from "./errors.js";
import { LEGACY_PAGE_SIZE, MMIO_MAGIC, MmioReg } from "./registers.js";

/** Modern split-queue alignment (§2.7.1): descriptors 16, driver area 2, device area 4. */
const MODERN_LAYOUT: QueueLayout = { contiguous: false, usedAlign: 4, baseAlign: 16 };
/** Legacy (§2.7.2, §4.2.4): one page-aligned block, the used ring on QueueAlign = one page. */
const LEGACY_LAYOUT: QueueLayout = { contiguous: true, usedAlign: LEGACY_PAGE_SIZE, baseAlign: LEGACY_PAGE_SIZE };

/**
 * Looks at one virtio-mmio window (§4.2.3.1): checks MagicValue and Version, reads the
 * device ID. Returns null for an empty slot (device ID 0); throws BadMagicError or
 * UnsupportedVersionError for anything that is not virtio-mmio 1 or 2.
 */
export function probeMmio(platform: Platform, window: VirtioMmioWindow): MmioTransport | null {
  const mmio = platform.mmio;
  const magic = mmio.read32(window.base + MmioReg.MagicValue) >>> 0; // 32-bit
  if (magic !== MMIO_MAGIC) throw new BadMagicError(window.base, magic);
  const version = mmio.read32(window.base + MmioReg.Version) >>> 0; // 32-bit
  if (version !== 1 && version !== 2) throw new UnsupportedVersionError(window.base, version);
  const deviceId = mmio.read32(window.base + MmioReg.DeviceID) >>> 0; // 32-bit
  if (deviceId === 0) return null; // §4.2.3.1: a placeholder with no device behind it
  return new MmioTransport(mmio, window, version, deviceId);
}

export class MmioTransport implements Transport {
  readonly bus = "mmio";
  readonly location: string;
  readonly version: number;
  readonly deviceId: number;
  readonly vendorId: number;
  readonly irq: number;
  readonly slot: number;
  readonly base: number;
  readonly queueLayout: QueueLayout;
  /** Bytes of configuration space: from 0x100 to the end of the window (§4.2.2). */
  readonly configSize: number;
  readonly #mmio: Mmio;

  /** Use probeMmio(), which checks the window first. */
  constructor(mmio: Mmio, window: VirtioMmioWindow, version: number, deviceId: number) {
    this.#mmio = mmio;
    this.base = window.base;
    this.slot = window.slot;
    this.irq = window.irq;
    this.version = version;
    this.deviceId = deviceId;
    this.location = "mmio@0x" + window.base.toString(16).padStart(8, "0");
    this.configSize = Math.max(0, window.size - MmioReg.Config);
    this.vendorId = this.#read(MmioReg.VendorID);
    this.queueLayout = version === 1 ? LEGACY_LAYOUT : MODERN_LAYOUT;
    // §4.2.4: a legacy driver announces its page size once, before any queue is used;
    // QueuePFN values are in these units. A status reset does not clear it.
    if (version === 1) this.#write(MmioReg.GuestPageSize, LEGACY_PAGE_SIZE);
  }

  getStatus(): number {
    return this.#read(MmioReg.Status) & 0xff;
  }

  setStatus(status: number): void {
    this.#write(MmioReg.Status, status & 0xff);
  }

  reset(): void {
    this.#write(MmioReg.Status, 0); // §4.2.3.1 / §2.4: writing 0 starts a reset
  }

  deviceFeatures(): bigint {
    this.#write(MmioReg.DeviceFeaturesSel, 0);
    const low = this.#read(MmioReg.DeviceFeatures);
    this.#write(MmioReg.DeviceFeaturesSel, 1);
    const high = this.#read(MmioReg.DeviceFeatures);
    return (BigInt(high) << 32n) | BigInt(low);
  }

  setDriverFeatures(features: bigint): void {
    const low = Number(features & 0xffffffffn);
    const high = Number((features >> 32n) & 0xffffffffn);
    this.#write(MmioReg.DriverFeaturesSel, 0);
    this.#write(MmioReg.DriverFeatures, low);
    // A legacy device has only 32 feature bits (§4.2.4): the high word is written only
    // on a modern transport, or if a caller really asks for high bits.
    if (this.version === 2 || high !== 0) {
      this.#write(MmioReg.DriverFeaturesSel, 1);
      this.#write(MmioReg.DriverFeatures, high);
    }
  }

  queueMaxSize(index: number): number {
    this.#write(MmioReg.QueueSel, index);
    return this.#read(MmioReg.QueueNumMax);
  }

  queueInUse(index: number): boolean {
    this.#write(MmioReg.QueueSel, index);
    return this.#read(this.version === 1 ? MmioReg.QueuePFN : MmioReg.QueueReady) !== 0;
  }

  enableQueue(index: number, addresses: QueueAddresses): void {
    if (this.version === 1) this.#enableLegacyQueue(index, addresses);
    else this.#enableModernQueue(index, addresses);
  }

  /** §4.2.3.2: QueueSel, QueueNum, the three addresses as low/high words, QueueReady = 1. */
  #enableModernQueue(index: number, q: QueueAddresses): void {
    for (const address of [q.desc, q.driver, q.device]) this.#checkAddress(index, address);
    this.#write(MmioReg.QueueSel, index);
    this.#write(MmioReg.QueueNum, q.size);
    this.#write64(MmioReg.QueueDescLow, MmioReg.QueueDescHigh, q.desc);
    this.#write64(MmioReg.QueueDriverLow, MmioReg.QueueDriverHigh, q.driver);
    this.#write64(MmioReg.QueueDeviceLow, MmioReg.QueueDeviceHigh, q.device);
    this.#write(MmioReg.QueueReady, 1);
  }

  /** §4.2.4: QueueSel, QueueNum, QueueAlign, then QueuePFN (the block's page number).
   * GuestPageSize is written again first: the spec does not say that a status reset
   * keeps it, and some device implementations forget it. */
  #enableLegacyQueue(index: number, q: QueueAddresses): void {
    this.#checkAddress(index, q.desc);
    if (q.desc % LEGACY_PAGE_SIZE !== 0) {
      throw new QueueAddressError(this.location, index, q.desc, "is not page-aligned (legacy QueuePFN)");
    }
    if (q.desc / LEGACY_PAGE_SIZE > 0xffffffff) {
      throw new QueueAddressError(this.location, index, q.desc, "is beyond a 32-bit page number (legacy QueuePFN)");
    }
    this.#write(MmioReg.GuestPageSize, LEGACY_PAGE_SIZE);
    this.#write(MmioReg.QueueSel, index);
    this.#write(MmioReg.QueueNum, q.size);
    this.#write(MmioReg.QueueAlign, LEGACY_PAGE_SIZE);
    this.#write(MmioReg.QueuePFN, q.desc / LEGACY_PAGE_SIZE);
  }

  disableQueue(index: number): void {
    this.#write(MmioReg.QueueSel, index);
    if (this.version === 1) this.#write(MmioReg.QueuePFN, 0);
    else this.#write(MmioReg.QueueReady, 0);
  }

  notify(index: number): void {
    this.#write(MmioReg.QueueNotify, index);
  }

  interruptStatus(): number {
    return this.#read(MmioReg.InterruptStatus);
  }

  ackInterrupt(bits: number): void {
    this.#write(MmioReg.InterruptACK, bits);
  }

  configGeneration(): number {
    return this.version === 1 ? 0 : this.#read(MmioReg.ConfigGeneration);
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
    this.#mmio.write8(this.#config(offset, 1), value); // 8-bit
  }

  writeConfig16(offset: number, value: number): void {
    this.#mmio.write16(this.#config(offset, 2), value); // 16-bit
  }

  writeConfig32(offset: number, value: number): void {
    this.#mmio.write32(this.#config(offset, 4), value); // 32-bit
  }

  /** The address of a configuration field; a field outside the configuration space is
   * refused (it would reach the registers of the next window). */
  #config(offset: number, width: number): number {
    if (!Number.isInteger(offset) || offset < 0 || offset + width > this.configSize) {
      throw new ConfigAccessError(this.location, offset, width, this.configSize);
    }
    return this.base + MmioReg.Config + offset;
  }

  /** 32-bit register read, as an unsigned number. */
  #read(offset: number): number {
    return this.#mmio.read32(this.base + offset) >>> 0;
  }

  /** 32-bit register write. */
  #write(offset: number, value: number): void {
    this.#mmio.write32(this.base + offset, value >>> 0);
  }

  /** A 64-bit address as two 32-bit writes, low word first. */
  #write64(lowOffset: number, highOffset: number, address: number): void {
    this.#write(lowOffset, address % 0x100000000);
    this.#write(highOffset, Math.floor(address / 0x100000000));
  }

  #checkAddress(index: number, address: number): void {
    if (!Number.isSafeInteger(address) || address < 0) {
      throw new QueueAddressError(this.location, index, address, "is not a physical address");
    }
  }
}
