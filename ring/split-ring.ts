// The split virtqueue, driver side (VIRTIO 1.2 §2.7). The driver keeps its own copy of
// everything it writes (descriptors, avail idx, per-chain state) and reads back only what
// the device writes: used idx, used elements, used flags and avail_event. Every used entry
// is checked against that private state before it is believed.
//
// The ring is closures over local variables (createSplitRing), not a class with private
// fields: XS finds a private field by walking the instance's field list (~2-4 us per
// access under TCG, and a request touches the ring's state ~40 times), a closure
// variable by index (~0.7 us). SplitQueue (split-queue.ts) is the class over it.

import type { Barriers, DmaAllocator, DmaBuffer } from "../platform/platform.js";
import type { QueueAddresses } from "../drivers/virtio/transport.js";
import type { BufferRef, FixedChainQueue, ReservedHotPath, Virtqueue, VirtqueueOptions, VirtqueueStats, Completion } from "./virtqueue.js";
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

/** The split ring's operations as closures over its state (see the file comment): the
 * methods of Virtqueue and FixedChainQueue (documented there), and the counts as calls. */
export interface SplitRing<T>
  extends ReservedHotPath<T>,
    Pick<Virtqueue<T>, "add" | "pop" | "stats" | "detachAll" | "destroy">,
    Pick<FixedChainQueue<T>, "reserveChain" | "reserveChainOf" | "setChainBuffer" | "addReserved" | "postReserved"> {
  readonly addresses: QueueAddresses;
  freeCount(): number;
  broken(): Error | null;
  pendingCount(): number;
}

