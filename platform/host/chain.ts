// One descriptor chain as the device sees it after walking it (§2.7.5, §2.7.13.2):
// the driver-readable segments, then the device-writable ones, each inside RAM
// (the walk checked that before building the chain).

import type { PhysicalMemory } from "./memory.js";

/** One descriptor's buffer. */
export interface Segment {
  readonly addr: number;
  readonly len: number;
}

export class DeviceChain {
  readonly queue: number;
  /** Descriptor index of the chain's head (the id the used ring gives back). */
  readonly head: number;
  readonly readable: readonly Segment[];
  readonly writable: readonly Segment[];
  readonly readableLength: number;
  readonly writableLength: number;
  /** Descriptor indices of the chain in the queue's table (not those of an indirect table). */
  readonly descriptors: readonly number[];
  /** The reset epoch the chain belongs to; a chain of an older epoch is never completed. */
  readonly epoch: number;
  readonly #memory: PhysicalMemory;

  constructor(
    memory: PhysicalMemory,
    queue: number,
    head: number,
    readable: Segment[],
    writable: Segment[],
    descriptors: number[],
    epoch: number,
  ) {
    this.#memory = memory;
    this.queue = queue;
    this.head = head;
    this.readable = readable;
    this.writable = writable;
    this.descriptors = descriptors;
    this.epoch = epoch;
    this.readableLength = readable.reduce((n, s) => n + s.len, 0);
    this.writableLength = writable.reduce((n, s) => n + s.len, 0);
  }

  /** Gathers all readable bytes into one copy. */
  read(): Uint8Array {
    const out = new Uint8Array(this.readableLength);
    let at = 0;
    for (const s of this.readable) {
      out.set(this.#memory.view(s.addr, s.len), at);
      at += s.len;
    }
    return out;
  }

  /**
   * Scatters `data` into the writable segments, starting `offset` bytes in; returns how
   * many bytes fit (never writes past the last writable segment).
   */
  write(data: Uint8Array, offset = 0): number {
    let skip = offset;
    let from = 0;
    for (const s of this.writable) {
      if (from >= data.length) break;
      if (skip >= s.len) {
        skip -= s.len;
        continue;
      }
      const n = Math.min(s.len - skip, data.length - from);
      this.#memory.write(s.addr + skip, data.subarray(from, from + n));
      from += n;
      skip = 0;
    }
    return from;
  }
}
