// A strict virtio-pci function (VIRTIO 1.2 §4.1) in front of a device model: PCI
// config space with the vendor capabilities (common, notify, ISR, device, PCI-cfg) and
// MSI-X, the modern memory BAR and the legacy I/O block (§4.1.4.8). Register accesses
// are checked (widths, capability lengths, read-only fields, bus mastering) and then
// carried out on a virtio-mmio register file of the same semantics (version 2 behind
// the modern interface, version 1 behind the legacy one), which keeps every device
// rule (status order, queue set-up after enable, features, rings) in one place.

import type { DeviceModel } from "../device-model.js";
import type { MmioWidth } from "../mmio-bus.js";
import type { MmioDeviceOptions, MmioDeviceWiring } from "../mmio-device-options.js";
import { MmioDeviceModel } from "../virtio-mmio-device.js";
import { REG } from "../virtio-constants.js";
import { MsixModel, MSIX_PBA_OFFSET, NO_VECTOR } from "./msix-model.js";
import { COMMAND_BUS_MASTER, PciConfigSpace } from "./pci-config-space.js";
import type { PciFunctionModel } from "./pci-host-model.js";
import {
  CapType, CLASS_CODES, COMMON_FIELDS, COMMON_LENGTH, COMMON_OFFSET, DEVICE_OFFSET, ISR_LENGTH, ISR_OFFSET, Legacy,
  LEGACY_BAR, LEGACY_WIDTHS, MODERN_BAR, MODERN_BAR_SIZE, MSIX_BAR, MSIX_BAR_SIZE, NOTIFY_OFFSET, TRANSITIONAL_IDS,
} from "./virtio-pci-layout.js";

export type VirtioPciMode = "modern" | "transitional" | "legacy";

export interface VirtioPciOptions extends Omit<MmioDeviceOptions, "version"> {
  /** "modern" (disable-legacy=on), "transitional" (QEMU's default; served through the
   * modern interface), "legacy" (disable-modern=on). Default "transitional". */
  readonly mode?: VirtioPciMode;
  /** MSI-X vectors (QEMU's `vectors`); 0 = INTx only. Default queues + 1. */
  readonly vectors?: number;
  /** notify_off_multiplier (§4.1.4.4). Default 4, as QEMU. */
  readonly notifyMultiplier?: number;
}

export interface VirtioPciWiring extends Omit<MmioDeviceWiring, "base" | "messageSignal"> {
  /** Sends an MSI-X message: a 32-bit write of `data` at `address`. */
  readonly sendMessage: (address: number, data: number) => void;
}

const VIRTIO_VENDOR = 0x1af4;
const hex = (n: number): string => `0x${n.toString(16)}`;

export class VirtioPciDeviceModel implements PciFunctionModel {
  readonly config: PciConfigSpace;
  readonly backend: MmioDeviceModel;
  readonly msix: MsixModel | null;
  readonly mode: VirtioPciMode;
  readonly notifyMultiplier: number;
  readonly #report: (rule: string, message: string) => void;
  readonly #device: DeviceModel;
  #deviceFeatureSelect = 0;
  #driverFeatureSelect = 0;
  readonly #driverFeatures = [0, 0];
  #queueSelect = 0;
  #configVector = NO_VECTOR;
  readonly #queueVectors: number[];
  readonly #queueSizes: number[];
  readonly #queueAddresses: number[][];
  #msixControl = -1;

