// The device side of one split virtqueue (VIRTIO 1.2 §2.7): reads the available ring,
// walks chains (and indirect tables) into segment lists, writes used elements and the
// used index, decides interrupts from the flags or used_event (EVENT_IDX), writes
// avail_event, and checks that the driver keeps to the rules it can see from here.
// Written from the spec, independently of the driver's ring code.

import { DeviceChain, type Segment } from "./chain.js";
import type { DeviceFaults } from "./faults.js";
import type { PhysicalMemory } from "./memory.js";
import {
  DEFAULT_QUEUE_NUM_MAX, DESC_SIZE, VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_USED_F_NO_NOTIFY, needEvent, usedSize,
} from "./virtio-constants.js";

/** Physical addresses of the three areas (§2.7). */
export interface RingLayout {
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
}

export interface QueueCounters {
  /** QueueNotify writes for this queue. */
  notifications: number;
  /** Notifications the device had said it did not need (VIRTQ_USED_F_NO_NOTIFY set, or
   * with EVENT_IDX avail idx not past avail_event), or with nothing new: allowed, but
   * a driver that honours suppression keeps this near 0 (§2.7.10). */
  unneededNotifications: number;
  /** Used buffer notifications the device decided to send for this queue. */
  interrupts: number;
  /** Chains taken from the available ring. */
  chainsTaken: number;
  /** Chains returned through the used ring. */
  chainsCompleted: number;
}

/** How a queue reports what it sees: a plain violation, or one that breaks the device. */
export interface QueueReporter {
  violation(rule: string, message: string): void;
  /** A violation after which the device stops serving (QEMU's virtio_error). */
  fatal(rule: string, message: string): void;
}

interface InFlight {
  readonly descriptors: readonly number[];
  /** The direct descriptors as they were when taken (16 bytes each). */
  readonly snapshot: Uint8Array;
}

