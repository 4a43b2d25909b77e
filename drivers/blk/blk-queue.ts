// The block driver's request engine over its one virtqueue (VIRTIO 1.2 §5.2.6): request
// slots (a 16-byte header and a status byte each, in one DMA block), a chain per slot
// prepared once at attach (header, data, status: per request only the data descriptor,
// the type and the sector change), completions checked and settled straight from the
// used ring, and one watchdog sweep for every request in flight (no timer per request).
//
// Ownership (§2.7.4, §2.4): a slot, and whatever memory its request points at, belongs
// to the device from posting until the device returns the chain or is reset. A request
// that times out, or is failed because the ring broke, keeps its slot until then; only
// its caller hears at once (or, for a timeout, once the reset took the chain back).
//
// Written as closures over local variables, not a class: XS finds a private field by
// walking the instance's field list (~2-4 us per access under TCG), a closure variable
// by index (~0.7 us), and a request touches this state ~60 times. That is also why it is
// one file of ~600 lines: the hot path, the completions, the general path and the
// watchdog share the slot state, which a split into modules would turn into property
// look-ups per request. Its types are in blk-queue-types.ts.

import type { DmaBuffer, TimerId } from "../../platform/platform.js";
import { QueueFullError } from "../../ring/errors.js";
import { hasFixedChains, type BufferRef, type FixedChainQueue, type ReservedHotPath } from "../../ring/virtqueue.js";
import { MAX_EMPTY_RECHECKS } from "../virtio/drain.js";
import { RequestTimeoutError } from "../virtio/errors.js";
import { BlkRequestType, BlkStatus, REQUEST_HEADER_SIZE, SECTOR_SIZE } from "./blk-spec.js";
import type { BlockBuffer } from "./block-types.js";
import type { FastPath } from "./fast-path.js";
import { BlkStatusError, BlkUsedLengthError } from "./errors.js";
import type { BlkQueue, BlkQueueOptions, SlotClient } from "./blk-queue-types.js";

export type { BlkQueue, BlkQueueOptions, SlotClient } from "./blk-queue-types.js";

/** Per-slot bookkeeping as plain arrays: an element access costs XS a tenth of a typed array's. */
const filled = (n: number, value: number): number[] => new Array<number>(n).fill(value);

/** Most rounds of the depth-1 poll, whatever the clock says. */
const MAX_POLL_ROUNDS = 4096;

/** One settled promise to hang promise jobs on (Promise.resolve() costs XS ~5 us a call). */
const RESOLVED = Promise.resolve();

/** The request types and the status the hot path tests, as module constants (a property
 * of the spec's objects costs XS a look-up each time). */
const IN = BlkRequestType.IN;
const STATUS_OK = BlkStatus.OK;

/** Bytes per slot: the header, then the status byte, rounded up to 32. */
const SLOT_STRIDE = 32;
const STATUS_OFFSET = REQUEST_HEADER_SIZE;
const TWO_32 = 0x1_0000_0000;

/** Slot states. */
const FREE = 0;
/** Posted (or about to be); the device may hold it. */
const BUSY = 1;
/** Its caller was told (a timeout, a broken ring) but the device may still hold it: kept
 * until the device returns the chain or is reset. */
const HELD = 2;

