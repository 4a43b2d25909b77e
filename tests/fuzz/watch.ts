// The fuzzer's oracles on memory: which DMA bytes are allocated (a byte map over the
// pool), which chains the device holds (from the moment it takes a chain until it
// returns it or a reset is read back as Status 0), every byte the device writes into
// RAM, every free, and the caller buffers that must not change once their call
// settled. What breaks a rule is reported as a finding; nothing here throws.

import type { DeviceChain } from "../../platform/host/chain.js";
import type { DeviceQueue } from "../../platform/host/device-queue.js";
import type { HostModel, MmioDeviceModel } from "../../platform/host/index.js";
import type { DmaAllocator, DmaBuffer } from "../../platform/platform.js";

export type Report = (kind: string, message: string) => void;

interface Held {
  readonly queue: number;
  readonly head: number;
  readonly segments: readonly { readonly addr: number; readonly len: number }[];
}

interface Protected {
  readonly what: string;
  readonly bytes: Uint8Array;
  readonly copy: Uint8Array;
}

const STATUS_REG = 0x70;
const hex = (n: number): string => `0x${n.toString(16)}`;

export class MemoryWatch {
  readonly #model: HostModel;
  readonly #report: Report;
  readonly #dmaBase: number;
  /** 1 where a byte of the DMA pool is allocated. */
  readonly #live: Uint8Array;
  readonly #sizes = new Map<number, number>();
  /** Chains the device holds, by queue and head. */
  readonly #held = new Map<string, Held>();
  /** Chains of a reset not yet read back as Status 0: still the device's. */
  #releasing: Held[] = [];
  readonly #protected: Protected[] = [];
  readonly #devices: MmioDeviceModel[] = [];
  /** Device writes and frees checked, for the report. */
  deviceWrites = 0;
  /** The DMA allocator the drivers get (the pool, watched). */
  readonly dma: DmaAllocator;

  constructor(model: HostModel, report: Report) {
    this.#model = model;
    this.#report = report;
    const total = model.dma.stats().total;
    this.#dmaBase = model.memory.base + model.memory.size - total; // the pool is the top of RAM
    this.#live = new Uint8Array(total);
    const pool = model.dma;
    const self = this;
    this.dma = {
      alloc(size: number, align?: number): DmaBuffer {
        const buffer = pool.alloc(size, align);
        self.#allocated(buffer);
        return buffer;
      },
      free(buffer: DmaBuffer): void {
        self.#freeing(buffer);
        pool.free(buffer);
      },
      stats: () => pool.stats(),
      contains: (phys: number, length: number) => pool.contains(phys, length),
    };
    this.#hookMemory();
  }

  /** Watches the device at `dev`: the chains it takes, returns and drops at a reset. */
  watchDevice(dev: MmioDeviceModel): void {
    this.#devices.push(dev);
    for (let i = 0; i < dev.queueCount; i++) this.#hookQueue(dev.queue(i));
    const write = dev.write.bind(dev);
    const read = dev.read.bind(dev);
    dev.write = (offset, width, value) => {
      if (offset === STATUS_REG && value === 0) {
        // A reset: the chains stay the device's until Status reads back 0 (§2.4.2).
        this.#releasing.push(...[...this.#held.values()], ...this.#ringAreas(dev));
        this.#held.clear();
      }
      write(offset, width, value);
    };
    dev.read = (offset, width) => {
      const value = read(offset, width);
      if (offset === STATUS_REG && value === 0) this.#releasing = [];
      return value;
    };
  }

  /** Bytes allocated from the pool now. */
  get allocatedBytes(): number {
    let n = 0;
    for (const size of this.#sizes.values()) n += size;
    return n;
  }

  /** Chains the device holds (taken, not returned, not reset). */
  get heldChains(): number {
    return this.#held.size + this.#releasing.length;
  }

  /** `bytes` belongs to the caller from now on: it must not change. */
  protect(what: string, bytes: Uint8Array): void {
    this.#protected.push({ what, bytes, copy: bytes.slice() });
  }

  /** Reports caller buffers that changed since their call settled (once each). */
  checkProtected(): void {
    for (let i = this.#protected.length - 1; i >= 0; i--) {
      const p = this.#protected[i]!;
      if (Buffer.compare(p.bytes, p.copy) !== 0) {
        let at = 0;
        while (at < p.copy.length && p.bytes[at] === p.copy[at]) at++;
        this.#report("caller-buffer-changed", `${p.what}: byte ${at} of the caller's buffer changed after the call settled`);
        this.#protected.splice(i, 1);
      }
    }
  }

  /** Stops watching caller buffers (before the caller frees them). */
  dropProtected(): void {
    this.#protected.length = 0;
  }

  #allocated(buffer: DmaBuffer): void {
    const off = buffer.phys - this.#dmaBase;
    this.#sizes.set(buffer.phys, buffer.size);
    this.#live.fill(1, off, off + buffer.size);
  }