export function createSplitRing<T>(options: VirtqueueOptions): SplitRing<T> {
  const size = options.size;
  if (!isPowerOfTwo(size) || size > MAX_QUEUE_SIZE) {
    throw new RingUsageError("BadSize", `queue size must be a power of two ≤ ${MAX_QUEUE_SIZE}, got ${size}`, size);
  }
  checkLayout(options.layout);
  if (!LITTLE_ENDIAN) throw new RingUsageError("BadLayout", "the ring's typed-array access needs a little-endian CPU");
  const index = options.index;
  const mask = size - 1;
  const dma: DmaAllocator = options.dma;
  const barriers: Barriers = options.barriers;
  const sendNotify: () => void = options.notify;
  const indirect = options.indirect;
  const eventIdx = options.eventIdx;
  /** u16 index of used_event (avail area) and of avail_event (used area). */
  const usedEventAt = usedEventOffset(size) / 2;
  const availEventAt = availEventOffset(size) / 2;

  // Shadow of the descriptor table: the only copy the driver ever reads.
  const descAddr = filled(size, 0);
  const descLen = filled(size, 0);
  const descFlags = filled(size, 0);
  const descNext = filled(size, 0);
  const descState = filled(size, FREE);
  /** Free descriptors as a stack; freeCount entries are valid. */
  const freeStack = filled(size, 0);
  let freeCount = 0;

  // Per-head state: the caller's token, descriptors taken from the table, device-writable
  // bytes the chain offers, its indirect table (if any), its order of submission, and
  // whether it is a reserved chain (kept when it comes back).
  const tokenOf = new Array<T | undefined>(size).fill(undefined);
  const chainDescs = filled(size, 0);
  const writableOf = filled(size, 0);
  const tables = new Array<DmaBuffer | null>(size).fill(null);
  const seq = filled(size, 0);
  const reserved = filled(size, 0);
  /** Per reserved head: descriptors never pointed at a buffer yet. */
  const chainUnset = filled(size, 0);
  let nextSeq = 0;

  /** avail idx as last written (the shadow, §2.7.13.3). */
  let availIdx = 0;
  /** Heads added since the last publish, in order (pendingCount valid). */
  const pendingHeads = filled(size, 0);
  let pendingCount = 0;
  /** used idx up to which entries were taken (§2.7.14). */
  let lastUsedIdx = 0;
  /** used idx as last read (then a read barrier): the entries up to it may be taken with
   * no new read of the idx and no new barrier (§2.7.14: idx, rmb, then the entries). */
  let usedSeen = 0;
  let inFlight = 0;
  let interruptsWanted = true;
  let broken: RingError | null = null;
  let destroyed = false;
  /** The length of the entry take() returned last, and its head. */
  let takenLen = 0;
  let takenHead = 0;

  let added = 0;
  let completed = 0;
  let kicks = 0;
  let notifications = 0;

  resetFreeList();
  // Last: nothing else can fail once the memory is taken.
  let ringAreas: RingAreas | null = allocateRing(dma, size, options.layout);
  // The three areas as little-endian typed arrays (the hot path: an element access is
  // cheaper than a DataView call on XS); indices of le16 / le32 fields (§2.7.5-§2.7.8).
  const descU32 = words32(ringAreas.desc);
  const descU16 = words16(ringAreas.desc);
  const availU16 = words16(ringAreas.avail);
  const usedU16 = words16(ringAreas.used);
  const usedU32 = words32(ringAreas.used);
  const addresses = ringAreas.addresses;
  // The zeroed areas visible before the MMIO writes that hand them to the device.
  barriers.wmb();

  // ---- Supplying buffers (§2.7.13) -------------------------------------------------------

  function add(readable: readonly BufferRef[], writable: readonly BufferRef[], token: T): void {
    usable();
    const count = readable.length + writable.length;
    if (count === 0) throw new RingUsageError("EmptyChain", `virtqueue ${index}: a chain needs at least one buffer`);
    // §2.7.5.3.1 / §2.7.13.1: no chain longer than the queue size, direct or indirect.
    if (count > size) {
      throw new RingUsageError("ChainTooLong", `virtqueue ${index}: chain of ${count} buffers exceeds queue size ${size}`, count);
    }
    // Every buffer checked before anything changes: a refused chain leaves the queue as it was.
    let writableBytes = 0;
    // Indexed loops: for-of costs XS an iterator and a result object per element.
    for (let k = 0; k < readable.length; k++) checkBuffer(index, dma, readable[k]!);
    for (let k = 0; k < writable.length; k++) writableBytes += checkBuffer(index, dma, writable[k]!);

    let head: number;
    const table = indirect && count > 1 && freeCount >= 1 ? allocTable(count) : null;
    if (table !== null) {
      head = addIndirect(table, readable, writable);
    } else {
      if (count > freeCount) throw new QueueFullError(index, count, freeCount);
      head = addDirect(readable, writable);
    }
    tables[head] = table;
    makeAvailable(head, writableBytes, token);
  }

  /**
   * Takes `count` descriptors for good, linked head → ... → last (NEXT set on all but the
   * last), as one chain the caller points at its buffers with setChainBuffer() and makes
   * available with addReserved() as often as it likes: per request only what changes is
   * written. The chain is given back only by detachAll() or destroy(). Returns its head.
   */
  function reserveChain(count: number): number {
    usable();
    if (!Number.isInteger(count) || count < 1 || count > size) {
      throw new RingUsageError("ChainTooLong", `virtqueue ${index}: a reserved chain of ${count} descriptors does not fit queue size ${size}`, count);
    }
    if (count > freeCount) throw new QueueFullError(index, count, freeCount);
    const head = takeDesc();
    let prev = head;
    for (let k = 1; k < count; k++) {
      const id = takeDesc();
      descState[id] = LINK;
      setDesc(prev, 0, 0, VIRTQ_DESC_F_NEXT, id);
      prev = id;
    }
    setDesc(prev, 0, 0, 0, 0);
    descState[head] = RESERVED;
    reserved[head] = 1;
    chainUnset[head] = count;
    chainDescs[head] = count;
    writableOf[head] = 0;
    return head;
  }

  /**
   * reserveChain() with the chain's buffers given at once (readable, then writable, as in
   * add(): §2.7.13.1), every one checked before anything is taken; each descriptor is
   * written once. Returns the head, an idle reserved chain ready for addReserved().
   */
  function reserveChainOf(readable: readonly BufferRef[], writable: readonly BufferRef[]): number {
    usable();
    const count = readable.length + writable.length;
    if (count < 1 || count > size) {
      throw new RingUsageError("ChainTooLong", `virtqueue ${index}: a reserved chain of ${count} descriptors does not fit queue size ${size}`, count);
    }
    let writableBytes = 0;
    for (let k = 0; k < readable.length; k++) checkBuffer(index, dma, readable[k]!);
    for (let k = 0; k < writable.length; k++) writableBytes += checkBuffer(index, dma, writable[k]!);
    if (count > freeCount) throw new QueueFullError(index, count, freeCount);
    const head = addDirect(readable, writable);
    descState[head] = RESERVED;
    reserved[head] = 1;
    chainUnset[head] = 0;
    writableOf[head] = writableBytes;
    return head;
  }

  /**
   * Points descriptor `k` of the reserved chain `head` at [phys, phys + len), device-
   * writable or not (§2.7.13.1: the caller keeps readable ones before writable ones).
   * Checked as add() checks a buffer; only while the chain is not in flight.
   */
  function setChainBuffer(head: number, k: number, phys: number, len: number, writable: boolean): void {
    idleReserved(head);
    const count = chainDescs[head]!;
    if (!(k >= 0 && k < count)) throw new RingUsageError("NotReserved", `virtqueue ${index}: reserved chain ${head} has no descriptor ${k}`, k);
    let id = head;
    for (let i = 0; i < k; i++) id = descNext[id]!;
    point(head, id, phys, len, writable);
  }

  /** Makes the reserved chain `head` available, as add() does a new one. */
  function addReserved(head: number, token: T): void {
    idleReserved(head);
    if (chainUnset[head] !== 0) {
      throw new RingUsageError("BadBuffer", `virtqueue ${index}: reserved chain ${head} has a descriptor with no buffer`, head);
    }
    makeAvailable(head, writableOf[head]!, token);
  }

  /**
   * setChainBuffer(head, 1, ...) then addReserved(head, token) in one call: the hot path
   * of a driver whose chains differ only in their second descriptor (a block request's
   * data). The same checks; throws what tryPostReserved() returns.
   */
  function postReserved(head: number, phys: number, len: number, writable: boolean, token: T): void {
    const error = tryPostReserved(head, phys, len, writable, token);
    if (error !== null) throw error;
  }

  /** postReserved() that returns the error (nothing done) instead of throwing it: null
   * when the chain was made available. No try on the caller's hot path. */
  function tryPostReserved(head: number, phys: number, len: number, writable: boolean, token: T): Error | null {
    if (broken !== null || destroyed || descState[head] !== RESERVED || chainDescs[head]! < 2) return refused(head);
    const id = descNext[head]!;
    const flags = (descFlags[id]! & VIRTQ_DESC_F_NEXT) | (writable ? VIRTQ_DESC_F_WRITE : 0);
    // The same buffer as last time (checked then, in the table already): nothing to write.
    if (descAddr[id] !== phys || descLen[id] !== len || descFlags[id] !== flags) {
      // The buffer must lie in the DMA pool (§2.7.4), as in add(); contains() also wants
      // integers and len > 0.
      if (!(len <= MAX_DESC_LEN) || !dma.contains(phys, len)) return badSpan(phys, len);
      if (descLen[id] === len && descFlags[id] === flags && phys < TWO_32 && descAddr[id]! < TWO_32) {
        // Another buffer of the same size and direction (a slot reused by another
        // caller): only the address changes.
        descU32[id * 4] = phys; // le64 addr, low half (the high half stays 0)
        descAddr[id] = phys;
      } else repoint(head, id, phys, len, flags);
    }
    if (chainUnset[head] !== 0) {
      return new RingUsageError("BadBuffer", `virtqueue ${index}: reserved chain ${head} has a descriptor with no buffer`, head);
    }
    // #makeAvailable() inline.
    descState[head] = HEAD_PENDING;
    tokenOf[head] = token;
    seq[head] = nextSeq++;
    availU16[2 + ((availIdx + pendingCount) & mask)] = head; // le16 ring[slot]
    pendingHeads[pendingCount++] = head;
    inFlight++;
    added++;
    return null;
  }

  /** Why tryPostReserved() refused `head` (broken, destroyed, not an idle reserved chain
   * of two descriptors or more). */
  function refused(head: number): Error {
    try {
      idleReserved(head);
    } catch (error) {
      return error as Error;
    }
    return new RingUsageError("NotReserved", `virtqueue ${index}: reserved chain ${head} has no descriptor 1`, 1);
  }

  /** checkSpan()'s error for a buffer contains() refused. */
  function badSpan(phys: number, len: number): Error {
    try {
      checkSpan(index, dma, phys, len);
    } catch (error) {
      return error as Error;
    }
    return new RingUsageError("BadBuffer", `virtqueue ${index}: buffer 0x${phys.toString(16)}+${len} refused`, phys, { phys, len });
  }

  /** Throws unless `head` is a reserved chain the device does not hold, on a usable queue. */
  function idleReserved(head: number): void {
    if (broken !== null) throw broken;
    if (destroyed) usable();
    if (descState[head] !== RESERVED) {
      throw new RingUsageError("NotReserved", `virtqueue ${index}: descriptor ${head} is not an idle reserved chain`, head);
    }
  }

  /** Descriptor `id` of reserved chain `head` now points at the buffer; only what changed
   * reaches the shared table. */
  function point(head: number, id: number, phys: number, len: number, writable: boolean): void {
    const flags = (descFlags[id]! & VIRTQ_DESC_F_NEXT) | (writable ? VIRTQ_DESC_F_WRITE : 0);
    // The same buffer as last time was checked then and is in the table already.
    if (descLen[id] === len && descFlags[id] === flags && descAddr[id] === phys && len !== 0) return;
    // The buffer must lie in the DMA pool (§2.7.4), as in add(); contains() also wants
    // integers and len > 0.
    if (!(len <= MAX_DESC_LEN) || !dma.contains(phys, len)) checkSpan(index, dma, phys, len);
    repoint(head, id, phys, len, flags);
  }

  /** #point() after its check: the shadow and the table take the new buffer. */
  function repoint(head: number, id: number, phys: number, len: number, flags: number): void {
    const oldFlags = descFlags[id]!;
    const oldLen = descLen[id]!;
    if (oldLen === 0) chainUnset[head]--;
    if ((oldFlags & VIRTQ_DESC_F_WRITE) !== 0) writableOf[head] -= oldLen;
    if ((flags & VIRTQ_DESC_F_WRITE) !== 0) writableOf[head] += len;
    if (descAddr[id] !== phys) {
      if (phys < TWO_32 && descAddr[id]! < TWO_32) {
        descU32[id * 4] = phys; // le64 addr, low half (the high half stays 0)
        descAddr[id] = phys;
      } else setDesc(id, phys, len, flags, descNext[id]!);
    }
    if (oldLen !== len) {
      descU32[id * 4 + 2] = len; // le32 len
      descLen[id] = len;
    }
    if (oldFlags !== flags) {
      descU16[id * 8 + 6] = flags; // le16 flags
      descFlags[id] = flags;
    }
  }

  /** §2.7.13.2: the head goes into the next free slot of the available ring; the idx that
   * makes it visible is written by kick(). */
  function makeAvailable(head: number, writableBytes: number, token: T): void {
    descState[head] = HEAD_PENDING;
    tokenOf[head] = token;
    writableOf[head] = writableBytes;
    seq[head] = nextSeq++;
    const slot = (availIdx + pendingCount) & mask;
    availU16[2 + slot] = head; // le16 ring[slot] (availRingOffset)
    pendingHeads[pendingCount++] = head;
    inFlight++;
    added++;
  }

  /** True if the device returned chains not taken yet (used idx moved; no barrier, no
   * check: a hint for a caller that polls, which then drains with take()). */
  function hasUsed(): boolean {
    return destroyed || broken !== null ? false : usedU16[1] !== lastUsedIdx; // le16 used->idx
  }

  /** Chains added and not yet published by kick(). */

  function kick(): boolean {
    if (broken !== null || destroyed) usable();
    kicks++;
    const count = pendingCount;
    if (count === 0) return false;
    const oldIdx = availIdx;
    const newIdx = (oldIdx + count) & 0xffff;
    // §2.7.13.3.1: descriptors and ring entries visible before the idx that exposes them.
    barriers.wmb();
    availU16[AVAIL_IDX / 2] = newIdx; // le16 avail->idx
    availIdx = newIdx;
    for (let i = 0; i < count; i++) descState[pendingHeads[i]!] = HEAD_PUBLISHED;
    pendingCount = 0;
    // §2.7.13.4.1: idx visible before reading the device's suppression fields; a full
    // barrier, so it also orders the idx before the QueueNotify write (as Linux's writel).
    barriers.mb();
    // The prepare half of the kick (§2.7.10): avail_event with EVENT_IDX (needEvent()
    // inline), else used->flags.
    const notify = eventIdx
      ? ((newIdx - usedU16[availEventAt]! - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff)
      : shouldNotify(oldIdx, newIdx);
    if (!notify) return false;
    notifications++;
    sendNotify();
    return true;
  }

  /** prepare half of the kick: honour used->flags, or avail_event with EVENT_IDX (§2.7.10). */
  function shouldNotify(oldIdx: number, newIdx: number): boolean {
    if (eventIdx) {
      const event = usedU16[availEventAt]!; // le16 avail_event
      return needEvent(event, newIdx, oldIdx);
    }
    const flags = usedU16[USED_FLAGS / 2]!; // le16 used->flags
    return (flags & VIRTQ_USED_F_NO_NOTIFY) === 0;
  }

  function allocTable(count: number): DmaBuffer | null {
    try {
      return dma.alloc(count * DESC_SIZE, 16);
    } catch {
      return null; // no DMA memory for a table: the chain goes direct.
    }
  }

  /** §2.7.5.3: one INDIRECT descriptor pointing at a table of `count` entries. */
  function addIndirect(table: DmaBuffer, readable: readonly BufferRef[], writable: readonly BufferRef[]): number {
    const count = readable.length + writable.length;
    for (let k = 0; k < count; k++) {
      const isWritable = k >= readable.length;
      const b = isWritable ? writable[k - readable.length]! : readable[k]!;
      const last = k + 1 === count;
      // Entries link by table index; never INDIRECT inside a table (§2.7.5.3.1).
      const flags = (isWritable ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT);
      writeTableEntry(table.view, k, b.phys, b.len, flags, last ? 0 : k + 1);
    }
    const head = takeDesc();
    // §2.7.5.3.1: INDIRECT alone: never with NEXT (nor WRITE).
    setDesc(head, table.phys, count * DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
    chainDescs[head] = 1;
    return head;
  }

  /** §2.7.13.1: readable buffers, then writable ones, linked by NEXT. */
  function addDirect(readable: readonly BufferRef[], writable: readonly BufferRef[]): number {
    const count = readable.length + writable.length;
    // The free stack's top `count` entries, last one first taken: the chain's ids.
    const base = freeCount - count;
    const ids = freeStack;
    for (let k = 0; k < count; k++) {
      const isWritable = k >= readable.length;
      const b = isWritable ? writable[k - readable.length]! : readable[k]!;
      const last = k + 1 === count;
      const id = ids[freeCount - 1 - k]!;
      const flags = (isWritable ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT);
      setDesc(id, b.phys, b.len, flags, last ? 0 : ids[freeCount - 2 - k]!);
      if (k > 0) descState[id] = LINK;
    }
    const head = ids[freeCount - 1]!;
    freeCount = base;
    chainDescs[head] = count;
    return head;
  }

  function takeDesc(): number {
    return freeStack[--freeCount]!;
  }

  /** Writes the shadow first, then copies it out: the table is never read back. */
  function setDesc(i: number, addr: number, len: number, flags: number, next: number): void {
    descAddr[i] = addr;
    descLen[i] = len;
    descFlags[i] = flags;
    descNext[i] = next;
    const high = addr < TWO_32 ? 0 : Math.floor(addr / TWO_32);
    const u32 = descU32;
    u32[i * 4] = addr - high * TWO_32; // le64 addr, low half
    u32[i * 4 + 1] = high; // le64 addr, high half
    u32[i * 4 + 2] = len; // le32 len
    descU16[i * 8 + 6] = flags; // le16 flags
    descU16[i * 8 + 7] = next; // le16 next
  }

  // ---- Receiving used buffers (§2.7.14) --------------------------------------------------

  function pop(): Completion<T> | null {
    if (!next()) return null;
    const token = tokenOf[takenHead] as T;
    finish(takenHead);
    return { token, len: takenLen };
  }

  /**
   * pop() without the completion object: the next used entry's token (validated as pop()
   * does), or undefined when the used ring is empty; its length is then `takenLength`.
   * For queues whose tokens are never undefined.
   */
  function take(): T | undefined {
    if (broken !== null || destroyed) {
      usable();
      return undefined;
    }
    const lastUsed = lastUsedIdx;
    if (usedSeen === lastUsed) {
      const usedIdx = usedU16[USED_IDX / 2]!; // le16 used->idx
      if (usedIdx === lastUsed) return undefined;
      // The idx may not run ahead of the chains the device holds (next() says so). Checked
      // once per read of the idx: each entry taken lowers both sides by one, and a post in
      // between raises neither side (it is pending until kick() publishes it).
      const ahead = (usedIdx - lastUsed) & 0xffff;
      if (ahead > size || ahead > inFlight - pendingCount) return takeChecked();
      // §2.7.14: read the idx, then the entries it covers (all of them, this time and
      // the next calls, until lastUsed catches up).
      barriers.rmb();
      usedSeen = usedIdx;
    }
    // The common case inline (a returned reserved chain, len within its writable bytes,
    // interrupts off as in a drain); anything else takes the general path with its
    // checks and error reports.
    const at = 1 + 2 * (lastUsed & mask); // usedElemOffset() / 4
    const id = usedU32[at]!; // le32 used_elem.id
    const len = usedU32[at + 1]!; // le32 used_elem.len
    if (id >= size || descState[id] !== HEAD_PUBLISHED || reserved[id] !== 1 || len > writableOf[id]! || (eventIdx && interruptsWanted)) {
      return takeChecked();
    }
    lastUsedIdx = (lastUsed + 1) & 0xffff;
    takenLen = len;
    const token = tokenOf[id];
    tokenOf[id] = undefined;
    descState[id] = RESERVED;
    inFlight--;
    completed++;
    return token;
  }

  /** take() by the general path: next() checks the entry and says what is wrong. */
  function takeChecked(): T | undefined {
    if (!next()) return undefined;
    const head = takenHead;
    const token = tokenOf[head];
    finish(head);
    return token;
  }

  /** The used length of the entry take() (or pop()) returned last. */
  function takenLength(): number {
    return takenLen;
  }

  /** Reads and checks the next used entry into takenHead / takenLen; false if none. */
  function next(): boolean {
    if (broken) throw broken;
    if (destroyed) usable();
    const usedIdx = usedU16[USED_IDX / 2]!; // le16 used->idx
    if (usedIdx === lastUsedIdx) return false;
    // §2.7.14: read the idx, then the entries it covers.
    barriers.rmb();
    const ahead = (usedIdx - lastUsedIdx) & 0xffff;
    const held = inFlight - pendingCount;
    if (ahead > size || ahead > held) {
      fail("BadUsedIdx", { usedIdx, lastUsed: lastUsedIdx, ahead, held },
        `used idx ${usedIdx} is ${ahead} ahead of ${lastUsedIdx}, device holds ${held} chain(s)`);
    }
    const at = 1 + 2 * (lastUsedIdx & mask); // usedElemOffset() / 4
    const id = usedU32[at]!; // le32 used_elem.id
    const len = usedU32[at + 1]!; // le32 used_elem.len
    checkUsed(id, len);
    usedSeen = usedIdx;
    lastUsedIdx = (lastUsedIdx + 1) & 0xffff;
    if (eventIdx && interruptsWanted) {
      // Ask for an interrupt at the next entry; the mb makes the new used_event visible
      // before the caller's next read of used idx, or an entry landing in between could
      // go without an interrupt (§2.7.10).
      availU16[usedEventAt] = lastUsedIdx; // le16 used_event
      barriers.mb();
    }
    takenHead = id;
    takenLen = len;
    return true;
  }

  function finish(head: number): void {
    release(head);
    completed++;
  }

  /** §2.7.8: id names the head of a chain the device holds; len ≤ its writable bytes. */
  function checkUsed(id: number, len: number): void {
    if (id >= size) {
      fail("BadUsedId", { id, size: size }, `used id ${id} out of range (queue size ${size})`);
    }
    const state = descState[id];
    if (state === HEAD_PUBLISHED) {
      const writable = writableOf[id]!;
      if (len > writable) {
        fail("BadUsedLength", { id, len, writable }, `used len ${len} for id ${id} exceeds its ${writable} writable bytes`);
      }
      return;
    }
    if (state === FREE || state === RESERVED) fail("NotInFlight", { id }, `used id ${id} is a free descriptor`);
    if (state === LINK) fail("NotAHead", { id }, `used id ${id} is inside a chain, not its head`);
    fail("NotPublished", { id }, `used id ${id} was never made available`);
  }

  function fail(kind: RingErrorKind, values: Record<string, number>, detail: string): never {
    broken = new RingError(kind, index, values, detail);
    throw broken;
  }

  /** Returns a chain's descriptors to the free list (a reserved chain stays reserved),
   * walking the shadow copy only. */
  function release(head: number): void {
    tokenOf[head] = undefined;
    inFlight--;
    if (reserved[head] === 1) {
      descState[head] = RESERVED;
      return;
    }
    const table = tables[head];
    if (table) {
      tables[head] = null;
      dma.free(table);
    }
    let i = head;
    for (let k = chainDescs[head]!; k > 0; k--) {
      const next = descNext[i]!;
      descState[i] = FREE;
      freeStack[freeCount++] = i;
      i = next;
    }
    chainDescs[head] = 0;
    writableOf[head] = 0;
  }

  // ---- Used buffer notification suppression (§2.7.7, §2.7.10) ---------------------------

  function enableInterrupts(): boolean {
    if (broken !== null || destroyed) usable();
    interruptsWanted = true;
    if (eventIdx) {
      availU16[usedEventAt] = lastUsedIdx; // le16 used_event
    } else {
      availU16[AVAIL_FLAGS / 2] = 0; // le16 avail->flags
    }
    // Re-check after the write is visible: an entry that came in between would otherwise
    // wait for an interrupt that is never sent (§2.7.14 note).
    barriers.mb();
    return usedU16[USED_IDX / 2] !== lastUsedIdx; // le16 used->idx
  }

  function disableInterrupts(): void {
    if (broken !== null || destroyed) usable();
    interruptsWanted = false;
    if (eventIdx) {
      // flags must stay 0 with EVENT_IDX (§2.7.10); an event index just behind the last
      // seen one is only reached after the idx wraps.
      availU16[usedEventAt] = (lastUsedIdx - 1) & 0xffff; // le16 used_event
    } else {
      availU16[AVAIL_FLAGS / 2] = VIRTQ_AVAIL_F_NO_INTERRUPT; // le16 avail->flags
    }
  }

  // ---- Bookkeeping ------------------------------------------------------------------------

  function stats(): VirtqueueStats {
    return { added: added, completed: completed, kicks: kicks, notifications: notifications };
  }

  /**
   * Takes back every chain not yet returned, in the order they were added, and puts the
   * ring back in its first state (areas zeroed, indices 0, reserved chains given back) so
   * the queue can be enabled again after a device reset. Works on a broken queue;
   * `broken` stays set.
   */
  function detachAll(): T[] {
    if (destroyed) return [];
    const heads: number[] = [];
    for (let i = 0; i < size; i++) {
      if (descState[i] === HEAD_PENDING || descState[i] === HEAD_PUBLISHED) heads.push(i);
    }
    heads.sort((a, b) => seq[a]! - seq[b]!);
    const tokens = heads.map((h) => tokenOf[h] as T);
    for (const h of heads) release(h);
    resetFreeList();
    descState.fill(FREE);
    reserved.fill(0);
    chainUnset.fill(0);
    chainDescs.fill(0);
    writableOf.fill(0);
    descAddr.fill(0);
    descLen.fill(0);
    descFlags.fill(0);
    descNext.fill(0);
    pendingCount = 0;
    availIdx = 0;
    lastUsedIdx = 0;
    usedSeen = 0;
    interruptsWanted = true;
    for (const b of ringAreas!.blocks) b.bytes.fill(0);
    // The zeroed areas visible before the MMIO writes that hand them to the device again.
    barriers.wmb();
    return tokens;
  }

  /** Frees the rings and any indirect tables in flight. Safe to call twice. */
  function destroy(): void {
    if (destroyed) return;
    for (let i = 0; i < size; i++) {
      const table = tables[i];
      if (table) dma.free(table);
      tables[i] = null;
      tokenOf[i] = undefined;
    }
    for (const b of ringAreas!.blocks) dma.free(b);
    ringAreas = null;
    destroyed = true;
    inFlight = 0;
    freeCount = 0;
  }

  /** The areas, or the reason the queue can no longer be used. */
  function usable(): RingAreas {
    if (broken) throw broken;
    if (destroyed || ringAreas === null) {
      throw new RingUsageError("Destroyed", `virtqueue ${index} was destroyed`);
    }
    return ringAreas;
  }

  function resetFreeList(): void {
    // Descriptor 0 on top, so a fresh queue hands out 0, 1, 2, ...
    for (let k = 0; k < size; k++) freeStack[k] = size - 1 - k;
    freeCount = size;
  }

  return {
    addresses,
    freeCount: () => freeCount,
    inFlight: () => inFlight,
    broken: () => broken,
    pendingCount: () => pendingCount,
    add,
    reserveChain,
    reserveChainOf,
    setChainBuffer,
    addReserved,
    postReserved,
    tryPostReserved,
    hasUsed,
    kick,
    pop,
    take,
    takenLength,
    enableInterrupts,
    disableInterrupts,
    stats,
    detachAll,
    destroy,
  };
}
