// Configuration space access through ECAM (PCI Express Base 4.0 §7.2.2, the "Enhanced
// Configuration Access Mechanism"): function (bus, dev, fn) has 4 KiB at
// base + (bus << 20 | dev << 15 | fn << 12). Every access states its width and must be
// aligned to it; nothing outside the bridge's bus range is reached.

import type { Mmio, PciHostInfo } from "../platform/platform.js";

/** A function's address on the PCI bus. */
export interface PciAddress {
  readonly bus: number;
  readonly device: number;
  readonly fn: number;
}

/** "00:01.0", as lspci and U-Boot print it. */
export function formatAddress(a: PciAddress): string {
  const h = (n: number, w: number) => n.toString(16).padStart(w, "0");
  return `${h(a.bus, 2)}:${h(a.device, 2)}.${a.fn}`;
}

/** A configuration access the layer refuses before it reaches the bus. */
export class PciConfigAccessError extends Error {
  constructor(
    readonly address: string,
    readonly offset: number,
    readonly width: number,
    reason: string,
  ) {
    super(`PCI ${address}: config ${width * 8}-bit access at 0x${offset.toString(16)} ${reason}`);
    this.name = "PciConfigAccessError";
  }
}

export class Ecam {
  readonly #mmio: Mmio;
  readonly #base: number;
  readonly busStart: number;
  readonly busEnd: number;

  constructor(mmio: Mmio, host: PciHostInfo) {
    this.#mmio = mmio;
    this.#base = host.ecam.base;
    this.busStart = host.busStart;
    // Never past the ECAM window, whatever bus-range says.
    this.busEnd = Math.min(host.busEnd, host.busStart + Math.floor(host.ecam.size / 0x10_0000) - 1);
  }

  /** The CPU address of `offset` in the function's configuration space. */
  address(a: PciAddress, offset: number, width: 1 | 2 | 4): number {
    if (!Number.isInteger(offset) || offset < 0 || offset + width > 0x1000 || offset % width !== 0) {
      throw new PciConfigAccessError(formatAddress(a), offset, width, "is unaligned or outside the 4 KiB space");
    }
    if (a.bus < this.busStart || a.bus > this.busEnd || a.device > 31 || a.fn > 7) {
      throw new PciConfigAccessError(formatAddress(a), offset, width, `names no function of buses ${this.busStart}-${this.busEnd}`);
    }
    return this.#base + (a.bus - this.busStart) * 0x10_0000 + a.device * 0x8000 + a.fn * 0x1000 + offset;
  }

  read8(a: PciAddress, offset: number): number {
    return this.#mmio.read8(this.address(a, offset, 1)) & 0xff; // 8-bit
  }
  read16(a: PciAddress, offset: number): number {
    return this.#mmio.read16(this.address(a, offset, 2)) & 0xffff; // 16-bit
  }
  read32(a: PciAddress, offset: number): number {
    return this.#mmio.read32(this.address(a, offset, 4)) >>> 0; // 32-bit
  }
  write8(a: PciAddress, offset: number, value: number): void {
    this.#mmio.write8(this.address(a, offset, 1), value & 0xff);
  }
  write16(a: PciAddress, offset: number, value: number): void {
    this.#mmio.write16(this.address(a, offset, 2), value & 0xffff);
  }
  write32(a: PciAddress, offset: number, value: number): void {
    this.#mmio.write32(this.address(a, offset, 4), value >>> 0);
  }
}
