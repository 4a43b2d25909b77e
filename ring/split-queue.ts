// The split virtqueue, driver side (VIRTIO 1.2 §2.7). The driver keeps its own copy of
// everything it writes (descriptors, avail idx, per-chain state) and reads back only what
// the device writes: used idx, used elements, used flags and avail_event. Every used entry
// is checked against that private state before it is believed.

import type { Barriers, DmaAllocator, DmaBuffer } from "../platform/platform.js";
import type { QueueAddresses } from "../drivers/virtio/transport.js";
import type { BufferRef, Completion, FixedChainQueue, VirtqueueOptions, VirtqueueStats } from "./virtqueue.js";
import { QueueFullError, RingError, RingUsageError, type RingErrorKind } from "./errors.js";
import { MAX_DESC_LEN, checkBuffer, checkSpan, writeTableEntry } from "./descriptors.js";
import { needEvent } from "./event-idx.js";
import {
  AVAIL_FLAGS,
  AVAIL_IDX,
  DESC_SIZE,
  USED_FLAGS,
  USED_IDX,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_USED_F_NO_NOTIFY,
  allocateRing,
  availEventOffset,
  checkLayout,
  usedEventOffset,
  type RingAreas,
} from "./layout.js";

/** Largest queue size: 16-bit indices must tell a full ring from an empty one (§2.7). */
export const MAX_QUEUE_SIZE = 32768;

/** What the driver knows of each descriptor. */
const FREE = 0;
/** Head of a chain added but not yet published (avail idx not moved past it). */
const HEAD_PENDING = 1;
/** Head of a chain the device may hold. */
const HEAD_PUBLISHED = 2;
/** A descriptor inside a chain, after its head. */
const LINK = 3;
/** Head of a reserved chain that is not in flight (the device holds nothing there). */
const RESERVED = 4;

const TWO_32 = 0x100000000;

/** Typed arrays are in the CPU's byte order; the ring is little-endian (§2.7, "le16"). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const words16 = (v: DataView): Uint16Array => new Uint16Array(v.buffer, v.byteOffset, v.byteLength >> 1);
const words32 = (v: DataView): Uint32Array => new Uint32Array(v.buffer, v.byteOffset, v.byteLength >> 2);

/** Per-slot bookkeeping as plain arrays: an element access costs XS a tenth of a typed array's. */
const filled = (n: number, value: number): number[] => new Array<number>(n).fill(value);

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

export class SplitQueue<T> implements FixedChainQueue<T> {
  readonly index: number;
  readonly size: number;
  readonly addresses: QueueAddresses;

  readonly #dma: DmaAllocator;
  readonly #barriers: Barriers;
  readonly #notify: () => void;
  readonly #indirect: boolean;
  readonly #eventIdx: boolean;
  readonly #mask: number;
  #areas: RingAreas | null;
  // The three areas as little-endian typed arrays (the hot path: an element access is
  // cheaper than a DataView call on XS); indices of le16 / le32 fields (§2.7.5-§2.7.8).
  readonly #descU32: Uint32Array;
  readonly #descU16: Uint16Array;
  readonly #availU16: Uint16Array;
  readonly #usedU16: Uint16Array;
  readonly #usedU32: Uint32Array;
  /** u16 index of used_event (avail area) and of avail_event (used area). */
  readonly #usedEventAt: number;
  readonly #availEventAt: number;

  // Shadow of the descriptor table: the only copy the driver ever reads.
  readonly #descAddr: number[];
  readonly #descLen: number[];
  readonly #descFlags: number[];
  readonly #descNext: number[];
  readonly #state: number[];
  /** Free descriptors as a stack; #freeCount entries are valid. */
  readonly #freeStack: number[];
  #freeCount: number;

  // Per-head state: the caller's token, descriptors taken from the table, device-writable
  // bytes the chain offers, its indirect table (if any), its order of submission, and
  // whether it is a reserved chain (kept when it comes back).
  readonly #tokens: (T | undefined)[];
  readonly #chainDescs: number[];
  readonly #writable: number[];
  readonly #tables: (DmaBuffer | null)[];
  readonly #seq: number[];
  readonly #reserved: number[];
  /** Per reserved head: descriptors never pointed at a buffer yet. */
  readonly #chainUnset: number[];
  #nextSeq = 0;