  #freeing(buffer: DmaBuffer): void {
    const size = this.#sizes.get(buffer.phys);
    if (size === undefined) return; // the pool reports the bad free
    const start = buffer.phys;
    const end = start + size;
    const rings = this.#devices.flatMap((d) => this.#ringAreas(d));
    for (const h of [...this.#held.values(), ...this.#releasing, ...rings]) {
      for (const s of h.segments) {
        if (s.addr < end && start < s.addr + s.len) {
          const what = h.head < 0 ? "the rings" : `chain ${h.head}`;
          this.#report("dma-freed-while-device-holds",
            `DMA buffer ${hex(start)}+${size} freed while the device holds ${what} of queue ${h.queue} (${hex(s.addr)}+${s.len})`);
          return this.#forget(start, size);
        }
      }
    }
    this.#forget(start, size);
  }

  #forget(start: number, size: number): void {
    this.#sizes.delete(start);
    const off = start - this.#dmaBase;
    this.#live.fill(0, off, off + size);
  }

  /** A device write of [addr, addr+len): it must land in live DMA memory. */
  #deviceWrite(addr: number, len: number): void {
    this.deviceWrites++;
    const off = addr - this.#dmaBase;
    if (off < 0 || off + len > this.#live.length) {
      this.#report("device-write-outside-dma", `the device wrote ${len} bytes at ${hex(addr)}, outside the DMA pool`);
      return;
    }
    if (this.#live.subarray(off, off + len).indexOf(0) !== -1) {
      this.#report("device-write-outside-dma", `the device wrote ${len} bytes at ${hex(addr)}, memory no live DMA allocation covers (freed while the device held it)`);
    }
  }

  /** The areas of the live queues of `dev` (the device reads and writes them). */
  #ringAreas(dev: MmioDeviceModel): Held[] {
    const out: Held[] = [];
    for (let i = 0; i < dev.queueCount; i++) {
      const q = dev.queue(i);
      const l = q.layout;
      if (!l) continue;
      const n = q.num;
      out.push({ queue: i, head: -1, segments: [{ addr: l.desc, len: 16 * n }, { addr: l.avail, len: 6 + 2 * n }, { addr: l.used, len: 6 + 8 * n }] });
    }
    return out;
  }

  #hookMemory(): void {
    const m = this.#model.memory;
    const w = m.write.bind(m);
    const w8 = m.write8.bind(m);
    const w16 = m.write16.bind(m);
    const w32 = m.write32.bind(m);
    const w64 = m.write64.bind(m);
    m.write = (addr: number, data: Uint8Array) => {
      this.#deviceWrite(addr, data.length);
      w(addr, data);
    };
    m.write8 = (addr: number, v: number) => {
      this.#deviceWrite(addr, 1);
      w8(addr, v);
    };
    m.write16 = (addr: number, v: number) => {
      this.#deviceWrite(addr, 2);
      w16(addr, v);
    };
    m.write32 = (addr: number, v: number) => {
      this.#deviceWrite(addr, 4);
      w32(addr, v);
    };
    m.write64 = (addr: number, v: bigint) => {
      this.#deviceWrite(addr, 8);
      w64(addr, v);
    };
  }

  #hookQueue(q: DeviceQueue): void {
    const take = q.takeChain.bind(q);
    const complete = q.complete.bind(q);
    const deactivate = q.deactivate.bind(q);
    q.takeChain = (epoch: number): DeviceChain | null => {
      const chain = take(epoch);
      if (chain) this.#held.set(`${q.index}:${chain.head}`, { queue: q.index, head: chain.head, segments: [...chain.readable, ...chain.writable] });
      return chain;
    };
    q.complete = (chain, written, faults) => {
      complete(chain, written, faults);
      this.#held.delete(`${q.index}:${chain.head}`);
    };
    q.deactivate = () => {
      deactivate();
      // QueueReady 0 outside a reset hands the chains back at once; a reset moved them
      // to #releasing already.
      for (const key of [...this.#held.keys()]) if (key.startsWith(`${q.index}:`)) this.#held.delete(key);
    };
  }
}