export function createBlkQueue(options: BlkQueueOptions): BlkQueue {
  const n = options.slots;
  const stats = options.stats;
  const location = options.location;
  const queue = options.queue;
  const timers = options.platform.timers;
  const clock = options.platform.clock;
  const fixed: FixedChainQueue<number> | null = options.fixedChains && hasFixedChains(queue) ? queue : null;
  /** The ring's per-request functions (no method look-ups on the queue object). */
  const hot: ReservedHotPath<number> | null = fixed !== null ? fixed.hotPath() : null;
  const block = options.platform.dma.alloc(n * SLOT_STRIDE, 16);
  /** The slot block as le32 words (CPU order: the ring already requires little-endian). */
  const words = new Uint32Array(block.view.buffer, block.view.byteOffset, (n * SLOT_STRIDE) >> 2);
  const bytes = block.bytes;

  const state = filled(n, FREE);
  /** Free slots in the order they came back (a ring of n entries): a caller that reposts
   * the buffer whose request just completed gets the slot whose chain already points at
   * it (nothing to check or write in the descriptor), at any depth. */
  const free = filled(n, 0);
  let freeHead = 0;
  let freeCount = n;
  const heads = filled(n, -1);
  const type = filled(n, -1);
  const sectorHigh = filled(n, 0); // the block starts zeroed
  const expectIn = filled(n, 0);
  const dataLen = filled(n, 0);
  const stamp = filled(n, 0);
  const resolves: (((value: unknown) => void) | null)[] = new Array(n).fill(null);
  const rejects: (((error: Error) => void) | null)[] = new Array(n).fill(null);
  const values: unknown[] = new Array(n).fill(undefined);
  const clients: (SlotClient | null)[] = new Array(n).fill(null);
  const heldError: (Error | null)[] = new Array(n).fill(null);
  const settled = filled(n, 0);
  const headerRefs: BufferRef[] = [];
  const statusRefs: BufferRef[] = [];
  const slotWaiters: { resolve(slot: number): void; reject(error: Error): void }[] = [];
  const roomWaiters: (() => boolean)[] = [];
  let busy = 0;
  let unkicked = 0;
  let kickScheduled = false;
  /** The depth-1 poll left used-buffer interrupts off (the device held nothing when its
   * answer came); kickNow() turns them on before it publishes anything. */
  let interruptsOff = false;
  /** publishAlone() published a request alone on the device; kickJob() polls for it. */
  let pollPending = false;
  const pollMs = options.pollMs;
  /** A deadline applies (timeoutMs > 0). */
  const timed = options.timeoutMs > 0;
  let failure: Error | null = null;
  let closed: Error | null = null;

  // The watchdog sweep: one repeating timer while anything is out. A quarter of the
  // timeout, within 1..100 ms: a lost notification costs little time.
  const interval = Math.max(1, Math.min(100, Math.floor(options.timeoutMs / 4)));
  const ticksToExpire = Math.ceil(options.timeoutMs / interval);
  let ticks = 0;
  let timer: TimerId | null = null;
  let sweeping = false;

  bytes.fill(0);
  for (let s = 0; s < n; s++) {
    const phys = block.phys + s * SLOT_STRIDE;
    headerRefs.push({ phys, len: REQUEST_HEADER_SIZE });
    statusRefs.push({ phys: phys + STATUS_OFFSET, len: 1 });
    free[s] = s; // slot 0 first
  }
  if (fixed !== null) {
    for (let s = 0; s < n; s++) {
      // §5.2.6: header (device-readable), data, status (device-writable). The data
      // descriptor starts on the status byte; every request points it at its data.
      // One call per chain: each descriptor written once (boot time: 32 chains a device).
      const status = statusRefs[s]!;
      heads[s] = fixed.reserveChainOf([headerRefs[s]!], [status, status]);
    }
  }

  // ---- the fast path: one data buffer, settled straight from the used ring ----

  /** The ring's per-request functions as locals: no look-up on the hot-path object. */
  const tryPost = hot !== null ? hot.tryPostReserved : null;
  const takeUsed = hot !== null ? hot.take : null;
  const takenLength = hot !== null ? hot.takenLength : null;
  /** What the hot path may take (configureFast()): 0 sectors while it is off. */
  let fastSectors = 0;
  let fastCapacity = 0;
  let fastReadOnly = true;
  /** The hot path's counters, added to `stats` by syncStats() (a closure variable costs
   * XS less than an object's property). */
  let fastRequests = 0;
  let fastBytesRead = 0;
  let fastBytesWritten = 0;
  // The Promise executor, made once: no closure per request.
  let gotResolve: ((value: unknown) => void) | null = null;
  let gotReject: ((error: Error) => void) | null = null;
  const grab = (resolve: (value: unknown) => void, reject: (error: Error) => void): void => {
    gotResolve = resolve;
    gotReject = reject;
  };

  /** A read of `count` sectors at `lba` into DMA memory: a range inside the disk, at most
   * one data descriptor, a DMA buffer big enough (typeof phys first: cheaper than
   * instanceof on XS). `(x >>> 0) === x`: a number, an integer, 0 <= x < 2^32, in one
   * test (a larger LBA goes the general path). Returned value: the buffer's bytes, cut
   * to the read. */
  function fastRead(lba: number, count: number, into: BlockBuffer | undefined): Promise<Uint8Array> | null {
    if (freeCount === 0 || into === undefined || (lba >>> 0) !== lba || (count >>> 0) !== count ||
      count === 0 || count > fastSectors || lba + count > fastCapacity) return null;
    const phys = (into as DmaBuffer).phys;
    const size = (into as DmaBuffer).size;
    const len = count * SECTOR_SIZE;
    if (typeof phys !== "number" || !(size >= len)) return null;
    const bytes = (into as DmaBuffer).bytes;
    if (!(bytes instanceof Uint8Array)) return null;
    // A DmaBuffer's bytes are exactly `size` long (platform.ts).
    return start(BlkRequestType.IN, lba, phys, len, size === len ? bytes : bytes.subarray(0, len)) as Promise<Uint8Array>;
  }

  /** A write of a whole DMA buffer at `lba`, as fastRead() checks it. */
  function fastWrite(lba: number, data: BlockBuffer): Promise<void> | null {
    if (freeCount === 0 || fastReadOnly) return null;
    const phys = (data as DmaBuffer).phys;
    const size = (data as DmaBuffer).size;
    if (typeof phys !== "number" || (lba >>> 0) !== lba) return null;
    const count = size / SECTOR_SIZE;
    if ((count >>> 0) !== count || count === 0 || count > fastSectors || lba + count > fastCapacity ||
      !((data as DmaBuffer).bytes instanceof Uint8Array)) return null;
    return start(BlkRequestType.OUT, lba, phys, count * SECTOR_SIZE, undefined) as Promise<void>;
  }

  /**
   * Posts one IN or OUT request of `len` bytes at DMA address `phys` on the next free
   * slot (freeCount > 0, checked by the caller); its promise resolves to `value` once the
   * device answered and the used length and status were checked. A buffer the ring
   * refuses (outside the DMA pool) is a rejected promise, nothing taken; no try: the
   * ring returns its refusal. (A failed queue turned the hot path off: ringFailed().)
   */
  function start(kind: number, sector: number, phys: number, len: number, value: unknown): Promise<unknown> {
    const at = freeHead;
    const slot = free[at]!;
    const isRead = kind === IN;
    // Checked by the ring (the buffer lies in the DMA pool) before anything is taken.
    const refused = tryPost!(heads[slot]!, phys, len, isRead, slot);
    if (refused !== null) return Promise.reject(refused);
    freeHead = at + 1 === n ? 0 : at + 1;
    freeCount--;
    // writeHeader() inline: le32 type, le64 sector (reserved stays 0), status byte 0xff.
    const w = slot * (SLOT_STRIDE >> 2);
    if (type[slot] !== kind) {
      words[w] = kind; // type, le32
      type[slot] = kind;
    }
    // sector < 2^32 (fastRead/fastWrite): only the low half changes, if the high one is 0.
    if (sectorHigh[slot] === 0) words[w + 2] = sector; // sector, le64 (low)
    else writeHeader(slot, kind, sector);
    bytes[slot * SLOT_STRIDE + STATUS_OFFSET] = 0xff; // status, u8
    state[slot] = BUSY;
    dataLen[slot] = len; // (no expectIn: completed() works it out from type and dataLen)
    const promise = new Promise(grab);
    resolves[slot] = gotResolve;
    rejects[slot] = gotReject;
    values[slot] = value;
    fastRequests++;
    // posted() inline (busy: the chains the device holds or will, as the ring's inFlight).
    stamp[slot] = ticks;
    busy++;
    unkicked++;
    if (timer === null && timed) timer = timers.repeat(sweep, interval);
    if (kickScheduled || (busy - unkicked) * 2 >= n) return promise;
    // Alone on the device, right after a polled answer (depth 1: interrupts still off):
    // published now, so the device starts while the promise job that polls for the
    // answer is still to come. (Not for the first of a burst: a request sent ahead of
    // the others left depth 32 at 7,000-11,000 reads/s against 10,000-12,600 when tried.)
    if (busy === 1 && interruptsOff) publishAlone(hot!);
    kickScheduled = true;
    void RESOLVED.then(kickJob);
    return promise;
  }

  const fastPath: FastPath = { read: fastRead, write: fastWrite };

  function configureFast(maxSectors: number, capacity: number, readOnly: boolean): void {
    fastSectors = hot !== null && closed === null && failure === null ? maxSectors : 0;
    fastCapacity = capacity;
    fastReadOnly = readOnly;
  }

  function syncStats(): void {
    stats.requests += fastRequests;
    stats.sectorsRead += fastBytesRead / SECTOR_SIZE;
    stats.sectorsWritten += fastBytesWritten / SECTOR_SIZE;
    fastRequests = 0;
    fastBytesRead = 0;
    fastBytesWritten = 0;
  }

  // ---- the general path ----

  function take(): number {
    if (closed !== null) throw closed;
    if (freeCount === 0) return -1;
    const at = freeHead;
    freeHead = at + 1 === n ? 0 : at + 1;
    freeCount--;
    return free[at]!;
  }

  function waitSlot(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (closed !== null) return reject(closed);
      if (failure !== null) return reject(failure);
      slotWaiters.push({ resolve, reject });
    });
  }

  function submit(slot: number, kind: number, sector: number, readable: readonly BufferRef[], writable: readonly BufferRef[], expect: number, client: SlotClient): void {
    writeHeader(slot, kind, sector);
    state[slot] = BUSY;
    expectIn[slot] = expect;
    clients[slot] = client;
    const chainR = [headerRefs[slot]!, ...readable];
    const chainW = [...writable, statusRefs[slot]!];
    const place = (): boolean => {
      if (failure !== null) {
        settleSlot(slot, failure, 0);
        releaseSlot(slot);
        return true;
      }
      try {
        queue.add(chainR, chainW, slot);
      } catch (error) {
        if (error instanceof QueueFullError && queue.inFlight > 0) return false;
        const e = error instanceof Error ? error : new Error(String(error));
        if (e === queue.broken) ringFailed(e);
        settleSlot(slot, e, 0);
        releaseSlot(slot);
        return true;
      }
      posted(slot);
      return true;
    };
    if (roomWaiters.length > 0 || !place()) roomWaiters.push(place);
  }

  function flush(): void {
    if (unkicked > 0) kickNow();
  }

  function abandon(slot: number, error: Error): void {
    if (state[slot] !== BUSY) return;
    state[slot] = HELD;
    heldError[slot] = error;
    settleSlot(slot, error, 0);
  }

  // ---- completions ----

  function drain(): number {
    if (failure !== null || closed !== null) return 0;
    interruptsOff = false; // the drain ends with them on (or the queue failed)
    let done = 0;
    let emptyRechecks = 0;
    try {
      for (;;) {
        if (hot !== null) hot.disableInterrupts();
        else queue.disableInterrupts();
        const before = done;
        if (takeUsed !== null) {
          for (let slot = takeUsed(); slot !== undefined; slot = takeUsed()) {
            completed(slot, takenLength!());
            done++;
          }
        } else {
          for (let c = queue.pop(); c !== null; c = queue.pop()) {
            completed(c.token, c.len);
            done++;
          }
        }
        emptyRechecks = done === before ? emptyRechecks + 1 : 0;
        if (done - before > 1 && !kickScheduled) {
          // Several callers may post again as their promises settle: one kick for them all.
          kickScheduled = true;
          void RESOLVED.then(kickJob);
        }
        if (roomWaiters.length > 0 && done > before) retryRoom();
        // §2.7.14: re-enable, then look again; bounded by the chains in flight and by
        // MAX_EMPTY_RECHECKS rounds that find nothing (a used idx that flips).
        if (!(hot !== null ? hot.enableInterrupts() : queue.enableInterrupts()) || emptyRechecks >= MAX_EMPTY_RECHECKS) break;
      }
    } catch (error) {
      ringFailed(error instanceof Error ? error : new Error(String(error)));
    }
    if (unkicked > 0 && !kickScheduled) kickNow();
    return done;
  }

  function close(error: Error): void {
    if (closed !== null) return;
    closed = error;
    fastSectors = 0;
    syncStats();
    stop();
    for (let slot = 0; slot < n; slot++) {
      if (state[slot] === FREE) continue;
      settleSlot(slot, heldError[slot] ?? error, 0);
      releaseSlot(slot);
    }
    roomWaiters.length = 0; // their slots were settled and released above
    for (const waiter of slotWaiters.splice(0)) waiter.reject(error);
    options.platform.dma.free(block);
  }

  function failHeld(): void {
    let error: Error | null = null;
    for (let slot = 0; slot < n; slot++) {
      if (state[slot] !== HELD) continue;
      error = heldError[slot] ?? new RequestTimeoutError(location, options.timeoutMs);
      settleSlot(slot, error, 0);
    }
    // Held slots come back only with a reset that did not happen: a request waiting for
    // one would wait for ever (found by the fuzzer, tests/fuzz).
    if (error !== null) for (const waiter of slotWaiters.splice(0)) waiter.reject(error);
  }

  // ---- internals ----

  /** Writes the request header (§5.2.6: le32 type, le32 reserved = 0, le64 sector) and
   * sets the status byte to 0xff, a value no device returns. */
  function writeHeader(slot: number, kind: number, sector: number): void {
    const w = slot * (SLOT_STRIDE >> 2);
    if (type[slot] !== kind) {
      words[w] = kind; // type, le32
      type[slot] = kind;
    }
    const high = sector < TWO_32 ? 0 : Math.floor(sector / TWO_32);
    words[w + 2] = sector - high * TWO_32; // sector, le64 (low)
    if (sectorHigh[slot] !== high) {
      words[w + 3] = high; // sector, le64 (high)
      sectorHigh[slot] = high;
    }
    bytes[slot * SLOT_STRIDE + STATUS_OFFSET] = 0xff; // status, u8
  }

  function posted(slot: number): void {
    stamp[slot] = ticks;
    busy++;
    unkicked++;
    if (timer === null && timed) timer = timers.repeat(sweep, interval);
    // Everything posted in this turn (or by the callers a drain just settled) goes with
    // one kick from a promise job (batching); while the device still holds half the
    // slots or more, the next drain (their interrupt) publishes it: fewer notifications.
    if (kickScheduled || (queue.inFlight - unkicked) * 2 >= n) return;
    kickScheduled = true;
    void RESOLVED.then(kickJob);
  }

  function kickJob(): void {
    kickScheduled = false;
    if (pollPending) {
      pollPending = false;
      // More requests came in the same turn: they go with one kick, interrupts on.
      if (unkicked > 0) kickNow();
      else if (failure === null && closed === null) poll(hot!);
      return;
    }
    if (unkicked === 0) return;
    // One request and the device held nothing else (depth 1): kick and poll for it.
    if (unkicked === 1 && hot !== null && hot.inFlight() === 1 && pollMs > 0) kickAndPoll(hot);
    else kickNow();
  }

  /**
   * Depth 1 (the device holds only this request): kick with used-buffer interrupts off
   * and watch the used ring for up to pollMs, as Linux's hybrid polling does; back in
   * time, it is taken here (no interrupt, no InterruptStatus read and ack), and if the
   * device then holds nothing, interrupts stay off until kickNow() or a drain turns them
   * on (the next request at depth 1 polls again: no enable and re-check in between).
   * Otherwise interrupts go back on with the re-check of §2.7.14 and the request sleeps
   * on them.
   */
  function kickAndPoll(q: ReservedHotPath<number>): void {
    unkicked = 0;
    if (failure !== null || closed !== null) return;
    try {
      q.disableInterrupts(); // a hint (§2.7.10): the device may still interrupt
      interruptsOff = true;
      q.kick();
    } catch (error) {
      ringFailed(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    poll(q);
  }

  /** kickAndPoll()'s first half, from start(): the poll follows in kickJob(). */
  function publishAlone(q: ReservedHotPath<number>): void {
    unkicked = 0;
    try {
      q.disableInterrupts(); // a hint (§2.7.10): the device may still interrupt
      interruptsOff = true;
      q.kick();
      pollPending = true;
    } catch (error) {
      ringFailed(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Watches the used ring for the request kickAndPoll() or publishAlone() published. */
  function poll(q: ReservedHotPath<number>): void {
    try {
      // (Taken meanwhile, by a drain: nothing to wait for.)
      if (q.inFlight() === 0) return;
      const until = clock.now() + pollMs;
      // Bounded in time and in rounds (a clock that does not move, virtual time in tests).
      for (let i = 1; i <= MAX_POLL_ROUNDS; i++) {
        if (q.hasUsed()) {
          // Takes and checks the entry; the device holds nothing more: done, interrupts
          // off. (The resolved caller posts again from a promise job, after this.)
          for (let slot = takeUsed!(); slot !== undefined; slot = takeUsed!()) completed(slot, takenLength!());
          if (q.inFlight() === 0 && unkicked === 0) return;
          drain(); // anything else: interrupts back on with the re-check
          return;
        }
        if ((i & 7) === 0 && clock.now() >= until) break;
      }
      interruptsOff = false;
      if (q.enableInterrupts()) drain();
    } catch (error) {
      ringFailed(error instanceof Error ? error : new Error(String(error)));
    }
  }

  function kickNow(): void {
    unkicked = 0;
    if (failure !== null || closed !== null) return;
    try {
      if (interruptsOff) {
        // Left off by the poll with nothing out: on before anything is published, so
        // the device sees them on when it uses the buffers (§2.7.10).
        interruptsOff = false;
        if (hot !== null) hot.enableInterrupts();
        else queue.enableInterrupts();
      }
      if (hot !== null) hot.kick();
      else queue.kick();
    } catch (error) {
      ringFailed(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** One used entry: its slot was in flight (the ring checked id and len ≤ offered). */
  function completed(slot: number, len: number): void {
    // §5.2.6: the status byte is the last writable byte: used len must cover it and the
    // data of a read before it; the status must be OK.
    if (clients[slot] === null && state[slot] === BUSY) {
      // The hot path's request: counted once it came back good, settled and freed here.
      const data = dataLen[slot]!;
      const isRead = type[slot] === IN;
      if (len > (isRead ? data : 0) && bytes[slot * SLOT_STRIDE + STATUS_OFFSET] === STATUS_OK) {
        if (isRead) fastBytesRead += data;
        else fastBytesWritten += data;
        const resolve = resolves[slot];
        resolves[slot] = null; // settled (settleSlot() tests it); reject and value are overwritten by the next post
        state[slot] = FREE;
        busy--;
        if (slotWaiters.length === 0) {
          // pushFree() inline.
          let tail = freeHead + freeCount++;
          if (tail >= n) tail -= n;
          free[tail] = slot;
        } else slotWaiters.shift()!.resolve(slot);
        if (resolve !== null) resolve(values[slot]);
        return;
      }
    }
    if (state[slot] === HELD) {
      // The device gave back a chain whose caller was already told: now it is ours again.
      settleSlot(slot, heldError[slot] ?? null, len);
      releaseSlot(slot);
      return;
    }
    // The hot path stores no expectIn: a read expects its data, a write nothing.
    const expected = (clients[slot] === null ? (type[slot] === IN ? dataLen[slot]! : 0) : expectIn[slot]!) + 1;
    let error: Error;
    if (len < expected) error = new BlkUsedLengthError(location, type[slot]!, sectorOf(slot), len, expected);
    else {
      const status = bytes[slot * SLOT_STRIDE + STATUS_OFFSET]!;
      if (status === STATUS_OK) {
        // A general-path request that came back good.
        settleSlot(slot, null, len);
        releaseSlot(slot);
        return;
      }
      error = new BlkStatusError(location, type[slot]!, sectorOf(slot), status);
    }
    stats.failures++;
    settleSlot(slot, error, len);
    releaseSlot(slot);
  }

  function sectorOf(slot: number): number {
    const w = slot * (SLOT_STRIDE >> 2);
    return words[w + 2]! + words[w + 3]! * TWO_32; // sector, le64
  }

  /** Tells the slot's caller, once. */
  function settleSlot(slot: number, error: Error | null, len: number): void {
    if (settled[slot] === 1) return;
    settled[slot] = 1;
    const client = clients[slot];
    if (client !== null) {
      client.settle(error, len);
      return;
    }
    const resolve = resolves[slot];
    const reject = rejects[slot];
    if (resolve === null || reject === null) return;
    const value = values[slot];
    resolves[slot] = null;
    rejects[slot] = null;
    values[slot] = undefined;
    if (error === null) resolve(value);
    else reject(error);
  }

  /** The device no longer holds the slot's chain: the slot and its memory are free. */
  function releaseSlot(slot: number): void {
    const client = clients[slot];
    clients[slot] = null;
    heldError[slot] = null;
    settled[slot] = 0;
    state[slot] = FREE;
    busy--;
    if (client !== null) client.release();
    freeSlot(slot);
  }

  function freeSlot(slot: number): void {
    if (closed !== null) return;
    if (slotWaiters.length === 0) pushFree(slot);
    else slotWaiters.shift()!.resolve(slot);
  }

  /** The slot goes to the back of the free ring. */
  function pushFree(slot: number): void {
    let tail = freeHead + freeCount++;
    if (tail >= n) tail -= n;
    free[tail] = slot;
  }

  function retryRoom(): void {
    while (roomWaiters.length > 0) {
      if (!roomWaiters[0]!()) break;
      roomWaiters.shift();
    }
  }

  /** The ring broke: every request is held with the error, and its caller hears it once
   * the device was reset (close()) or, if the reset fails, from failHeld(): until then
   * the device may still write the memory its chains point at (§2.4), the caller's own
   * DMA memory included (onRingError asks for that reset). */
  function ringFailed(error: Error): void {
    if (failure === null) failure = error;
    fastSectors = 0; // the hot path off: the general path refuses with the error
    for (let slot = 0; slot < n; slot++) {
      if (state[slot] !== BUSY && state[slot] !== HELD) continue;
      state[slot] = HELD;
      if (heldError[slot] === null) heldError[slot] = error;
    }
    for (const place of roomWaiters.splice(0)) place();
    // The held slots come back only with a reset: a request waiting for one would wait
    // for ever (found by the fuzzer, tests/fuzz).
    for (const waiter of slotWaiters.splice(0)) waiter.reject(error);
    options.onRingError(error);
  }

  function sweep(): void {
    if (sweeping) return;
    sweeping = true;
    try {
      ticks++;
      const polled = drain();
      if (polled > 0) options.onPolled(polled);
      let expired = 0;
      for (let slot = 0; slot < n; slot++) {
        if (state[slot] !== BUSY || ticks - stamp[slot]! <= ticksToExpire) continue;
        state[slot] = HELD;
        heldError[slot] = new RequestTimeoutError(location, options.timeoutMs);
        expired++;
      }
      if (busy === 0) stop();
      if (expired > 0) options.onExpired(expired);
    } finally {
      sweeping = false;
    }
  }

  function stop(): void {
    if (timer === null) return;
    timers.clear(timer);
    timer = null;
  }

  return {
    slotCount: n,
    queue,
    get failure() {
      return failure;
    },
    get busy() {
      return busy;
    },
    get freeSlots() {
      return closed === null ? freeCount : 0;
    },
    fast: fixed !== null,
    fastPath,
    configureFast,
    syncStats,
    take,
    waitSlot,
    giveBack: freeSlot,
    submit,
    flush,
    abandon,
    drain,
    close,
    failHeld,
  };
}