  /** avail idx as last written (the shadow, §2.7.13.3). */
  #availIdx = 0;
  /** Heads added since the last publish, in order (#pendingCount valid). */
  readonly #pendingHeads: number[];
  #pendingCount = 0;
  /** used idx up to which entries were taken (§2.7.14). */
  #lastUsed = 0;
  /** used idx as last read (then a read barrier): the entries up to it may be taken with
   * no new read of the idx and no new barrier (§2.7.14: idx, rmb, then the entries). */
  #usedSeen = 0;
  #inFlight = 0;
  #interruptsWanted = true;
  #broken: RingError | null = null;
  #destroyed = false;
  /** The length of the entry take() returned last. */
  #takenLen = 0;

  #added = 0;
  #completed = 0;
  #kicks = 0;
  #notifications = 0;

  constructor(options: VirtqueueOptions) {
    const { size } = options;
    if (!isPowerOfTwo(size) || size > MAX_QUEUE_SIZE) {
      throw new RingUsageError("BadSize", `queue size must be a power of two ≤ ${MAX_QUEUE_SIZE}, got ${size}`, size);
    }
    checkLayout(options.layout);
    this.index = options.index;
    this.size = size;
    this.#mask = size - 1;
    this.#dma = options.dma;
    this.#barriers = options.barriers;
    this.#notify = options.notify;
    this.#indirect = options.indirect;
    this.#eventIdx = options.eventIdx;
    this.#usedEventAt = usedEventOffset(size) / 2;
    this.#availEventAt = availEventOffset(size) / 2;
    if (!LITTLE_ENDIAN) throw new RingUsageError("BadLayout", "the ring's typed-array access needs a little-endian CPU");

    this.#descAddr = filled(size, 0);
    this.#descLen = filled(size, 0);
    this.#descFlags = filled(size, 0);
    this.#descNext = filled(size, 0);
    this.#state = filled(size, 0);
    this.#freeStack = filled(size, 0);
    this.#freeCount = 0;
    this.#tokens = new Array<T | undefined>(size).fill(undefined);
    this.#chainDescs = filled(size, 0);
    this.#writable = filled(size, 0);
    this.#tables = new Array<DmaBuffer | null>(size).fill(null);
    this.#seq = filled(size, 0);
    this.#reserved = filled(size, 0);
    this.#chainUnset = filled(size, 0);
    this.#pendingHeads = filled(size, 0);
    this.#resetFreeList();

    // Last: nothing else can fail once the memory is taken.
    const areas = allocateRing(this.#dma, size, options.layout);
    this.#areas = areas;
    this.#descU32 = words32(areas.desc);
    this.#descU16 = words16(areas.desc);
    this.#availU16 = words16(areas.avail);
    this.#usedU16 = words16(areas.used);
    this.#usedU32 = words32(areas.used);
    this.addresses = areas.addresses;
    // The zeroed areas visible before the MMIO writes that hand them to the device.
    this.#barriers.wmb();
  }

  get freeCount(): number {
    return this.#freeCount;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get broken(): Error | null {
    return this.#broken;
  }

  // ---- Supplying buffers (§2.7.13) -------------------------------------------------------

  add(readable: readonly BufferRef[], writable: readonly BufferRef[], token: T): void {
    this.#usable();
    const count = readable.length + writable.length;
    if (count === 0) throw new RingUsageError("EmptyChain", `virtqueue ${this.index}: a chain needs at least one buffer`);
    // §2.7.5.3.1 / §2.7.13.1: no chain longer than the queue size, direct or indirect.
    if (count > this.size) {
      throw new RingUsageError("ChainTooLong", `virtqueue ${this.index}: chain of ${count} buffers exceeds queue size ${this.size}`, count);
    }
    // Every buffer checked before anything changes: a refused chain leaves the queue as it was.
    let writableBytes = 0;
    for (const b of readable) checkBuffer(this.index, this.#dma, b);
    for (const b of writable) writableBytes += checkBuffer(this.index, this.#dma, b);

    let head: number;
    const table = this.#indirect && count > 1 && this.#freeCount >= 1 ? this.#allocTable(count) : null;
    if (table !== null) {
      head = this.#addIndirect(table, readable, writable);
    } else {
      if (count > this.#freeCount) throw new QueueFullError(this.index, count, this.#freeCount);
      head = this.#addDirect(readable, writable);
    }
    this.#tables[head] = table;
    this.#makeAvailable(head, writableBytes, token);
  }

  /**
   * Takes `count` descriptors for good, linked head → ... → last (NEXT set on all but the
   * last), as one chain the caller points at its buffers with setChainBuffer() and makes
   * available with addReserved() as often as it likes: per request only what changes is
   * written. The chain is given back only by detachAll() or destroy(). Returns its head.
   */
  reserveChain(count: number): number {
    this.#usable();
    if (!Number.isInteger(count) || count < 1 || count > this.size) {
      throw new RingUsageError("ChainTooLong", `virtqueue ${this.index}: a reserved chain of ${count} descriptors does not fit queue size ${this.size}`, count);
    }
    if (count > this.#freeCount) throw new QueueFullError(this.index, count, this.#freeCount);
    const head = this.#takeDesc();
    let prev = head;
    for (let k = 1; k < count; k++) {
      const id = this.#takeDesc();
      this.#state[id] = LINK;
      this.#setDesc(prev, 0, 0, VIRTQ_DESC_F_NEXT, id);
      prev = id;
    }
    this.#setDesc(prev, 0, 0, 0, 0);
    this.#state[head] = RESERVED;
    this.#reserved[head] = 1;
    this.#chainUnset[head] = count;
    this.#chainDescs[head] = count;
    this.#writable[head] = 0;
    return head;
  }

  /**
   * Points descriptor `k` of the reserved chain `head` at [phys, phys + len), device-
   * writable or not (§2.7.13.1: the caller keeps readable ones before writable ones).
   * Checked as add() checks a buffer; only while the chain is not in flight.
   */
  setChainBuffer(head: number, k: number, phys: number, len: number, writable: boolean): void {
    this.#idleReserved(head);
    const count = this.#chainDescs[head]!;
    if (!(k >= 0 && k < count)) throw new RingUsageError("NotReserved", `virtqueue ${this.index}: reserved chain ${head} has no descriptor ${k}`, k);
    let id = head;
    for (let i = 0; i < k; i++) id = this.#descNext[id]!;
    this.#point(head, id, phys, len, writable);
  }

  /** Makes the reserved chain `head` available, as add() does a new one. */
  addReserved(head: number, token: T): void {
    this.#idleReserved(head);
    if (this.#chainUnset[head] !== 0) {
      throw new RingUsageError("BadBuffer", `virtqueue ${this.index}: reserved chain ${head} has a descriptor with no buffer`, head);
    }
    this.#makeAvailable(head, this.#writable[head]!, token);
  }

  /**
   * setChainBuffer(head, 1, ...) then addReserved(head, token) in one call: the hot path
   * of a driver whose chains differ only in their second descriptor (a block request's
   * data). The same checks; throws what tryPostReserved() returns.
   */
  postReserved(head: number, phys: number, len: number, writable: boolean, token: T): void {
    const error = this.tryPostReserved(head, phys, len, writable, token);
    if (error !== null) throw error;
  }

  /** postReserved() that returns the error (nothing done) instead of throwing it: null
   * when the chain was made available. No try on the caller's hot path. */
  tryPostReserved(head: number, phys: number, len: number, writable: boolean, token: T): Error | null {
    if (this.#broken !== null || this.#destroyed || this.#state[head] !== RESERVED || this.#chainDescs[head]! < 2) return this.#refused(head);
    const id = this.#descNext[head]!;
    const flags = (this.#descFlags[id]! & VIRTQ_DESC_F_NEXT) | (writable ? VIRTQ_DESC_F_WRITE : 0);
    // The same buffer as last time (checked then, in the table already): nothing to write.
    if (this.#descLen[id] !== len || this.#descAddr[id] !== phys || this.#descFlags[id] !== flags) {
      // The buffer must lie in the DMA pool (§2.7.4), as in add(); contains() also wants
      // integers and len > 0.
      if (!(len <= MAX_DESC_LEN) || !this.#dma.contains(phys, len)) return this.#badSpan(phys, len);
      this.#repoint(head, id, phys, len, flags);
    }
    if (this.#chainUnset[head] !== 0) {
      return new RingUsageError("BadBuffer", `virtqueue ${this.index}: reserved chain ${head} has a descriptor with no buffer`, head);
    }
    // #makeAvailable() inline.
    this.#state[head] = HEAD_PENDING;
    this.#tokens[head] = token;
    this.#seq[head] = this.#nextSeq++;
    this.#availU16[2 + ((this.#availIdx + this.#pendingCount) & this.#mask)] = head; // le16 ring[slot]
    this.#pendingHeads[this.#pendingCount++] = head;
    this.#inFlight++;
    this.#added++;
    return null;
  }

  /** Why tryPostReserved() refused `head` (broken, destroyed, not an idle reserved chain
   * of two descriptors or more). */
  #refused(head: number): Error {
    try {
      this.#idleReserved(head);
    } catch (error) {
      return error as Error;
    }
    return new RingUsageError("NotReserved", `virtqueue ${this.index}: reserved chain ${head} has no descriptor 1`, 1);
  }

  /** checkSpan()'s error for a buffer contains() refused. */
  #badSpan(phys: number, len: number): Error {
    try {
      checkSpan(this.index, this.#dma, phys, len);
    } catch (error) {
      return error as Error;
    }
    return new RingUsageError("BadBuffer", `virtqueue ${this.index}: buffer 0x${phys.toString(16)}+${len} refused`, phys, { phys, len });
  }

  /** Throws unless `head` is a reserved chain the device does not hold, on a usable queue. */
  #idleReserved(head: number): void {
    if (this.#broken !== null) throw this.#broken;
    if (this.#destroyed) this.#usable();
    if (this.#state[head] !== RESERVED) {
      throw new RingUsageError("NotReserved", `virtqueue ${this.index}: descriptor ${head} is not an idle reserved chain`, head);
    }
  }

  /** Descriptor `id` of reserved chain `head` now points at the buffer; only what changed
   * reaches the shared table. */
  #point(head: number, id: number, phys: number, len: number, writable: boolean): void {
    const flags = (this.#descFlags[id]! & VIRTQ_DESC_F_NEXT) | (writable ? VIRTQ_DESC_F_WRITE : 0);
    // The same buffer as last time was checked then and is in the table already.
    if (this.#descLen[id] === len && this.#descFlags[id] === flags && this.#descAddr[id] === phys && len !== 0) return;
    // The buffer must lie in the DMA pool (§2.7.4), as in add(); contains() also wants
    // integers and len > 0.
    if (!(len <= MAX_DESC_LEN) || !this.#dma.contains(phys, len)) checkSpan(this.index, this.#dma, phys, len);
    this.#repoint(head, id, phys, len, flags);
  }

  /** #point() after its check: the shadow and the table take the new buffer. */
  #repoint(head: number, id: number, phys: number, len: number, flags: number): void {
    const oldFlags = this.#descFlags[id]!;
    const oldLen = this.#descLen[id]!;
    if (oldLen === 0) this.#chainUnset[head]--;
    if ((oldFlags & VIRTQ_DESC_F_WRITE) !== 0) this.#writable[head] -= oldLen;
    if ((flags & VIRTQ_DESC_F_WRITE) !== 0) this.#writable[head] += len;
    if (this.#descAddr[id] !== phys) {
      if (phys < TWO_32 && this.#descAddr[id]! < TWO_32) {
        this.#descU32[id * 4] = phys; // le64 addr, low half (the high half stays 0)
        this.#descAddr[id] = phys;
      } else this.#setDesc(id, phys, len, flags, this.#descNext[id]!);
    }
    if (oldLen !== len) {
      this.#descU32[id * 4 + 2] = len; // le32 len
      this.#descLen[id] = len;
    }
    if (oldFlags !== flags) {
      this.#descU16[id * 8 + 6] = flags; // le16 flags
      this.#descFlags[id] = flags;
    }
  }

  /** §2.7.13.2: the head goes into the next free slot of the available ring; the idx that
   * makes it visible is written by kick(). */
  #makeAvailable(head: number, writableBytes: number, token: T): void {
    this.#state[head] = HEAD_PENDING;
    this.#tokens[head] = token;
    this.#writable[head] = writableBytes;
    this.#seq[head] = this.#nextSeq++;
    const slot = (this.#availIdx + this.#pendingCount) & this.#mask;
    this.#availU16[2 + slot] = head; // le16 ring[slot] (availRingOffset)
    this.#pendingHeads[this.#pendingCount++] = head;
    this.#inFlight++;
    this.#added++;
  }

  /** True if the device returned chains not taken yet (used idx moved; no barrier, no
   * check: a hint for a caller that polls, which then drains with take()). */
  hasUsed(): boolean {
    return this.#destroyed || this.#broken !== null ? false : this.#usedU16[1] !== this.#lastUsed; // le16 used->idx
  }

  /** Chains added and not yet published by kick(). */
  get pendingCount(): number {
    return this.#pendingCount;
  }

  kick(): boolean {
    if (this.#broken !== null || this.#destroyed) this.#usable();
    this.#kicks++;
    const count = this.#pendingCount;
    if (count === 0) return false;
    const oldIdx = this.#availIdx;
    const newIdx = (oldIdx + count) & 0xffff;
    // §2.7.13.3.1: descriptors and ring entries visible before the idx that exposes them.
    this.#barriers.wmb();
    this.#availU16[AVAIL_IDX / 2] = newIdx; // le16 avail->idx
    this.#availIdx = newIdx;
    for (let i = 0; i < count; i++) this.#state[this.#pendingHeads[i]!] = HEAD_PUBLISHED;
    this.#pendingCount = 0;
    // §2.7.13.4.1: idx visible before reading the device's suppression fields; a full
    // barrier, so it also orders the idx before the QueueNotify write (as Linux's writel).
    this.#barriers.mb();
    // The prepare half of the kick (§2.7.10): avail_event with EVENT_IDX (needEvent()
    // inline), else used->flags.
    const notify = this.#eventIdx
      ? ((newIdx - this.#usedU16[this.#availEventAt]! - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff)
      : this.#shouldNotify(oldIdx, newIdx);
    if (!notify) return false;
    this.#notifications++;
    this.#notify();
    return true;
  }

  /** prepare half of the kick: honour used->flags, or avail_event with EVENT_IDX (§2.7.10). */
  #shouldNotify(oldIdx: number, newIdx: number): boolean {
    if (this.#eventIdx) {
      const event = this.#usedU16[this.#availEventAt]!; // le16 avail_event
      return needEvent(event, newIdx, oldIdx);
    }
    const flags = this.#usedU16[USED_FLAGS / 2]!; // le16 used->flags
    return (flags & VIRTQ_USED_F_NO_NOTIFY) === 0;
  }

  #allocTable(count: number): DmaBuffer | null {
    try {
      return this.#dma.alloc(count * DESC_SIZE, 16);
    } catch {
      return null; // no DMA memory for a table: the chain goes direct.
    }
  }

  /** §2.7.5.3: one INDIRECT descriptor pointing at a table of `count` entries. */
  #addIndirect(table: DmaBuffer, readable: readonly BufferRef[], writable: readonly BufferRef[]): number {
    const count = readable.length + writable.length;
    for (let k = 0; k < count; k++) {
      const isWritable = k >= readable.length;
      const b = isWritable ? writable[k - readable.length]! : readable[k]!;
      const last = k + 1 === count;
      // Entries link by table index; never INDIRECT inside a table (§2.7.5.3.1).
      const flags = (isWritable ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT);
      writeTableEntry(table.view, k, b.phys, b.len, flags, last ? 0 : k + 1);
    }
    const head = this.#takeDesc();
    // §2.7.5.3.1: INDIRECT alone: never with NEXT (nor WRITE).
    this.#setDesc(head, table.phys, count * DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
    this.#chainDescs[head] = 1;
    return head;
  }

  /** §2.7.13.1: readable buffers, then writable ones, linked by NEXT. */
  #addDirect(readable: readonly BufferRef[], writable: readonly BufferRef[]): number {
    const count = readable.length + writable.length;
    // The free stack's top `count` entries, last one first taken: the chain's ids.
    const base = this.#freeCount - count;
    const ids = this.#freeStack;
    for (let k = 0; k < count; k++) {
      const isWritable = k >= readable.length;
      const b = isWritable ? writable[k - readable.length]! : readable[k]!;
      const last = k + 1 === count;
      const id = ids[this.#freeCount - 1 - k]!;
      const flags = (isWritable ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT);
      this.#setDesc(id, b.phys, b.len, flags, last ? 0 : ids[this.#freeCount - 2 - k]!);
      if (k > 0) this.#state[id] = LINK;
    }
    const head = ids[this.#freeCount - 1]!;
    this.#freeCount = base;
    this.#chainDescs[head] = count;
    return head;
  }

  #takeDesc(): number {
    return this.#freeStack[--this.#freeCount]!;
  }

  /** Writes the shadow first, then copies it out: the table is never read back. */
  #setDesc(i: number, addr: number, len: number, flags: number, next: number): void {
    this.#descAddr[i] = addr;
    this.#descLen[i] = len;
    this.#descFlags[i] = flags;
    this.#descNext[i] = next;
    const high = addr < TWO_32 ? 0 : Math.floor(addr / TWO_32);
    const u32 = this.#descU32;
    u32[i * 4] = addr - high * TWO_32; // le64 addr, low half
    u32[i * 4 + 1] = high; // le64 addr, high half
    u32[i * 4 + 2] = len; // le32 len
    this.#descU16[i * 8 + 6] = flags; // le16 flags
    this.#descU16[i * 8 + 7] = next; // le16 next
  }

  // ---- Receiving used buffers (§2.7.14) --------------------------------------------------

  pop(): Completion<T> | null {
    if (!this.#next()) return null;
    const token = this.#tokens[this.#takenHead] as T;
    this.#finish(this.#takenHead);
    return { token, len: this.#takenLen };
  }

  /**
   * pop() without the completion object: the next used entry's token (validated as pop()
   * does), or undefined when the used ring is empty; its length is then `takenLength`.
   * For queues whose tokens are never undefined.
   */
  take(): T | undefined {
    if (this.#broken !== null || this.#destroyed) {
      this.#usable();
      return undefined;
    }
    const lastUsed = this.#lastUsed;
    let usedIdx = this.#usedSeen;
    if (usedIdx === lastUsed) {
      usedIdx = this.#usedU16[USED_IDX / 2]!; // le16 used->idx
      if (usedIdx === lastUsed) return undefined;
      // §2.7.14: read the idx, then the entries it covers (all of them, this time and
      // the next calls, until lastUsed catches up).
      this.#barriers.rmb();
      this.#usedSeen = usedIdx;
    }
    // The common case inline (a returned reserved chain, len within its writable bytes,
    // interrupts off as in a drain); anything else takes the general path with its
    // checks and error reports.
    const ahead = (usedIdx - lastUsed) & 0xffff;
    const at = 1 + 2 * (lastUsed & this.#mask); // usedElemOffset() / 4
    const id = this.#usedU32[at]!; // le32 used_elem.id
    const len = this.#usedU32[at + 1]!; // le32 used_elem.len
    if (ahead > this.size || ahead > this.#inFlight - this.#pendingCount || id >= this.size || this.#state[id] !== HEAD_PUBLISHED ||
      this.#reserved[id] !== 1 || len > this.#writable[id]! || (this.#eventIdx && this.#interruptsWanted)) {
      if (!this.#next()) return undefined;
      const head = this.#takenHead;
      const token = this.#tokens[head];
      this.#finish(head);
      return token;
    }
    this.#lastUsed = (lastUsed + 1) & 0xffff;
    this.#takenLen = len;
    const token = this.#tokens[id];
    this.#tokens[id] = undefined;
    this.#state[id] = RESERVED;
    this.#inFlight--;
    this.#completed++;
    return token;
  }

  /** The used length of the entry take() (or pop()) returned last. */
  get takenLength(): number {
    return this.#takenLen;
  }

  #takenHead = 0;

  /** Reads and checks the next used entry into #takenHead / #takenLen; false if none. */
  #next(): boolean {
    if (this.#broken) throw this.#broken;
    if (this.#destroyed) this.#usable();
    const usedIdx = this.#usedU16[USED_IDX / 2]!; // le16 used->idx
    if (usedIdx === this.#lastUsed) return false;
    // §2.7.14: read the idx, then the entries it covers.
    this.#barriers.rmb();
    const ahead = (usedIdx - this.#lastUsed) & 0xffff;
    const held = this.#inFlight - this.#pendingCount;
    if (ahead > this.size || ahead > held) {
      this.#fail("BadUsedIdx", { usedIdx, lastUsed: this.#lastUsed, ahead, held },
        `used idx ${usedIdx} is ${ahead} ahead of ${this.#lastUsed}, device holds ${held} chain(s)`);
    }
    const at = 1 + 2 * (this.#lastUsed & this.#mask); // usedElemOffset() / 4
    const id = this.#usedU32[at]!; // le32 used_elem.id
    const len = this.#usedU32[at + 1]!; // le32 used_elem.len
    this.#checkUsed(id, len);
    this.#usedSeen = usedIdx;
    this.#lastUsed = (this.#lastUsed + 1) & 0xffff;
    if (this.#eventIdx && this.#interruptsWanted) {
      // Ask for an interrupt at the next entry; the mb makes the new used_event visible
      // before the caller's next read of used idx, or an entry landing in between could
      // go without an interrupt (§2.7.10).
      this.#availU16[this.#usedEventAt] = this.#lastUsed; // le16 used_event
      this.#barriers.mb();
    }
    this.#takenHead = id;
    this.#takenLen = len;
    return true;
  }

  #finish(head: number): void {
    this.#release(head);
    this.#completed++;
  }

  /** §2.7.8: id names the head of a chain the device holds; len ≤ its writable bytes. */
  #checkUsed(id: number, len: number): void {
    if (id >= this.size) {
      this.#fail("BadUsedId", { id, size: this.size }, `used id ${id} out of range (queue size ${this.size})`);
    }
    const state = this.#state[id];
    if (state === HEAD_PUBLISHED) {
      const writable = this.#writable[id]!;
      if (len > writable) {
        this.#fail("BadUsedLength", { id, len, writable }, `used len ${len} for id ${id} exceeds its ${writable} writable bytes`);
      }
      return;
    }
    if (state === FREE || state === RESERVED) this.#fail("NotInFlight", { id }, `used id ${id} is a free descriptor`);
    if (state === LINK) this.#fail("NotAHead", { id }, `used id ${id} is inside a chain, not its head`);
    this.#fail("NotPublished", { id }, `used id ${id} was never made available`);
  }

  #fail(kind: RingErrorKind, values: Record<string, number>, detail: string): never {
    this.#broken = new RingError(kind, this.index, values, detail);
    throw this.#broken;
  }

  /** Returns a chain's descriptors to the free list (a reserved chain stays reserved),
   * walking the shadow copy only. */
  #release(head: number): void {
    this.#tokens[head] = undefined;
    this.#inFlight--;
    if (this.#reserved[head] === 1) {
      this.#state[head] = RESERVED;
      return;
    }
    const table = this.#tables[head];
    if (table) {
      this.#tables[head] = null;
      this.#dma.free(table);
    }
    let i = head;
    for (let k = this.#chainDescs[head]!; k > 0; k--) {
      const next = this.#descNext[i]!;
      this.#state[i] = FREE;
      this.#freeStack[this.#freeCount++] = i;
      i = next;
    }
    this.#chainDescs[head] = 0;
    this.#writable[head] = 0;
  }

  // ---- Used buffer notification suppression (§2.7.7, §2.7.10) ---------------------------

  enableInterrupts(): boolean {
    if (this.#broken !== null || this.#destroyed) this.#usable();
    this.#interruptsWanted = true;
    if (this.#eventIdx) {
      this.#availU16[this.#usedEventAt] = this.#lastUsed; // le16 used_event
    } else {
      this.#availU16[AVAIL_FLAGS / 2] = 0; // le16 avail->flags
    }
    // Re-check after the write is visible: an entry that came in between would otherwise
    // wait for an interrupt that is never sent (§2.7.14 note).
    this.#barriers.mb();
    return this.#usedU16[USED_IDX / 2] !== this.#lastUsed; // le16 used->idx
  }

  disableInterrupts(): void {
    if (this.#broken !== null || this.#destroyed) this.#usable();
    this.#interruptsWanted = false;
    if (this.#eventIdx) {
      // flags must stay 0 with EVENT_IDX (§2.7.10); an event index just behind the last
      // seen one is only reached after the idx wraps.
      this.#availU16[this.#usedEventAt] = (this.#lastUsed - 1) & 0xffff; // le16 used_event
    } else {
      this.#availU16[AVAIL_FLAGS / 2] = VIRTQ_AVAIL_F_NO_INTERRUPT; // le16 avail->flags
    }
  }

  // ---- Bookkeeping ------------------------------------------------------------------------

  stats(): VirtqueueStats {
    return { added: this.#added, completed: this.#completed, kicks: this.#kicks, notifications: this.#notifications };
  }

  /**
   * Takes back every chain not yet returned, in the order they were added, and puts the
   * ring back in its first state (areas zeroed, indices 0, reserved chains given back) so
   * the queue can be enabled again after a device reset. Works on a broken queue;
   * `broken` stays set.
   */
  detachAll(): T[] {
    if (this.#destroyed) return [];
    const heads: number[] = [];
    for (let i = 0; i < this.size; i++) {
      if (this.#state[i] === HEAD_PENDING || this.#state[i] === HEAD_PUBLISHED) heads.push(i);
    }
    heads.sort((a, b) => this.#seq[a]! - this.#seq[b]!);
    const tokens = heads.map((h) => this.#tokens[h] as T);
    for (const h of heads) this.#release(h);
    this.#resetFreeList();
    this.#state.fill(FREE);
    this.#reserved.fill(0);
    this.#chainUnset.fill(0);
    this.#chainDescs.fill(0);
    this.#writable.fill(0);
    this.#descAddr.fill(0);
    this.#descLen.fill(0);
    this.#descFlags.fill(0);
    this.#descNext.fill(0);
    this.#pendingCount = 0;
    this.#availIdx = 0;
    this.#lastUsed = 0;
    this.#usedSeen = 0;
    this.#interruptsWanted = true;
    for (const b of this.#areas!.blocks) b.bytes.fill(0);
    // The zeroed areas visible before the MMIO writes that hand them to the device again.
    this.#barriers.wmb();
    return tokens;
  }

  /** Frees the rings and any indirect tables in flight. Safe to call twice. */
  destroy(): void {
    if (this.#destroyed) return;
    for (let i = 0; i < this.size; i++) {
      const table = this.#tables[i];
      if (table) this.#dma.free(table);
      this.#tables[i] = null;
      this.#tokens[i] = undefined;
    }
    for (const b of this.#areas!.blocks) this.#dma.free(b);
    this.#areas = null;
    this.#destroyed = true;
    this.#inFlight = 0;
    this.#freeCount = 0;
  }

  /** The areas, or the reason the queue can no longer be used. */
  #usable(): RingAreas {
    if (this.#broken) throw this.#broken;
    if (this.#destroyed || this.#areas === null) {
      throw new RingUsageError("Destroyed", `virtqueue ${this.index} was destroyed`);
    }
    return this.#areas;
  }

  #resetFreeList(): void {
    // Descriptor 0 on top, so a fresh queue hands out 0, 1, 2, ...
    for (let k = 0; k < this.size; k++) this.#freeStack[k] = this.size - 1 - k;
    this.#freeCount = this.size;
  }
}