  constructor(device: DeviceModel, options: VirtioPciOptions, wiring: VirtioPciWiring) {
    this.#device = device;
    this.mode = options.mode ?? "transitional";
    this.notifyMultiplier = options.notifyMultiplier ?? 4;
    this.#report = (rule, message) => wiring.violations.record(wiring.slot, rule, `${device.name} (pci): ${message}`);
    const vectors = options.vectors ?? device.queueCount + 1;
    this.msix = vectors > 0 ? new MsixModel(vectors, wiring.sendMessage, this.#report) : null;
    this.backend = new MmioDeviceModel(device, { ...options, version: this.mode === "legacy" ? 1 : 2 }, {
      ...wiring,
      base: 0,
      raiseLine: () => {
        if (!(this.config.command & 0x400)) wiring.raiseLine(); // INTx disable (PCI 3.0 §6.2.2)
      },
      messageSignal: (_bits, queue) => {
        if (!this.msix?.enabled) return false;
        this.msix.signal(queue < 0 ? this.#configVector : this.#queueVectors[queue] ?? NO_VECTOR);
        return true;
      },
    });
    this.#queueVectors = new Array<number>(device.queueCount).fill(NO_VECTOR);
    this.#queueSizes = Array.from({ length: device.queueCount }, (_, i) => this.backend.queue(i).maxSize);
    this.#queueAddresses = Array.from({ length: device.queueCount }, () => [0, 0, 0, 0, 0, 0]);
    const transitionalId = TRANSITIONAL_IDS[device.deviceId];
    const legacyBlock = this.mode !== "modern" && transitionalId !== undefined;
    this.config = new PciConfigSpace({
      vendorId: VIRTIO_VENDOR,
      deviceId: legacyBlock ? transitionalId : 0x1040 + device.deviceId,
      revision: legacyBlock ? 0 : 1, // §4.1.2.1: non-transitional devices have revision 1 or more
      classCode: CLASS_CODES[device.deviceId] ?? 0xff0000,
      subsystemVendorId: VIRTIO_VENDOR,
      subsystemId: legacyBlock ? device.deviceId : 0x1100, // §4.1.2.3: transitional subsystem ID = device type
      interruptPin: 1,
    }, this.#report);
    if (legacyBlock) {
      const configBytes = device.config?.length ?? 0;
      let size = 32;
      while (size < 0x18 + configBytes) size *= 2;
      this.config.setBar(LEGACY_BAR, { kind: "io", size });
    }
    if (this.msix) {
      this.config.setBar(MSIX_BAR, { kind: "mem32", size: MSIX_BAR_SIZE });
      const cap = this.config.addCapability(0x11, 12);
      const bytes = new DataView(this.config.bytes.buffer);
      bytes.setUint16(cap + 2, vectors - 1, true); // table size - 1
      bytes.setUint32(cap + 4, 0 | MSIX_BAR, true); // table at 0 in BAR1
      bytes.setUint32(cap + 8, MSIX_PBA_OFFSET | MSIX_BAR, true);
      this.config.allowWrite(cap + 3, 1, 0xc0); // enable, function mask
      this.#msixControl = cap + 2;
    }
    if (this.mode !== "legacy") {
      this.config.setBar(MODERN_BAR, { kind: "mem64", size: MODERN_BAR_SIZE, prefetchable: true });
      this.#vendorCap(CapType.Common, COMMON_OFFSET, COMMON_LENGTH);
      this.#vendorCap(CapType.Isr, ISR_OFFSET, ISR_LENGTH);
      this.#vendorCap(CapType.Device, DEVICE_OFFSET, Math.max(4, device.config?.length ?? 0));
      const notify = this.#vendorCap(CapType.Notify, NOTIFY_OFFSET, Math.max(2, device.queueCount * this.notifyMultiplier), 4);
      new DataView(this.config.bytes.buffer).setUint32(notify + 16, this.notifyMultiplier, true);
      this.#vendorCap(CapType.PciCfg, 0, 0, 4); // the PCI-cfg access window (not used by our driver)
    }
    this.config.onWrite = (offset, width) => {
      const c = this.#msixControl;
      if (this.msix && c >= 0 && offset <= c + 1 && offset + width > c + 1) {
        const control = this.config.bytes[c + 1]!;
        this.msix.enabled = (control & 0x80) !== 0;
        this.msix.functionMasked = (control & 0x40) !== 0;
        this.msix.unmasked();
      }
    };
  }

  /** virtio_pci_cap (§4.1.4): vndr, next, len, cfg_type, bar, id, pad, offset, length [+ extra]. */
  #vendorCap(type: number, offset: number, length: number, extra = 0): number {
    const at = this.config.addCapability(0x09, 16 + extra);
    const v = new DataView(this.config.bytes.buffer);
    v.setUint8(at + 2, 16 + extra);
    v.setUint8(at + 3, type);
    v.setUint8(at + 4, type === CapType.PciCfg ? 0 : MODERN_BAR);
    v.setUint32(at + 8, offset, true);
    v.setUint32(at + 12, length, true);
    return at;
  }

  // ---- BAR accesses ----

  barRead(bar: number, offset: number, width: MmioWidth): number {
    if (bar === MSIX_BAR && this.msix) return this.msix.read(offset, width);
    if (bar === LEGACY_BAR) return this.#legacyRead(offset, width);
    if (bar !== MODERN_BAR) return 0;
    if (offset < ISR_OFFSET) return this.#commonRead(offset, width);
    if (offset < DEVICE_OFFSET) return this.#isrRead(offset - ISR_OFFSET, width, "ISR");
    if (offset < NOTIFY_OFFSET) return this.backend.read(REG.Config + offset - DEVICE_OFFSET, width);
    this.#report("notify-read", `read of the notification area at ${hex(offset - NOTIFY_OFFSET)}`);
    return 0;
  }

  barWrite(bar: number, offset: number, width: MmioWidth, value: number): void {
    if (bar === MSIX_BAR && this.msix) return this.msix.write(offset, width, value);
    if (bar === LEGACY_BAR) return this.#legacyWrite(offset, width, value);
    if (bar !== MODERN_BAR) return;
    if (offset < ISR_OFFSET) return this.#commonWrite(offset, width, value);
    if (offset < DEVICE_OFFSET) return this.#report("isr-write", `write of the ISR status (read-only, §4.1.4.5)`);
    if (offset < NOTIFY_OFFSET) return this.backend.write(REG.Config + offset - DEVICE_OFFSET, width, value);
    this.#notify(offset - NOTIFY_OFFSET, width, value);
  }

  /** §4.1.4.5: reading the ISR status acknowledges it (read-to-clear). */
  #isrRead(offset: number, width: MmioWidth, what: string): number {
    if (offset >= ISR_LENGTH || width !== 1) {
      this.#report("isr-access", `${width * 8}-bit ${what} read at +${offset}: the ISR status is one byte`);
      if (offset >= ISR_LENGTH) return 0;
    }
    const isr = this.backend.read(REG.InterruptStatus, 4);
    if (isr) this.backend.write(REG.InterruptACK, 4, isr);
    return offset === 0 ? isr : 0;
  }

  #busMaster(what: string): void {
    if (!(this.config.command & COMMAND_BUS_MASTER)) {
      this.#report("dma-without-bus-master", `${what} while the command register's bus master bit is off (the device cannot reach the rings)`);
    }
  }

