// The GICv2m MSI frame (ARM "GICv2m" architecture, as QEMU's arm_gicv2m.c): MSI_TYPER
// (0x008) gives the first SPI's INTID in bits 25:16 and the SPI count in bits 9:0; a
// device signals SPI n by writing n to MSI_SETSPI_NS (0x040). The SPIs are handed out
// once per platform, first come first served.

import type { Platform } from "../../platform/platform.js";

const MSI_TYPER = 0x008;
export const MSI_SETSPI_NS = 0x040;

export class MsiFrame {
  /** The address devices write their message to. */
  readonly messageAddress: number;
  readonly firstIntid: number;
  readonly count: number;
  #next: number;
  readonly #freed: number[] = [];

  constructor(platform: Platform, base: number) {
    const typer = platform.mmio.read32(base + MSI_TYPER) >>> 0; // 32-bit
    this.firstIntid = (typer >>> 16) & 0x3ff;
    this.count = typer & 0x3ff;
    this.messageAddress = base + MSI_SETSPI_NS;
    this.#next = this.firstIntid;
  }

  /** An unused SPI's INTID, or -1 when all are taken. */
  allocate(): number {
    const again = this.#freed.pop();
    if (again !== undefined) return again;
    if (this.#next >= this.firstIntid + this.count) return -1;
    return this.#next++;
  }

  free(intid: number): void {
    if (intid >= this.firstIntid && intid < this.firstIntid + this.count && !this.#freed.includes(intid)) this.#freed.push(intid);
  }
}

const frames = new WeakMap<Platform, MsiFrame | null>();

/** The board's MSI frame (from BoardInfo.pci.msiFrame), or null. */
export function msiFrameOf(platform: Platform): MsiFrame | null {
  let f = frames.get(platform);
  if (f === undefined) {
    const at = platform.board.pci?.msiFrame;
    f = at ? new MsiFrame(platform, at.base) : null;
    if (f && f.count === 0) f = null;
    frames.set(platform, f);
  }
  return f;
}
