// One PCI function's 4 KiB configuration space as a strict model serves it (PCI Local
// Bus 3.0 §6.1-6.2, type 0 header): read-only identity, a command register with the
// decode and bus-master bits, BARs that answer sizing (all ones in, size mask out),
// the capability list bytes its owner lays out, and per-byte write masks. Accesses
// must be naturally aligned; anything else is a recorded violation.

import type { MmioWidth } from "../mmio-bus.js";

export type BarSpec = { readonly kind: "io" | "mem32" | "mem64"; readonly size: number; readonly prefetchable?: boolean };

export const COMMAND_IO = 1;
export const COMMAND_MEMORY = 2;
export const COMMAND_BUS_MASTER = 4;

export interface PciIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  readonly revision: number;
  readonly classCode: number; // 24 bits
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
  readonly interruptPin: number;
  readonly multiFunction?: boolean;
}

export class PciConfigSpace {
  readonly bytes = new Uint8Array(0x1000);
  readonly #writable = new Uint8Array(0x1000);
  readonly bars: (BarSpec | null)[] = [null, null, null, null, null, null];
  readonly #report: (rule: string, message: string) => void;
  /** Called after a write that changed the command register or a BAR. */
  onDecodeChange: () => void = () => {};
  /** Called after a write of a byte in [start, end) that the owner watches (e.g. MSI-X control). */
  onWrite: (offset: number, width: number) => void = () => {};
  /** End of the BAR registers: 0x28 (six, type 0 header) or 0x18 (two, type 1 bridge). */
  barsEnd = 0x28;
  #nextCap = 0x40;
  #lastCap = -1;

  constructor(id: PciIdentity, report: (rule: string, message: string) => void) {
    this.#report = report;
    const v = new DataView(this.bytes.buffer);
    v.setUint16(0x00, id.vendorId, true);
    v.setUint16(0x02, id.deviceId, true);
    v.setUint8(0x08, id.revision);
    v.setUint8(0x09, id.classCode & 0xff);
    v.setUint16(0x0a, id.classCode >>> 8, true);
    v.setUint8(0x0e, id.multiFunction ? 0x80 : 0);
    v.setUint16(0x2c, id.subsystemVendorId, true);
    v.setUint16(0x2e, id.subsystemId, true);
    v.setUint8(0x3d, id.interruptPin);
    this.#writable[0x04] = COMMAND_IO | COMMAND_MEMORY | COMMAND_BUS_MASTER;
    this.#writable[0x05] = 0x04; // INTx disable
    this.#writable[0x3c] = 0xff; // interrupt line
    this.#writable[0x0c] = 0xff; // cache line size
  }

  get command(): number {
    return this.bytes[0x04]! | (this.bytes[0x05]! << 8);
  }

  /** Declares BAR `index` (a 64-bit BAR also takes index + 1). */
  setBar(index: number, spec: BarSpec): void {
    this.bars[index] = spec;
    const low = spec.kind === "io" ? 1 : (spec.kind === "mem64" ? 4 : 0) | (spec.prefetchable ? 8 : 0);
    new DataView(this.bytes.buffer).setUint32(0x10 + 4 * index, low, true);
  }

  /** The address BAR `index` holds (64-bit BARs: both halves); 0 when unassigned. */
  barAddress(index: number): number {
    const v = new DataView(this.bytes.buffer);
    const spec = this.bars[index];
    if (!spec) return 0;
    const low = v.getUint32(0x10 + 4 * index, true) & (spec.kind === "io" ? ~0x3 : ~0xf);
    const high = spec.kind === "mem64" ? v.getUint32(0x14 + 4 * index, true) : 0;
    return high * 2 ** 32 + (low >>> 0);
  }

  /** Appends a capability of `length` bytes (id, next, body); returns its offset. */
  addCapability(id: number, length: number): number {
    const at = this.#nextCap;
    this.bytes[at] = id;
    this.bytes[at + 1] = 0;
    if (this.#lastCap < 0) {
      this.bytes[0x34] = at;
      this.bytes[0x06] |= 0x10; // Status: capability list
    } else {
      this.bytes[this.#lastCap + 1] = at;
    }
    this.#lastCap = at;
    this.#nextCap = (at + length + 3) & ~3;
    return at;
  }

  /** Makes bytes [offset, offset + length) writable by the driver. */
  allowWrite(offset: number, length: number, mask = 0xff): void {
    for (let i = 0; i < length; i++) this.#writable[offset + i] = mask;
  }

  read(offset: number, width: MmioWidth): number {
    if (offset % width !== 0) {
      this.#report("pci-config-unaligned", `${width * 8}-bit config read at 0x${offset.toString(16)} is unaligned`);
      return 0xffff_ffff >>> (32 - 8 * width);
    }
    let value = 0;
    for (let i = width - 1; i >= 0; i--) value = value * 256 + this.bytes[offset + i]!;
    return value;
  }

  write(offset: number, width: MmioWidth, value: number): void {
    if (offset % width !== 0) {
      this.#report("pci-config-unaligned", `${width * 8}-bit config write at 0x${offset.toString(16)} is unaligned`);
      return;
    }
    if (offset >= 0x10 && offset < this.barsEnd) return this.#writeBar(offset, width, value);
    let decode = false;
    for (let i = 0; i < width; i++) {
      const at = offset + i;
      const mask = this.#writable[at]!;
      const byte = (value >>> (8 * i)) & 0xff;
      if (at === 0x04 || at === 0x05) decode = true;
      this.bytes[at] = (this.bytes[at]! & ~mask) | (byte & mask);
    }
    if (decode) this.onDecodeChange();
    this.onWrite(offset, width);
  }

  /** BAR writes: the size's low bits read back 0 (sizing), the type bits stay. */
  #writeBar(offset: number, width: MmioWidth, value: number): void {
    if (width !== 4) {
      this.#report("pci-bar-width", `${width * 8}-bit write of BAR register 0x${offset.toString(16)}: BARs are 32-bit registers`);
      return;
    }
    const index = (offset - 0x10) / 4;
    const v = new DataView(this.bytes.buffer);
    const own = this.bars[index];
    const lower = index > 0 ? this.bars[index - 1] : null;
    if (own) {
      const flags = v.getUint32(offset, true) & (own.kind === "io" ? 0x3 : 0xf);
      const sizeMask = own.kind === "io" ? ~(own.size - 1) & 0xffff_fffc : own.size >= 2 ** 32 ? 0 : ~(own.size - 1) & 0xffff_fff0;
      v.setUint32(offset, ((value & sizeMask) | flags) >>> 0, true);
    } else if (lower && lower.kind === "mem64") {
      v.setUint32(offset, value >>> 0, true); // upper half: all address bits (sizes < 4 GiB)
    } else {
      return; // unimplemented BAR: reads 0
    }
    this.onDecodeChange();
  }
}