  #notify(offset: number, width: MmioWidth, value: number): void {
    if (width !== 2) this.#report("notify-width", `${width * 8}-bit notification write: the driver writes the 16-bit queue index (§4.1.5.2)`);
    if (offset % this.notifyMultiplier !== 0) this.#report("notify-address", `notification at +${hex(offset)} is not a queue's queue_notify_off * multiplier`);
    const queue = offset / this.notifyMultiplier;
    if (value !== queue) this.#report("notify-value", `notification at queue ${queue}'s address carries ${value} (§4.1.5.2: the queue index)`);
    this.#busMaster(`notify of queue ${value}`);
    this.backend.write(REG.QueueNotify, 4, value);
  }

  // ---- common configuration (§4.1.4.3) ----

  #field(offset: number, width: MmioWidth, dir: "read" | "write"): readonly [1 | 2 | 4, string, boolean] | null {
    if (offset >= COMMON_LENGTH) {
      this.#report("cap-access-past-length", `${dir} at ${hex(offset)} of the common configuration, past its capability length ${hex(COMMON_LENGTH)}`);
      return null;
    }
    const field = COMMON_FIELDS[offset];
    if (!field || field[0] !== width) {
      this.#report("common-cfg-width", `${width * 8}-bit ${dir} at ${hex(offset)}: ${field ? `${field[1]} is ${field[0] * 8}-bit` : "not the start of a field"} (§4.1.3.1)`);
      return null;
    }
    if (dir === "write" && !field[2]) {
      this.#report("common-cfg-read-only", `write of read-only ${field[1]}`);
      return null;
    }
    return field;
  }

  #commonRead(offset: number, width: MmioWidth): number {
    if (!this.#field(offset, width, "read")) return 0;
    const q = this.#queueSelect;
    switch (offset) {
      case 0x00: return this.#deviceFeatureSelect;
      case 0x04:
        this.backend.write(REG.DeviceFeaturesSel, 4, this.#deviceFeatureSelect);
        return this.backend.read(REG.DeviceFeatures, 4);
      case 0x08: return this.#driverFeatureSelect;
      case 0x0c: return this.#driverFeatures[this.#driverFeatureSelect] ?? 0;
      case 0x10: return this.#configVector;
      case 0x12: return this.#device.queueCount;
      case 0x14: return this.backend.read(REG.Status, 4) & 0xff;
      case 0x15: return this.backend.read(REG.ConfigGeneration, 4) & 0xff;
      case 0x16: return q;
      case 0x18: return this.#queueSizes[q] ?? 0; // §4.1.4.3.2: 0 for a queue that does not exist
      case 0x1a: return q < this.#queueVectors.length ? this.#queueVectors[q]! : NO_VECTOR;
      case 0x1c:
        this.backend.write(REG.QueueSel, 4, q);
        return this.backend.read(REG.QueueReady, 4);
      case 0x1e: return q < this.#device.queueCount ? q : 0;
      default: return this.#queueAddresses[q]?.[(offset - 0x20) / 4] ?? 0;
    }
  }

  #commonWrite(offset: number, width: MmioWidth, value: number): void {
    const field = this.#field(offset, width, "write");
    if (!field) return;
    const q = this.#queueSelect;
    const queueField = offset >= 0x18 && offset !== 0x1e;
    if (queueField && q >= this.#device.queueCount) {
      return this.#report("queue-not-present", `${field[1]} written for queue ${q}, which does not exist (queue_size reads 0)`);
    }
    switch (offset) {
      case 0x00: this.#deviceFeatureSelect = value; return;
      case 0x08: this.#driverFeatureSelect = value; return;
      case 0x0c:
        if (this.#driverFeatureSelect < 2) this.#driverFeatures[this.#driverFeatureSelect] = value >>> 0;
        this.backend.write(REG.DriverFeaturesSel, 4, this.#driverFeatureSelect);
        this.backend.write(REG.DriverFeatures, 4, value);
        return;
      case 0x10: this.#configVector = this.#vector(value); return;
      case 0x14:
        this.backend.write(REG.Status, 4, value);
        if (value === 0) this.#reset();
        return;
      case 0x16: this.#queueSelect = value; this.backend.write(REG.QueueSel, 4, value); return;
      case 0x18:
        this.backend.write(REG.QueueSel, 4, q);
        this.backend.write(REG.QueueNum, 4, value);
        if (this.backend.queue(q).num === value) this.#queueSizes[q] = value;
        return;
      case 0x1a: this.#queueVectors[q] = this.#vector(value); return;
      case 0x1c:
        if (value !== 1) return this.#report("queue-enable-zero", `queue_enable ${value} for queue ${q}: the driver MUST NOT write 0 (§4.1.4.3.2)`);
        this.#busMaster(`queue_enable of queue ${q}`);
        this.backend.write(REG.QueueSel, 4, q);
        this.backend.write(REG.QueueReady, 4, 1);
        return;
      default: {
        const regs = [REG.QueueDescLow, REG.QueueDescHigh, REG.QueueDriverLow, REG.QueueDriverHigh, REG.QueueDeviceLow, REG.QueueDeviceHigh];
        const i = (offset - 0x20) / 4;
        this.backend.write(REG.QueueSel, 4, q);
        this.backend.write(regs[i]!, 4, value);
        if (!this.backend.queue(q).live) this.#queueAddresses[q]![i] = value >>> 0;
      }
    }
  }

  /** A vector the table has, else NO_VECTOR (read back by the driver to check, §4.1.5.1.2). */
  #vector(value: number): number {
    return this.msix && value < this.msix.vectors ? value : NO_VECTOR;
  }

  /** Device reset as the PCI side sees it: selectors, sizes, vectors back to their defaults. */
  #reset(): void {
    this.#deviceFeatureSelect = this.#driverFeatureSelect = this.#queueSelect = 0;
    this.#driverFeatures.fill(0);
    this.#configVector = NO_VECTOR;
    this.#queueVectors.fill(NO_VECTOR);
    for (let i = 0; i < this.#queueSizes.length; i++) this.#queueSizes[i] = this.backend.queue(i).maxSize;
    for (const a of this.#queueAddresses) a.fill(0);
    if (this.mode === "legacy") this.backend.write(REG.GuestPageSize, 4, 4096);
  }

  // ---- legacy I/O block (§4.1.4.8) ----

  get #legacyConfigOffset(): number {
    return this.msix?.enabled ? 0x18 : 0x14;
  }

  #legacyRegister(offset: number, width: MmioWidth, dir: "read" | "write"): boolean {
    if (this.mode !== "legacy") {
      this.#report("legacy-interface-unmodelled", `legacy I/O ${dir} at ${hex(offset)} of a transitional device: the model serves it through the modern interface only`);
      return false;
    }
    const want = LEGACY_WIDTHS[offset];
    if (want === undefined || (offset >= 0x14 && !this.msix?.enabled) || want !== width) {
      this.#report("legacy-register-width", `${width * 8}-bit legacy ${dir} at ${hex(offset)}: ${want ? `the register is ${want * 8}-bit` : "no register"}`);
      return false;
    }
    return true;
  }

  #legacyRead(offset: number, width: MmioWidth): number {
    if (offset >= this.#legacyConfigOffset) return this.backend.read(REG.Config + offset - this.#legacyConfigOffset, width);
    if (!this.#legacyRegister(offset, width, "read")) return 0;
    switch (offset) {
      case Legacy.HostFeatures:
        this.backend.write(REG.DeviceFeaturesSel, 4, 0);
        return this.backend.read(REG.DeviceFeatures, 4);
      case Legacy.GuestFeatures: return this.#driverFeatures[0]!;
      case Legacy.QueuePfn: this.backend.write(REG.QueueSel, 4, this.#queueSelect); return this.backend.read(REG.QueuePFN, 4);
      case Legacy.QueueSize: this.backend.write(REG.QueueSel, 4, this.#queueSelect); return this.backend.read(REG.QueueNumMax, 4);
      case Legacy.QueueSelect: return this.#queueSelect;
      case Legacy.QueueNotify: return 0;
      case Legacy.Status: return this.backend.read(REG.Status, 4) & 0xff;
      case Legacy.Isr: return this.#isrRead(0, 1, "legacy ISR");
      case Legacy.ConfigVector: return this.#configVector;
      case Legacy.QueueVector: return this.#queueVectors[this.#queueSelect] ?? NO_VECTOR;
    }
    return 0;
  }

  #legacyWrite(offset: number, width: MmioWidth, value: number): void {
    if (offset >= this.#legacyConfigOffset) return this.backend.write(REG.Config + offset - this.#legacyConfigOffset, width, value);
    if (!this.#legacyRegister(offset, width, "write")) return;
    switch (offset) {
      case Legacy.GuestFeatures:
        this.#driverFeatures[0] = value >>> 0;
        this.backend.write(REG.DriverFeaturesSel, 4, 0);
        this.backend.write(REG.DriverFeatures, 4, value);
        return;
      case Legacy.QueuePfn: {
        this.backend.write(REG.QueueSel, 4, this.#queueSelect);
        if (value !== 0) {
          // §4.1.4.8: the queue size is the device's (QueueNum = max), the used ring 4096-aligned.
          this.#busMaster(`queue ${this.#queueSelect} address`);
          this.backend.write(REG.GuestPageSize, 4, 4096);
          this.backend.write(REG.QueueNum, 4, this.backend.read(REG.QueueNumMax, 4));
          this.backend.write(REG.QueueAlign, 4, 4096);
        }
        this.backend.write(REG.QueuePFN, 4, value);
        return;
      }
      case Legacy.QueueSelect: this.#queueSelect = value; return;
      case Legacy.QueueNotify: this.#busMaster(`notify of queue ${value}`); this.backend.write(REG.QueueNotify, 4, value); return;
      case Legacy.Status:
        this.backend.write(REG.Status, 4, value);
        if (value === 0) this.#reset();
        return;
      case Legacy.ConfigVector: this.#configVector = this.#vector(value); return;
      case Legacy.QueueVector: this.#queueVectors[this.#queueSelect] = this.#vector(value); return;
      default: this.#report("legacy-register-read-only", `write of read-only legacy register ${hex(offset)}`);
    }
  }
}
