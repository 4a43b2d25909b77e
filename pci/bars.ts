// BAR sizing and assignment (PCI Local Bus 3.0 §6.2.5.1): with decoding off, write all
// ones, read back the size mask, restore; 64-bit memory BARs take two registers. Each
// BAR is placed, naturally aligned, in a bridge window of its kind that the CPU reaches
// with a 32-bit address (I/O BARs in the I/O window, memory BARs in a memory window).

import type { PciWindow } from "../platform/platform.js";
import { BAR_IO, BAR_MEM_TYPE_64, BAR_MEM_TYPE_MASK, BAR_PREFETCHABLE, Cfg } from "./config-regs.js";
import type { Ecam, PciAddress } from "./ecam.js";
import type { BarKind, PciBar } from "./pci-function.js";

/** A BAR as sizing found it, before assignment. */
export interface SizedBar {
  readonly index: number;
  readonly kind: BarKind;
  readonly prefetchable: boolean;
  readonly size: number;
}

/** Sizes the `count` BARs of a function (6 for a device, 2 for a bridge). Decoding must be off. */
export function sizeBars(ecam: Ecam, a: PciAddress, count: number): SizedBar[] {
  const out: SizedBar[] = [];
  for (let i = 0; i < count; i++) {
    const reg = Cfg.Bar0 + 4 * i;
    const original = ecam.read32(a, reg);
    ecam.write32(a, reg, 0xffff_ffff);
    const mask = ecam.read32(a, reg);
    ecam.write32(a, reg, original);
    if (mask === 0) continue; // reads back 0: the function has no BAR at this index (PCI 3.0 §6.2.5.1)
    if (original & BAR_IO) {
      const bits = (mask & ~0x3) >>> 0;
      const size = (~bits & 0xffff) + 1; // I/O BARs decode 16 bits on this bridge
      if (bits !== 0) out.push({ index: i, kind: "io", prefetchable: false, size });
      continue;
    }
    const is64 = (original & BAR_MEM_TYPE_MASK) === BAR_MEM_TYPE_64;
    let size = 2 ** 32 - ((mask & ~0xf) >>> 0);
    if (is64 && i + 1 < count) {
      const upperReg = reg + 4;
      const upperOriginal = ecam.read32(a, upperReg);
      ecam.write32(a, upperReg, 0xffff_ffff);
      const upperMask = ecam.read32(a, upperReg);
      ecam.write32(a, upperReg, upperOriginal);
      if (upperMask !== 0xffff_ffff) size = (2 ** 32 - upperMask) * 2 ** 32; // above 4 GiB
      else if ((mask & ~0xf) >>> 0 === 0) size = 2 ** 32;
    }
    out.push({ index: i, kind: is64 ? "mem64" : "mem32", prefetchable: (original & BAR_PREFETCHABLE) !== 0, size });
    if (is64) i++;
  }
  return out;
}

/** A bump allocator over one window, in PCI addresses. */
export class WindowAllocator {
  readonly window: PciWindow;
  #next: number;

  constructor(window: PciWindow) {
    this.window = window;
    // PCI I/O address 0 and the first bytes are legacy ISA space: start I/O at 0x1000.
    this.#next = window.kind === "io" ? Math.max(window.pciBase, 0x1000) : window.pciBase;
  }

  get next(): number {
    return this.#next;
  }

  /** Moves the cursor up to `align` (bridge windows start on 1 MiB / 4 KiB). */
  alignTo(align: number): void {
    this.#next = Math.ceil(this.#next / align) * align;
  }

  /** A naturally aligned block of `size` bytes, or -1 when the window is full. */
  take(size: number, align = size): number {
    const at = Math.ceil(this.#next / align) * align;
    if (at + size > this.window.pciBase + this.window.size) return -1;
    this.#next = at + size;
    return at;
  }

  cpu(pci: number): number {
    return pci - this.window.pciBase + this.window.cpuBase;
  }
}

/** The allocators a board's windows give: I/O and 32-bit-reachable memory. */
export interface Allocators {
  readonly io: WindowAllocator | null;
  readonly mem: WindowAllocator | null;
}

export function allocatorsFor(windows: readonly PciWindow[]): Allocators {
  const reachable = (w: PciWindow) => w.cpuBase + w.size <= 0x1_0000_0000 && w.pciBase + w.size <= 0x1_0000_0000;
  const io = windows.find((w) => w.kind === "io" && reachable(w));
  const mem = windows.find((w) => w.kind === "mem32" && reachable(w)) ?? windows.find((w) => w.kind === "mem64" && reachable(w));
  return { io: io ? new WindowAllocator(io) : null, mem: mem ? new WindowAllocator(mem) : null };
}

/** Places each BAR and writes its address; returns the assigned BARs and what did not fit. */
export function assignBars(ecam: Ecam, a: PciAddress, sized: readonly SizedBar[], alloc: Allocators): { bars: PciBar[]; problems: string[] } {
  const bars: PciBar[] = [];
  const problems: string[] = [];
  // Largest first: natural alignment then wastes nothing between them.
  const order = [...sized].sort((x, y) => y.size - x.size);
  for (const bar of order) {
    const allocator = bar.kind === "io" ? alloc.io : alloc.mem;
    const at = allocator === null || bar.size > 0x8000_0000 ? -1 : allocator.take(bar.size, bar.kind === "io" ? Math.max(4, bar.size) : Math.max(16, bar.size));
    const reg = Cfg.Bar0 + 4 * bar.index;
    if (at < 0 || allocator === null) {
      problems.push(`BAR${bar.index} (${bar.kind}, ${bar.size} bytes) does not fit any window`);
      bars.push({ ...bar, pciAddress: -1, cpuAddress: -1 });
      continue;
    }
    const low = ecam.read32(a, reg) & (bar.kind === "io" ? 0x3 : 0xf);
    ecam.write32(a, reg, (at | low) >>> 0);
    if (bar.kind === "mem64") ecam.write32(a, reg + 4, 0); // below 4 GiB
    bars.push({ ...bar, pciAddress: at, cpuAddress: allocator.cpu(at) });
  }
  bars.sort((x, y) => x.index - y.index);
  return { bars, problems };
}
