// Test helpers: a DMA region in a plain Uint8Array, counting barriers, and a device played
// by hand that reads the driver's rings and writes used entries, straight in the bytes.
import { DmaPool } from "../../../platform/dma-pool.js";
import type { Barriers } from "../../../platform/platform.js";
import type { QueueAddresses, QueueLayout } from "../../../drivers/virtio/transport.js";
import { SplitQueue } from "../../../ring/split-queue.js";

export const PHYS = 0x40000000;
export const MODERN: QueueLayout = { contiguous: false, usedAlign: 4, baseAlign: 16 };
export const LEGACY: QueueLayout = { contiguous: true, usedAlign: 4096, baseAlign: 4096 };

export class CountingBarriers implements Barriers {
  mbs = 0;
  rmbs = 0;
  wmbs = 0;
  /** Called on each barrier with its name: lets a test look at memory at that moment. */
  onBarrier: ((kind: "mb" | "rmb" | "wmb") => void) | null = null;
  mb(): void {
    this.mbs++;
    this.onBarrier?.("mb");
  }
  rmb(): void {
    this.rmbs++;
    this.onBarrier?.("rmb");
  }
  wmb(): void {
    this.wmbs++;
    this.onBarrier?.("wmb");
  }
}

export interface Desc {
  addr: number;
  len: number;
  flags: number;
  next: number;
}

/** The device side, by hand: reads and writes the rings at their physical addresses. */
export class HandDevice {
  readonly view: DataView;
  lastAvail = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly a: QueueAddresses,
    /** Physical address of bytes[0]. */
    readonly base = PHYS,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  #at(phys: number): number {
    return phys - this.base;
  }
  u16(phys: number): number {
    return this.view.getUint16(this.#at(phys), true);
  }
  u32(phys: number): number {
    return this.view.getUint32(this.#at(phys), true);
  }
  availFlags(): number {
    return this.u16(this.a.driver);
  }
  availIdx(): number {
    return this.u16(this.a.driver + 2);
  }
  availRing(slot: number): number {
    return this.u16(this.a.driver + 4 + 2 * slot);
  }
  usedEvent(): number {
    return this.u16(this.a.driver + 4 + 2 * this.a.size);
  }
  usedIdx(): number {
    return this.u16(this.a.device + 2);
  }
  descAt(tablePhys: number, i: number): Desc {
    const at = tablePhys + 16 * i;
    return {
      addr: this.u32(at) + this.u32(at + 4) * 0x100000000,
      len: this.u32(at + 8),
      flags: this.u16(at + 12),
      next: this.u16(at + 14),
    };
  }
  desc(i: number): Desc {
    return this.descAt(this.a.desc, i);
  }
  /** The buffers of the chain at `head`, following an indirect table. */
  chain(head: number): { phys: number; len: number; write: boolean }[] {
    const out: { phys: number; len: number; write: boolean }[] = [];
    let d = this.desc(head);
    if (d.flags & 4) {
      const n = d.len / 16;
      for (let k = 0; k < n; k++) {
        const e = this.descAt(d.addr, k);
        out.push({ phys: e.addr, len: e.len, write: (e.flags & 2) !== 0 });
        if (!(e.flags & 1)) break;
      }
      return out;
    }
    for (let guard = 0; guard <= this.a.size; guard++) {
      out.push({ phys: d.addr, len: d.len, write: (d.flags & 2) !== 0 });
      if (!(d.flags & 1)) return out;
      d = this.desc(d.next);
    }
    throw new Error("descriptor loop");
  }
  /** Heads made available since the last call. */
  takeAvailable(): number[] {
    const heads: number[] = [];
    const idx = this.availIdx();
    while (this.lastAvail !== idx) {
      heads.push(this.availRing(this.lastAvail % this.a.size));
      this.lastAvail = (this.lastAvail + 1) & 0xffff;
    }
    return heads;
  }
  /** Writes one used element and moves used idx on. */
  complete(id: number, len: number): void {
    this.putUsed(this.usedIdx(), id, len);
    this.setUsedIdx(this.usedIdx() + 1);
  }
  putUsed(idx: number, id: number, len: number): void {
    const at = this.#at(this.a.device + 4 + 8 * (idx % this.a.size));
    this.view.setUint32(at, id, true);
    this.view.setUint32(at + 4, len, true);
  }
  setUsedIdx(idx: number): void {
    this.view.setUint16(this.#at(this.a.device + 2), idx & 0xffff, true);
  }
  setUsedFlags(flags: number): void {
    this.view.setUint16(this.#at(this.a.device), flags, true);
  }
  setAvailEvent(v: number): void {
    this.view.setUint16(this.#at(this.a.device + 4 + 8 * this.a.size), v & 0xffff, true);
  }
}

export interface Env<T> {
  bytes: Uint8Array;
  pool: DmaPool;
  barriers: CountingBarriers;
  q: SplitQueue<T>;
  dev: HandDevice;
  notified: () => number;
}

export function makeQueue<T>(o: {
  size: number;
  layout?: QueueLayout;
  indirect?: boolean;
  eventIdx?: boolean;
  regionBytes?: number;
  /** Physical address of the DMA region (PHYS unless given). */
  phys?: number;
}): Env<T> {
  const bytes = new Uint8Array(o.regionBytes ?? 1 << 20);
  const phys = o.phys ?? PHYS;
  const pool = new DmaPool({ phys, bytes });
  const barriers = new CountingBarriers();
  let notifications = 0;
  const q = new SplitQueue<T>({
    index: 0,
    size: o.size,
    dma: pool,
    barriers,
    layout: o.layout ?? MODERN,
    indirect: o.indirect ?? false,
    eventIdx: o.eventIdx ?? false,
    notify: () => {
      notifications++;
    },
  });
  return { bytes, pool, barriers, q, dev: new HandDevice(bytes, q.addresses, phys), notified: () => notifications };
}

/** A deterministic generator (xorshift32). */
export function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}
