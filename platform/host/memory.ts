// Simulated physical memory: one RAM bank at a base address, backed by an ArrayBuffer.
// Every accessor states its width and is little-endian (ARM `virt` runs little-endian,
// and virtio 1.x structures are little-endian, VIRTIO 1.2 §1.4).

import type { DmaRegion } from "../platform.js";
import { MemoryAccessError } from "./errors.js";

export const DEFAULT_RAM_BASE = 0x4000_0000;
export const DEFAULT_RAM_SIZE = 16 * 1024 * 1024;

export class PhysicalMemory {
  readonly base: number;
  readonly size: number;
  /** The whole bank; index 0 is physical address `base`. */
  readonly bytes: Uint8Array;
  readonly #view: DataView;

  constructor(base = DEFAULT_RAM_BASE, size = DEFAULT_RAM_SIZE) {
    if (!Number.isInteger(base) || base < 0 || !Number.isInteger(size) || size <= 0 || base + size > 2 ** 32) {
      throw new RangeError(`bad RAM bank base=0x${base.toString(16)} size=${size}`);
    }
    this.base = base;
    this.size = size;
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
  }

  /** True if [addr, addr+length) lies inside RAM. */
  contains(addr: number, length: number): boolean {
    return (
      Number.isInteger(addr) && Number.isInteger(length) && length >= 0 &&
      addr >= this.base && addr + length <= this.base + this.size
    );
  }

  /** Offset into `bytes` of [addr, addr+length); throws MemoryAccessError if outside. */
  offset(addr: number, length: number): number {
    if (!this.contains(addr, length)) throw new MemoryAccessError(addr, length, this.base, this.size);
    return addr - this.base;
  }

  read8(addr: number): number {
    return this.#view.getUint8(this.offset(addr, 1));
  }
  read16(addr: number): number {
    return this.#view.getUint16(this.offset(addr, 2), true);
  }
  read32(addr: number): number {
    return this.#view.getUint32(this.offset(addr, 4), true);
  }
  read64(addr: number): bigint {
    return this.#view.getBigUint64(this.offset(addr, 8), true);
  }
  write8(addr: number, value: number): void {
    this.#view.setUint8(this.offset(addr, 1), value);
  }
  write16(addr: number, value: number): void {
    this.#view.setUint16(this.offset(addr, 2), value, true);
  }
  write32(addr: number, value: number): void {
    this.#view.setUint32(this.offset(addr, 4), value >>> 0, true);
  }
  write64(addr: number, value: bigint): void {
    this.#view.setBigUint64(this.offset(addr, 8), BigInt.asUintN(64, value), true);
  }

  /** A live view of [addr, addr+length) (no copy). */
  view(addr: number, length: number): Uint8Array {
    const at = this.offset(addr, length);
    return this.bytes.subarray(at, at + length);
  }

  /** A copy of [addr, addr+length). */
  read(addr: number, length: number): Uint8Array {
    return this.view(addr, length).slice();
  }

  write(addr: number, data: Uint8Array): void {
    this.bytes.set(data, this.offset(addr, data.length));
  }

  /** A DmaRegion over [addr, addr+length): the CPU view shares this memory. */
  region(addr: number, length: number): DmaRegion {
    return { phys: addr, bytes: this.view(addr, length) };
  }
}
