// A function's MSI-X capability and table (PCI Local Bus 3.0 §6.8.2): Message Control
// (cap + 2: table size - 1 in bits 10:0, function mask bit 14, enable bit 15), the
// table's BAR and offset (cap + 4, BIR in bits 2:0), the PBA's (cap + 8). Each table
// entry is 16 bytes: message address low, high, data, vector control (bit 0 masked).
// Entries are written with the function masked, as §6.8.2.9 asks.

import type { Mmio } from "../../platform/platform.js";
import { CapId } from "../../pci/config-regs.js";
import type { Ecam } from "../../pci/ecam.js";
import type { PciFunction } from "../../pci/pci-function.js";

const CONTROL_ENABLE = 0x8000;
const CONTROL_FUNCTION_MASK = 0x4000;
const ENTRY = 16;

export class MsixTable {
  readonly size: number;
  readonly #ecam: Ecam;
  readonly #fn: PciFunction;
  readonly #mmio: Mmio;
  readonly #control: number;
  readonly #table: number;

  /** The function's MSI-X table, or null if it has none (or its BAR is not assigned). */
  static find(ecam: Ecam, mmio: Mmio, fn: PciFunction): MsixTable | null {
    const cap = fn.capabilities.find((c) => c.id === CapId.MsiX);
    if (!cap) return null;
    const tableReg = ecam.read32(fn, cap.offset + 4);
    const bar = fn.bars.find((b) => b.index === (tableReg & 7));
    if (!bar || bar.kind === "io" || bar.cpuAddress < 0) return null;
    const size = (ecam.read16(fn, cap.offset + 2) & 0x7ff) + 1;
    const offset = (tableReg & ~7) >>> 0;
    if (offset + size * ENTRY > bar.size) return null; // table outside its BAR: not used
    return new MsixTable(ecam, mmio, fn, cap.offset + 2, bar.cpuAddress + offset, size);
  }

  private constructor(ecam: Ecam, mmio: Mmio, fn: PciFunction, control: number, table: number, size: number) {
    this.#ecam = ecam;
    this.#mmio = mmio;
    this.#fn = fn;
    this.#control = control;
    this.#table = table;
    this.size = size;
  }

  get enabled(): boolean {
    return (this.#ecam.read16(this.#fn, this.#control) & CONTROL_ENABLE) !== 0;
  }

  /** Enables MSI-X with the function masked (entries can then be written safely). */
  enableMasked(): void {
    const c = this.#ecam.read16(this.#fn, this.#control);
    this.#ecam.write16(this.#fn, this.#control, c | CONTROL_ENABLE | CONTROL_FUNCTION_MASK);
  }

  unmaskFunction(): void {
    const c = this.#ecam.read16(this.#fn, this.#control);
    this.#ecam.write16(this.#fn, this.#control, c & ~CONTROL_FUNCTION_MASK);
  }

  disable(): void {
    const c = this.#ecam.read16(this.#fn, this.#control);
    this.#ecam.write16(this.#fn, this.#control, c & ~(CONTROL_ENABLE | CONTROL_FUNCTION_MASK));
  }

  /** Entry `vector` sends `data` to `address`, unmasked. */
  program(vector: number, address: number, data: number): void {
    const at = this.#table + vector * ENTRY;
    this.#mmio.write32(at + 12, 1); // masked while it changes
    this.#mmio.write32(at, address >>> 0); // 32-bit
    this.#mmio.write32(at + 4, Math.floor(address / 2 ** 32)); // 32-bit
    this.#mmio.write32(at + 8, data >>> 0); // 32-bit
    this.#mmio.write32(at + 12, 0); // unmasked
  }

  mask(vector: number): void {
    this.#mmio.write32(this.#table + vector * ENTRY + 12, 1);
  }
}
