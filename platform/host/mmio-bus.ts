// The MMIO bus: address windows mapped to register handlers. Each access carries its
// width (1, 2 or 4 bytes); the handler decides what a width means for its registers.

import type { Mmio } from "../platform.js";
import { MmioAccessError, HostModelUsageError } from "./errors.js";

export type MmioWidth = 1 | 2 | 4;

/** A device's register window. Offsets are relative to the window's base. */
export interface MmioHandler {
  read(offset: number, width: MmioWidth): number;
  write(offset: number, width: MmioWidth, value: number): void;
}

interface Window {
  readonly base: number;
  readonly size: number;
  handler: MmioHandler;
}

export class MmioBus implements Mmio {
  readonly #windows: Window[] = [];
  /** Accesses served, for tests and benchmarks. */
  reads = 0;
  writes = 0;

  /** Maps [base, base+size) to `handler`; windows may not overlap. */
  map(base: number, size: number, handler: MmioHandler): void {
    for (const w of this.#windows) {
      if (base < w.base + w.size && w.base < base + size) {
        throw new HostModelUsageError(`MMIO window 0x${base.toString(16)}+0x${size.toString(16)} overlaps 0x${w.base.toString(16)}`);
      }
    }
    this.#windows.push({ base, size, handler });
  }

  /** Replaces the handler of the window at `base`. */
  remap(base: number, handler: MmioHandler): void {
    const w = this.#windows.find((x) => x.base === base);
    if (!w) throw new HostModelUsageError(`no MMIO window at 0x${base.toString(16)}`);
    w.handler = handler;
  }

  #find(addr: number, width: MmioWidth): { w: Window; offset: number } {
    if (!Number.isInteger(addr)) throw new MmioAccessError(addr, width, "address is not an integer");
    if (addr % width !== 0) throw new MmioAccessError(addr, width, "unaligned access");
    for (const w of this.#windows) {
      if (addr >= w.base && addr + width <= w.base + w.size) return { w, offset: addr - w.base };
    }
    throw new MmioAccessError(addr, width, "no device answers at this address");
  }

  #read(addr: number, width: MmioWidth): number {
    const { w, offset } = this.#find(addr, width);
    this.reads++;
    return w.handler.read(offset, width);
  }

  #write(addr: number, width: MmioWidth, value: number): void {
    const { w, offset } = this.#find(addr, width);
    const mask = width === 4 ? 0xffff_ffff : (1 << (width * 8)) - 1;
    this.writes++;
    w.handler.write(offset, width, (value & mask) >>> 0);
  }

  read8(addr: number): number {
    return this.#read(addr, 1);
  }
  read16(addr: number): number {
    return this.#read(addr, 2);
  }
  read32(addr: number): number {
    return this.#read(addr, 4);
  }
  write8(addr: number, value: number): void {
    this.#write(addr, 1, value);
  }
  write16(addr: number, value: number): void {
    this.#write(addr, 2, value);
  }
  write32(addr: number, value: number): void {
    this.#write(addr, 4, value);
  }
}
