// A register recorder for transport tests: answers reads from a table and logs every
// access with its width, so a test can check the exact register sequence.

import type { Mmio } from "../../../platform/platform.js";

export interface Access {
  readonly op: "r" | "w";
  readonly width: 8 | 16 | 32;
  readonly offset: number;
  readonly value: number;
}

export class FakeMmio implements Mmio {
  readonly log: Access[] = [];
  readonly values = new Map<number, number>();

  constructor(readonly base: number) {}

  #read(width: 8 | 16 | 32, addr: number): number {
    const offset = addr - this.base;
    const value = this.values.get(offset) ?? 0;
    this.log.push({ op: "r", width, offset, value });
    return value;
  }

  #write(width: 8 | 16 | 32, addr: number, value: number): void {
    const offset = addr - this.base;
    this.log.push({ op: "w", width, offset, value });
  }

  /** Writes only, as [offset, value] pairs. */
  writes(): [number, number][] {
    return this.log.filter((a) => a.op === "w").map((a) => [a.offset, a.value]);
  }

  read8(addr: number): number {
    return this.#read(8, addr);
  }
  read16(addr: number): number {
    return this.#read(16, addr);
  }
  read32(addr: number): number {
    return this.#read(32, addr);
  }
  write8(addr: number, value: number): void {
    this.#write(8, addr, value);
  }
  write16(addr: number, value: number): void {
    this.#write(16, addr, value);
  }
  write32(addr: number, value: number): void {
    this.#write(32, addr, value);
  }
}
