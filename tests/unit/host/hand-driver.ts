// A minimal virtio-mmio driver written by hand for the host model's tests: raw register
// writes and memory pokes, no import of the project's driver or ring code, so that each
// test can do exactly the right thing, or exactly one wrong thing.

import type { HostModel } from "../../../platform/host/index.js";
import { virtio } from "../../../platform/host/index.js";

const { REG, STATUS } = virtio;

export interface Buf {
  addr: number;
  len: number;
  write?: boolean;
}

export interface HandQueue {
  index: number;
  size: number;
  desc: number;
  avail: number;
  used: number;
  nextDesc: number;
  availIdx: number;
  lastUsed: number;
}

export class HandDriver {
  readonly base: number;
  readonly queues: HandQueue[] = [];
  readonly version: number;

  constructor(readonly model: HostModel, readonly slot: number) {
    this.base = model.board.virtioMmio[slot]!.base;
    this.version = this.r(REG.Version);
  }

  r(offset: number): number {
    return this.model.platform.mmio.read32(this.base + offset);
  }
  w(offset: number, value: number): void {
    this.model.platform.mmio.write32(this.base + offset, value);
  }

  get mem() {
    return this.model.memory;
  }

  /** Reset, ACKNOWLEDGE, DRIVER; returns the device features. */
  begin(): bigint {
    this.w(REG.Status, 0);
    while (this.r(REG.Status) !== 0) { /* a delayed reset reads back 0 later */ }
    this.w(REG.Status, STATUS.ACKNOWLEDGE);
    this.w(REG.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    this.w(REG.DeviceFeaturesSel, 0);
    const lo = this.r(REG.DeviceFeatures);
    this.w(REG.DeviceFeaturesSel, 1);
    const hi = this.r(REG.DeviceFeatures);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  writeFeatures(features: bigint): void {
    this.w(REG.DriverFeaturesSel, 0);
    this.w(REG.DriverFeatures, Number(features & 0xffff_ffffn));
    this.w(REG.DriverFeaturesSel, 1);
    this.w(REG.DriverFeatures, Number(features >> 32n));
  }

  /** Writes the features and sets FEATURES_OK (modern); returns whether it was kept. */
  negotiate(features: bigint): boolean {
    this.writeFeatures(features);
    if (this.version === 1) return true;
    this.w(REG.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    return (this.r(REG.Status) & STATUS.FEATURES_OK) !== 0;
  }

  statusBits(): number {
    return STATUS.ACKNOWLEDGE | STATUS.DRIVER | (this.version === 2 ? STATUS.FEATURES_OK : 0);
  }

  driverOk(): void {
    this.w(REG.Status, this.statusBits() | STATUS.DRIVER_OK);
  }

  /** Allocates zeroed ring memory and returns the three areas (not yet told to the device). */
  allocQueue(index: number, size: number): HandQueue {
    const dma = this.model.platform.dma;
    let desc: number, avail: number, used: number;
    if (this.version === 2) {
      desc = dma.alloc(16 * size, 16).phys;
      avail = dma.alloc(6 + 2 * size, 2).phys;
      used = dma.alloc(6 + 8 * size, 4).phys;
    } else {
      const usedOff = Math.ceil((16 * size + 6 + 2 * size) / 4096) * 4096;
      const block = dma.alloc(usedOff + 6 + 8 * size, 4096);
      desc = block.phys;
      avail = desc + 16 * size;
      used = desc + usedOff;
    }
    const q: HandQueue = { index, size, desc, avail, used, nextDesc: 0, availIdx: 0, lastUsed: 0 };
    this.queues[index] = q;
    return q;
  }

  /** Tells the device about queue `q` the right way for the transport version. */
  enableQueue(q: HandQueue): void {
    this.w(REG.QueueSel, q.index);
    if (this.version === 2) {
      this.w(REG.QueueNum, q.size);
      this.w(REG.QueueDescLow, q.desc);
      this.w(REG.QueueDescHigh, 0);
      this.w(REG.QueueDriverLow, q.avail);
      this.w(REG.QueueDriverHigh, 0);
      this.w(REG.QueueDeviceLow, q.used);
      this.w(REG.QueueDeviceHigh, 0);
      this.w(REG.QueueReady, 1);
    } else {
      this.w(REG.GuestPageSize, 4096);
      this.w(REG.QueueNum, q.size);
      this.w(REG.QueueAlign, 4096);
      this.w(REG.QueuePFN, q.desc / 4096);
    }
  }

  /** The whole correct bring-up: returns queue 0 of `size`. */
  bringUp(size = 8, features?: bigint): HandQueue {
    const offered = this.begin();
    this.negotiate(features ?? offered);
    const q = this.allocQueue(0, size);
    this.enableQueue(q);
    this.driverOk();
    return q;
  }

  /** Writes descriptor `i` of queue `q`. */
  desc(q: HandQueue, i: number, addr: number, len: number, flags: number, next = 0): void {
    this.descAt(q.desc + 16 * i, addr, len, flags, next);
  }

  descAt(at: number, addr: number, len: number, flags: number, next = 0): void {
    this.mem.write64(at, BigInt(addr));
    this.mem.write32(at + 8, len);
    this.mem.write16(at + 12, flags);
    this.mem.write16(at + 14, next);
  }

  /** Posts a chain of buffers as direct descriptors; returns the head. */
  post(q: HandQueue, bufs: Buf[]): number {
    const head = q.nextDesc;
    bufs.forEach((b, k) => {
      const i = (head + k) % q.size;
      const last = k === bufs.length - 1;
      this.desc(q, i, b.addr, b.len, (b.write ? 2 : 0) | (last ? 0 : 1), (i + 1) % q.size);
    });
    q.nextDesc = (head + bufs.length) % q.size;
    this.publish(q, head);
    return head;
  }

  /** Puts `head` in the next avail slot and moves avail idx. */
  publish(q: HandQueue, head: number): void {
    this.mem.write16(q.avail + 4 + 2 * (q.availIdx % q.size), head);
    q.availIdx = (q.availIdx + 1) & 0xffff;
    this.model.platform.barriers.wmb();
    this.mem.write16(q.avail + 2, q.availIdx);
  }

  notify(q: HandQueue): void {
    this.model.platform.barriers.mb();
    this.w(REG.QueueNotify, q.index);
  }

  /** Used elements since the last call. */
  takeUsed(q: HandQueue): { id: number; len: number }[] {
    const out: { id: number; len: number }[] = [];
    const idx = this.mem.read16(q.used + 2);
    while (q.lastUsed !== idx) {
      const slot = q.lastUsed % q.size;
      out.push({ id: this.mem.read32(q.used + 4 + 8 * slot), len: this.mem.read32(q.used + 8 + 8 * slot) });
      q.lastUsed = (q.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  /** A writable DMA buffer of `len` bytes. */
  buffer(len: number): { addr: number; bytes: Uint8Array } {
    const b = this.model.platform.dma.alloc(len, 8);
    return { addr: b.phys, bytes: b.bytes };
  }
}