/** Byte-wise equality, natively (this file runs only in Node). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength) as Uint8Array, Buffer.from(b.buffer, b.byteOffset, b.byteLength) as Uint8Array) === 0;
}

export class DeviceQueue {
  readonly index: number;
  readonly maxSize: number;

  // Register state (§4.2.2), reset with the device.
  /** QueueNum; QEMU starts it at QueueNumMax. */
  num: number;
  /** QueueReady (modern). */
  ready = 0;
  /** QueuePFN (legacy). */
  pfn = 0;
  /** QueueAlign (legacy); QEMU's default is 4096. */
  align = 4096;
  descLow = 0;
  descHigh = 0;
  driverLow = 0;
  driverHigh = 0;
  deviceLow = 0;
  deviceHigh = 0;
  /** Which of the three address pairs were written since reset. */
  readonly written = { desc: false, driver: false, device: false };

  readonly counters: QueueCounters = { notifications: 0, unneededNotifications: 0, interrupts: 0, chainsTaken: 0, chainsCompleted: 0 };

  readonly #memory: PhysicalMemory;
  readonly #report: QueueReporter;
  #layout: RingLayout | null = null;
  #size = 0;
  #indirect = false;
  #eventIdx = false;
  #lastAvail = 0;
  #usedIdx = 0;
  #signalledUsed = 0;
  #notifyEnabled = true;
  /** avail_event as the device last wrote it, and avail idx at the last notification. */
  #availEvent = 0;
  #notifiedAvail = 0;
  #usedShadow: Uint8Array = new Uint8Array(0);
  #busy: Uint8Array = new Uint8Array(0);
  readonly #inFlight = new Map<number, InFlight>();

  constructor(index: number, maxSize: number | undefined, memory: PhysicalMemory, report: QueueReporter) {
    this.index = index;
    this.maxSize = maxSize ?? DEFAULT_QUEUE_NUM_MAX;
    this.num = this.maxSize;
    this.#memory = memory;
    this.#report = report;
  }

  /** The queue is live: the device may read its rings. */
  get live(): boolean {
    return this.#layout !== null;
  }

  get layout(): RingLayout | null {
    return this.#layout;
  }

  /** Chains taken and not yet returned. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Device reset: registers back to their reset values, rings forgotten. */
  resetRegisters(): void {
    this.deactivate();
    this.num = this.maxSize;
    this.ready = 0;
    this.pfn = 0;
    this.align = 4096;
    this.descLow = this.descHigh = this.driverLow = this.driverHigh = this.deviceLow = this.deviceHigh = 0;
    this.written.desc = this.written.driver = this.written.device = false;
  }

  /** Makes the queue live over `layout` (already checked by the register file). */
  activate(layout: RingLayout, features: { indirect: boolean; eventIdx: boolean }): void {
    this.#layout = layout;
    this.#size = this.num;
    this.#indirect = features.indirect;
    this.#eventIdx = features.eventIdx;
    this.#lastAvail = 0;
    this.#usedIdx = 0;
    this.#signalledUsed = 0;
    this.#notifyEnabled = true;
    this.#availEvent = 0;
    this.#notifiedAvail = 0;
    this.#busy = new Uint8Array(this.#size);
    this.#inFlight.clear();
    this.#usedShadow = this.#memory.read(layout.used, usedSize(this.#size));
  }

  /** Takes the queue away from the device; chains in flight are dropped. */
  deactivate(): void {
    this.#layout = null;
    this.#inFlight.clear();
  }

  // ---- available ring (§2.7.6) ----

  /** Chains the driver made available that the device has not taken; -1 if broken. */
  available(): number {
    const l = this.#layout;
    if (!l) return 0;
    const idx = this.#memory.read16(l.avail + 2); // avail.idx, 16-bit
    const pending = (idx - this.#lastAvail) & 0xffff;
    if (pending > this.#size) {
      this.#report.fatal("avail-idx-jump",
        `queue ${this.index}: avail idx ${idx} is ${pending} ahead of the device's ${this.#lastAvail}, more than the queue size ${this.#size} (§2.7.13.3)`);
      return -1;
    }
    return pending;
  }

  /** Takes and walks the next available chain; null if none or the queue broke. */
  takeChain(epoch: number): DeviceChain | null {
    const l = this.#layout;
    if (!l || this.available() <= 0) return null;
    this.checkUsedArea();
    const slot = this.#lastAvail % this.#size;
    const head = this.#memory.read16(l.avail + 4 + 2 * slot); // avail.ring[slot], 16-bit
    this.#lastAvail = (this.#lastAvail + 1) & 0xffff;
    if (this.#eventIdx && this.#notifyEnabled) this.#writeAvailEvent(this.#lastAvail);
    if (head >= this.#size) {
      this.#report.fatal("avail-head-out-of-range",
        `queue ${this.index}: avail ring slot ${slot} holds head ${head}, queue size is ${this.#size}`);
      return null;
    }
    const chain = this.#walk(head, epoch);
    if (!chain) return null;
    const snapshot = new Uint8Array(chain.descriptors.length * DESC_SIZE);
    chain.descriptors.forEach((d, k) => {
      this.#busy[d] = 1;
      snapshot.set(this.#memory.view(l.desc + DESC_SIZE * d, DESC_SIZE), k * DESC_SIZE);
    });
    this.#inFlight.set(head, { descriptors: chain.descriptors, snapshot });
    this.counters.chainsTaken++;
    return chain;
  }

  /** Walks the chain at `head` (§2.7.5, §2.7.5.3); null (and a fatal violation) if bad. */
  #walk(head: number, epoch: number): DeviceChain | null {
    const l = this.#layout!;
    const q = `queue ${this.index} chain ${head}`;
    const readable: Segment[] = [];
    const writable: Segment[] = [];
    const direct: number[] = [];
    let table = l.desc;
    let tableSize = this.#size;
    let inIndirect = false;
    let visited = new Set<number>();
    let count = 0;
    let i = head;
    for (;;) {
      if (visited.has(i)) {
        return this.#bad("descriptor-loop", `${q}: descriptor ${i}${inIndirect ? " of the indirect table" : ""} is reached twice`);
      }
      visited.add(i);
      const at = table + DESC_SIZE * i;
      const addr64 = this.#memory.read64(at); // desc.addr, 64-bit
      const len = this.#memory.read32(at + 8); // desc.len, 32-bit
      const flags = this.#memory.read16(at + 12); // desc.flags, 16-bit
      const next = this.#memory.read16(at + 14); // desc.next, 16-bit
      const addr = addr64 > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(addr64);
      if (!inIndirect) {
        if (this.#busy[i]) {
          return this.#bad("descriptor-in-flight", `${q}: descriptor ${i} belongs to a chain the device has not returned (§2.7.13.1)`);
        }
        direct.push(i);
      }
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!this.#indirect) return this.#bad("indirect-not-negotiated", `${q}: descriptor ${i} is INDIRECT but VIRTIO_F_RING_INDIRECT_DESC was not negotiated (§2.7.5.3.1)`);
        if (inIndirect) return this.#bad("indirect-nested", `${q}: an indirect table holds an INDIRECT descriptor (§2.7.5.3.1)`);
        if (flags & VIRTQ_DESC_F_NEXT) return this.#bad("indirect-with-next", `${q}: descriptor ${i} has both INDIRECT and NEXT (§2.7.5.3.1)`);
        if (len === 0 || len % DESC_SIZE !== 0) return this.#bad("indirect-bad-length", `${q}: indirect table length ${len} is not a non-zero multiple of 16 (§2.7.5.3)`);
        if (!this.#memory.contains(addr, len)) return this.#bad("descriptor-outside-memory", `${q}: indirect table 0x${addr64.toString(16)}+${len} is outside RAM`);
        table = addr;
        tableSize = len / DESC_SIZE;
        inIndirect = true;
        visited = new Set<number>();
        i = 0;
        continue;
      }
      if (!this.#memory.contains(addr, len)) {
        return this.#bad("descriptor-outside-memory", `${q}: descriptor ${i} buffer 0x${addr64.toString(16)}+${len} is outside RAM`);
      }
      if (flags & VIRTQ_DESC_F_WRITE) {
        writable.push({ addr, len });
      } else {
        if (writable.length > 0) return this.#bad("descriptor-readable-after-writable", `${q}: descriptor ${i} is device-readable after a device-writable one (§2.7.4.2)`);
        readable.push({ addr, len });
      }
      count++;
      if (count > this.#size) return this.#bad("chain-too-long", `${q}: chain has more than ${this.#size} descriptors, the queue size (§2.7.5.3.1)`);
      if (!(flags & VIRTQ_DESC_F_NEXT)) break;
      if (next >= tableSize) {
        return this.#bad("descriptor-next-out-of-range", `${q}: descriptor ${i} has next ${next}, ${inIndirect ? "indirect table" : "queue"} size is ${tableSize}`);
      }
      i = next;
    }
    return new DeviceChain(this.#memory, this.index, head, readable, writable, direct, epoch);
  }

  #bad(rule: string, message: string): null {
    this.#report.fatal(rule, message);
    return null;
  }

  // ---- used ring (§2.7.8) ----

  /** Returns `chain` through the used ring with `written` bytes (faults may lie about it). */
  complete(chain: DeviceChain, written: number, faults: DeviceFaults): void {
    const l = this.#layout;
    const flight = this.#inFlight.get(chain.head);
    if (!l || !flight) return; // the queue was reset or disabled meanwhile
    if (!Number.isInteger(written) || written < 0 || written > chain.writableLength) {
      throw new RangeError(`device model bug: ${written} bytes written to a chain of ${chain.writableLength} writable bytes`);
    }
    this.checkUsedArea();
    this.#checkSnapshot(chain.head, flight);
    let id = chain.head;
    let len = written;
    if (faults.usedIdOutOfRange) id = this.#size + chain.head;
    else if (faults.usedIdNotHead) id = this.#notAHead(chain);
    if (faults.usedLenExtra > 0) len = chain.writableLength + faults.usedLenExtra;
    const slot = this.#usedIdx % this.#size;
    this.#memory.write32(l.used + 4 + 8 * slot, id); // used.ring[slot].id, 32-bit
    this.#memory.write32(l.used + 8 + 8 * slot, len); // used.ring[slot].len, 32-bit
    this.#shadowUsed(l, 4 + 8 * slot, 8);
    // The element is written before the index that publishes it (§2.7.8.2).
    this.#usedIdx = (this.#usedIdx + 1) & 0xffff;
    if (faults.usedTwice) {
      const again = this.#usedIdx % this.#size;
      this.#memory.write32(l.used + 4 + 8 * again, id); // the same element once more
      this.#memory.write32(l.used + 8 + 8 * again, len);
      this.#shadowUsed(l, 4 + 8 * again, 8);
      this.#usedIdx = (this.#usedIdx + 1) & 0xffff;
    }
    if (faults.usedIdxAhead > 0) this.#usedIdx = (this.#usedIdx + faults.usedIdxAhead) & 0xffff;
    this.#memory.write16(l.used + 2, this.#usedIdx); // used.idx, 16-bit
    this.#shadowUsed(l, 2, 2);
    for (const d of flight.descriptors) this.#busy[d] = 0;
    this.#inFlight.delete(chain.head);
    this.counters.chainsCompleted++;
  }

  /** A descriptor index that is not the head of any chain in flight (for the fault). */
  #notAHead(chain: DeviceChain): number {
    if (chain.descriptors.length > 1) return chain.descriptors[1]!;
    for (let k = 1; k < this.#size; k++) {
      const d = (chain.head + k) % this.#size;
      if (!this.#inFlight.has(d)) return d;
    }
    return this.#size; // every index is a head: fall back to out of range
  }

  /** Should the device send a used buffer notification now (§2.7.10)? Call once per turn. */
  needInterrupt(): boolean {
    const l = this.#layout;
    if (!l) return false;
    if (this.#signalledUsed === this.#usedIdx) return false; // nothing new since the last decision
    const old = this.#signalledUsed;
    this.#signalledUsed = this.#usedIdx;
    const flags = this.#memory.read16(l.avail); // avail.flags, 16-bit
    if (this.#eventIdx) {
      if (flags !== 0) {
        this.#report.violation("avail-flags-invalid", `queue ${this.index}: avail flags 0x${flags.toString(16)} with EVENT_IDX negotiated, must be 0 (§2.7.10)`);
      }
      const usedEvent = this.#memory.read16(l.avail + 4 + 2 * this.#size); // used_event, 16-bit
      return needEvent(usedEvent, this.#usedIdx, old);
    }
    if (flags & ~VIRTQ_AVAIL_F_NO_INTERRUPT) {
      this.#report.violation("avail-flags-invalid", `queue ${this.index}: avail flags 0x${flags.toString(16)}, only 0 or 1 allowed (§2.7.10)`);
    }
    return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
  }

  /**
   * Asks the driver to notify (true) or not (false) about new chains (§2.7.10): the
   * NO_NOTIFY flag, or with EVENT_IDX avail_event (left behind while disabled).
   */
  setNotification(enabled: boolean): void {
    const l = this.#layout;
    if (!l) return;
    this.#notifyEnabled = enabled;
    if (this.#eventIdx) {
      if (enabled) this.#writeAvailEvent(this.#lastAvail);
      return;
    }
    this.checkUsedArea();
    this.#memory.write16(l.used, enabled ? 0 : VIRTQ_USED_F_NO_NOTIFY); // used.flags, 16-bit
    this.#shadowUsed(l, 0, 2);
  }

  /** The driver notified this queue: counts it, and whether it was needed (§2.7.10). */
  noteNotification(): void {
    this.counters.notifications++;
    const l = this.#layout;
    if (!l) return;
    const idx = this.#memory.read16(l.avail + 2); // avail.idx, 16-bit
    const old = this.#notifiedAvail;
    this.#notifiedAvail = idx;
    const needed = this.#eventIdx
      ? needEvent(this.#availEvent, idx, old)
      : idx !== old && (this.#memory.read16(l.used) & VIRTQ_USED_F_NO_NOTIFY) === 0;
    if (!needed) this.counters.unneededNotifications++;
  }

  #writeAvailEvent(value: number): void {
    const l = this.#layout!;
    this.#availEvent = value;
    this.checkUsedArea();
    this.#memory.write16(l.used + 4 + 8 * this.#size, value); // avail_event, 16-bit
    this.#shadowUsed(l, 4 + 8 * this.#size, 2);
  }

  #shadowUsed(l: RingLayout, offset: number, length: number): void {
    this.#usedShadow.set(this.#memory.view(l.used + offset, length), offset);
  }

  /**
   * The used area belongs to the device (§2.7.8): if the driver wrote into it, record it
   * and put back what the device wrote.
   */
  checkUsedArea(): void {
    const l = this.#layout;
    if (!l) return;
    const now = this.#memory.view(l.used, this.#usedShadow.length);
    const shadow = this.#usedShadow;
    if (sameBytes(now, shadow)) return;
    for (let k = 0; k < shadow.length; k++) {
      if (now[k] !== shadow[k]) {
        this.#report.violation("used-ring-written-by-driver",
          `queue ${this.index}: the driver wrote the used area at 0x${(l.used + k).toString(16)} (byte ${k}), which belongs to the device (§2.7.8)`);
        now.set(shadow);
        return;
      }
    }
  }

  /** Descriptors of a chain in flight belong to the device until it is used (§2.7.13.1). */
  #checkSnapshot(head: number, flight: InFlight): void {
    const l = this.#layout!;
    flight.descriptors.forEach((d, k) => {
      const now = this.#memory.view(l.desc + DESC_SIZE * d, DESC_SIZE);
      for (let b = 0; b < DESC_SIZE; b++) {
        if (now[b] !== flight.snapshot[k * DESC_SIZE + b]) {
          this.#report.violation("descriptor-modified-in-flight",
            `queue ${this.index}: descriptor ${d} of chain ${head} changed while the device held it`);
          return;
        }
      }
    });
  }
}
