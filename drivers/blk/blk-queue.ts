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

import type { Platform, TimerId } from "../../platform/platform.js";
import { QueueFullError } from "../../ring/errors.js";
import { hasFixedChains, type BufferRef, type FixedChainQueue, type Virtqueue } from "../../ring/virtqueue.js";
import { MAX_EMPTY_RECHECKS } from "../virtio/drain.js";
import { RequestTimeoutError } from "../virtio/errors.js";
import { BlkRequestType, BlkStatus, REQUEST_HEADER_SIZE } from "./blk-spec.js";
import { BlkStatusError, BlkUsedLengthError } from "./errors.js";

/** Per-slot bookkeeping as plain arrays: an element access costs XS a tenth of a typed array's. */
const filled = (n: number, value: number): number[] => new Array<number>(n).fill(value);

/** Most rounds of the depth-1 poll, whatever the clock says. */
const MAX_POLL_ROUNDS = 4096;

/** One settled promise to hang promise jobs on (Promise.resolve() costs XS ~5 us a call). */
const RESOLVED = Promise.resolve();

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

/** A request on the general path: told its outcome once, released once the device no
 * longer holds its buffers. */
export interface SlotClient {
  /** The outcome: null and the used length, or the error. Called at most once. */
  settle(error: Error | null, len: number): void;
  /** The device gave the chain back or was reset: memory the request used may be reused. */
  release(): void;
}

export interface BlkQueueOptions {
  readonly platform: Pick<Platform, "dma" | "timers" | "clock">;
  readonly location: string;
  readonly queue: Virtqueue<number>;
  readonly slots: number;
  /** Reserve a 3-descriptor chain per slot (the queue has room for them and the rest). */
  readonly fixedChains: boolean;
  /** Counters kept across re-initializations (the BlockDevice's). */
  readonly stats: { failures: number; sectorsRead: number; sectorsWritten: number };
  /** How long to watch the used ring after posting at depth 1 before sleeping on the
   * interrupt, in ms (0: never poll). */
  readonly pollMs: number;
  /** 0: no deadline. */
  readonly timeoutMs: number;
  /** `count` requests passed their deadline (their slots are held). */
  readonly onExpired: (count: number) => void;
  /** The ring broke: every request was failed with `error`. */
  readonly onRingError: (error: Error) => void;
  /** Completions found by the watchdog's poll. */
  readonly onPolled: (count: number) => void;
}

export class BlkQueue {
  readonly slotCount: number;
  readonly #queue: Virtqueue<number>;
  readonly #fixed: FixedChainQueue<number> | null;
  readonly #opts: BlkQueueOptions;
  readonly #stats: BlkQueueOptions["stats"];
  readonly #block;
  /** The slot block as le32 words (CPU order: the ring already requires little-endian). */
  readonly #words: Uint32Array;
  readonly #bytes: Uint8Array;

  readonly #state: number[];
  /** Free slots in the order they came back (a ring of slotCount entries): a caller that
   * reposts the buffer whose request just completed gets the slot whose chain already
   * points at it (nothing to check or write in the descriptor), at any depth. */
  readonly #free: number[];
  #freeHead = 0;
  #freeCount: number;
  readonly #heads: number[];
  readonly #type: number[];
  readonly #sectorHigh: number[];
  readonly #expectIn: number[];
  readonly #dataLen: number[];
  readonly #stamp: number[];
  readonly #resolve: (((value: unknown) => void) | null)[];
  readonly #reject: (((error: Error) => void) | null)[];
  readonly #value: unknown[];
  readonly #client: (SlotClient | null)[];
  readonly #heldError: (Error | null)[];
  readonly #headerRefs: BufferRef[];
  readonly #statusRefs: BufferRef[];
  readonly #settled: number[];
  readonly #slotWaiters: { resolve(slot: number): void; reject(error: Error): void }[] = [];
  readonly #roomWaiters: (() => boolean)[] = [];
  #busy = 0;
  #unkicked = 0;
  #kickScheduled = false;
  readonly #pollMs: number;
  /** A deadline applies (timeoutMs > 0). */
  readonly #timed: boolean;
  #failure: Error | null = null;
  #closed: Error | null = null;

  // The watchdog sweep: one repeating timer while anything is out.
  readonly #interval: number;
  readonly #ticksToExpire: number;
  #ticks = 0;
  #timer: TimerId | null = null;
  #sweeping = false;

  constructor(options: BlkQueueOptions) {
    const n = options.slots;
    this.#opts = options;
    this.#stats = options.stats;
    this.slotCount = n;
    this.#queue = options.queue;
    this.#fixed = options.fixedChains && hasFixedChains(options.queue) ? options.queue : null;
    const block = options.platform.dma.alloc(n * SLOT_STRIDE, 16);
    this.#block = block;
    this.#words = new Uint32Array(block.view.buffer, block.view.byteOffset, (n * SLOT_STRIDE) >> 2);
    this.#bytes = block.bytes;
    this.#state = filled(n, 0);
    this.#free = filled(n, 0);
    this.#heads = filled(n, -1);
    this.#type = filled(n, -1);
    this.#sectorHigh = filled(n, 0); // the block starts zeroed
    this.#expectIn = filled(n, 0);
    this.#dataLen = filled(n, 0);
    this.#stamp = filled(n, 0);
    this.#resolve = new Array(n).fill(null);
    this.#reject = new Array(n).fill(null);
    this.#value = new Array(n).fill(undefined);
    this.#client = new Array(n).fill(null);
    this.#heldError = new Array(n).fill(null);
    this.#settled = filled(n, 0);
    this.#headerRefs = [];
    this.#statusRefs = [];
    block.bytes.fill(0);
    for (let s = 0; s < n; s++) {
      const phys = block.phys + s * SLOT_STRIDE;
      this.#headerRefs.push({ phys, len: REQUEST_HEADER_SIZE });
      this.#statusRefs.push({ phys: phys + STATUS_OFFSET, len: 1 });
      this.#free[s] = s; // slot 0 first
    }
    this.#freeCount = n;
    const fixed = this.#fixed;
    if (fixed !== null) {
      for (let s = 0; s < n; s++) {
        // §5.2.6: header (device-readable), data, status (device-writable). The data
        // descriptor starts on the status byte; every request points it at its data.
        const head = fixed.reserveChain(3);
        const phys = block.phys + s * SLOT_STRIDE;
        fixed.setChainBuffer(head, 0, phys, REQUEST_HEADER_SIZE, false);
        fixed.setChainBuffer(head, 1, phys + STATUS_OFFSET, 1, true);
        fixed.setChainBuffer(head, 2, phys + STATUS_OFFSET, 1, true);
        this.#heads[s] = head;
      }
    }
    this.#pollMs = options.pollMs;
    this.#timed = options.timeoutMs > 0;
    const t = options.timeoutMs;
    // A quarter of the timeout, within 1..100 ms: a lost notification costs little time.
    this.#interval = Math.max(1, Math.min(100, Math.floor(t / 4)));
    this.#ticksToExpire = Math.ceil(t / this.#interval);
  }

  get queue(): Virtqueue<number> {
    return this.#queue;
  }

  /** The error that stopped this queue (the ring broke), if any. */
  get failure(): Error | null {
    return this.#failure;
  }

  get busy(): number {
    return this.#busy;
  }

  /** Slots free now. */
  get freeSlots(): number {
    return this.#closed === null ? this.#freeCount : 0;
  }

  /** True if the fast path (reserved chains) is on. */
  get fast(): boolean {
    return this.#fixed !== null;
  }

  // ---- the fast path: one data buffer, settled straight from the used ring ----

  /**
   * Posts one IN or OUT request of `len` bytes at DMA address `phys`; `resolve(value)` or
   * `reject(error)` once the device answered and the used length and status were checked.
   * True when posted; false (nothing done) when no slot is free or the fast path is off;
   * the ring's error (nothing done, nothing thrown) when it refused the buffer.
   */
  post(type: number, sector: number, phys: number, len: number, value: unknown,
    resolve: (value: unknown) => void, reject: (error: Error) => void): boolean | Error {
    const fixed = this.#fixed;
    if (fixed === null || this.#freeCount === 0 || this.#failure !== null) return false;
    const head = this.#freeHead;
    const slot = this.#free[head]!;
    const isRead = type === BlkRequestType.IN;
    // Checked by the ring (the buffer lies in the DMA pool) before anything is taken.
    const refused = fixed.tryPostReserved(this.#heads[slot]!, phys, len, isRead, slot);
    if (refused !== null) return refused;
    this.#freeHead = head + 1 === this.slotCount ? 0 : head + 1;
    this.#freeCount--;
    // #header() inline: le32 type, le64 sector (reserved stays 0), status byte 0xff.
    const w = slot * (SLOT_STRIDE >> 2);
    const words = this.#words;
    if (this.#type[slot] !== type) {
      words[w] = type; // type, le32
      this.#type[slot] = type;
    }
    if (sector < TWO_32 && this.#sectorHigh[slot] === 0) words[w + 2] = sector; // sector, le64 (low; high stays 0)
    else this.#header(slot, type, sector);
    this.#bytes[slot * SLOT_STRIDE + STATUS_OFFSET] = 0xff; // status, u8
    this.#state[slot] = BUSY;
    this.#expectIn[slot] = isRead ? len : 0;
    this.#dataLen[slot] = len;
    this.#resolve[slot] = resolve;
    this.#reject[slot] = reject;
    this.#value[slot] = value;
    // #posted() inline.
    this.#stamp[slot] = this.#ticks;
    this.#busy++;
    this.#unkicked++;
    if (this.#timer === null && this.#timed) this.#timer = this.#opts.platform.timers.repeat(this.#sweep, this.#interval);
    if (this.#kickScheduled || (fixed.inFlight - this.#unkicked) * 2 >= this.slotCount) return true;
    this.#kickScheduled = true;
    void RESOLVED.then(this.#kickJob);
    return true;
  }

  // ---- the general path ----

  /** A free slot now, or -1. */
  take(): number {
    if (this.#closed !== null) throw this.#closed;
    if (this.#freeCount === 0) return -1;
    const head = this.#freeHead;
    this.#freeHead = head + 1 === this.slotCount ? 0 : head + 1;
    this.#freeCount--;
    return this.#free[head]!;
  }

  /** The next slot given back (in order of asking). */
  waitSlot(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (this.#closed !== null) return reject(this.#closed);
      if (this.#failure !== null) return reject(this.#failure);
      this.#slotWaiters.push({ resolve, reject });
    });
  }

  /** Gives back a slot taken and not posted. */
  giveBack(slot: number): void {
    this.#freeSlot(slot);
  }

  /**
   * Posts a chain [header, ...readable] + [...writable, status] on `slot` (taken with
   * take()/waitSlot()). If the ring has no room it waits for completions. `client` hears
   * the outcome (used length and status checked against `expectIn`) and the release.
   */
  submit(slot: number, type: number, sector: number, readable: readonly BufferRef[], writable: readonly BufferRef[], expectIn: number, client: SlotClient): void {
    this.#header(slot, type, sector);
    this.#state[slot] = BUSY;
    this.#expectIn[slot] = expectIn;
    this.#client[slot] = client;
    const chainR = [this.#headerRefs[slot]!, ...readable];
    const chainW = [...writable, this.#statusRefs[slot]!];
    const place = (): boolean => {
      if (this.#failure !== null) {
        this.#settleSlot(slot, this.#failure, 0);
        this.#releaseSlot(slot);
        return true;
      }
      try {
        this.#queue.add(chainR, chainW, slot);
      } catch (error) {
        if (error instanceof QueueFullError && this.#queue.inFlight > 0) return false;
        const e = error instanceof Error ? error : new Error(String(error));
        if (e === this.#queue.broken) this.#ringFailed(e);
        this.#settleSlot(slot, e, 0);
        this.#releaseSlot(slot);
        return true;
      }
      this.#posted(slot);
      return true;
    };
    if (this.#roomWaiters.length > 0 || !place()) this.#roomWaiters.push(place);
  }

  /** Publishes what was posted now (for a caller that polls and runs no promise jobs). */
  flush(): void {
    if (this.#unkicked > 0) this.#kickNow();
  }

  /** A polling caller gave up on the request on `slot`: it is told `error`; the slot
   * and its memory stay held until the device returns the chain or is reset. */
  abandon(slot: number, error: Error): void {
    if (this.#state[slot] !== BUSY) return;
    this.#state[slot] = HELD;
    this.#heldError[slot] = error;
    this.#settleSlot(slot, error, 0);
  }

  // ---- completions ----

  /** Drains the used ring (the used-buffer interrupt, or the watchdog's poll). */
  drain(): number {
    if (this.#failure !== null || this.#closed !== null) return 0;
    const q = this.#queue;
    const fixed = this.#fixed;
    let done = 0;
    let emptyRechecks = 0;
    try {
      for (;;) {
        q.disableInterrupts();
        const before = done;
        if (fixed !== null) {
          for (let slot = fixed.take(); slot !== undefined; slot = fixed.take()) {
            this.#completed(slot, fixed.takenLength);
            done++;
          }
        } else {
          for (let c = q.pop(); c !== null; c = q.pop()) {
            this.#completed(c.token, c.len);
            done++;
          }
        }
        emptyRechecks = done === before ? emptyRechecks + 1 : 0;
        if (done - before > 1 && !this.#kickScheduled) {
          // Several callers may post again as their promises settle: one kick for them all.
          this.#kickScheduled = true;
          void RESOLVED.then(this.#kickJob);
        }
        if (this.#roomWaiters.length > 0 && done > before) this.#retryRoom();
        // §2.7.14: re-enable, then look again; bounded by the chains in flight and by
        // MAX_EMPTY_RECHECKS rounds that find nothing (a used idx that flips).
        if (!q.enableInterrupts() || emptyRechecks >= MAX_EMPTY_RECHECKS) break;
      }
    } catch (error) {
      this.#ringFailed(error instanceof Error ? error : new Error(String(error)));
    }
    if (this.#unkicked > 0 && !this.#kickScheduled) this.#kickNow();
    return done;
  }

  /**
   * The device is reset (or the driver is removed): every request still out is failed
   * with `error` (a timed-out one with its RequestTimeoutError), every slot and buffer is
   * released, waiters fail, the slot memory is freed. Safe twice.
   */
  close(error: Error): void {
    if (this.#closed !== null) return;
    this.#closed = error;
    this.#stop();
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (this.#state[slot] === FREE) continue;
      this.#settleSlot(slot, this.#heldError[slot] ?? error, 0);
      this.#releaseSlot(slot);
    }
    this.#roomWaiters.length = 0; // their slots were settled and released above
    for (const waiter of this.#slotWaiters.splice(0)) waiter.reject(error);
    this.#opts.platform.dma.free(this.#block);
  }

  /** The requests held after a timeout are failed now (the reset that should take their
   * chains back did not happen); their slots stay held. */
  failHeld(): void {
    let error: Error | null = null;
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (this.#state[slot] !== HELD) continue;
      error = this.#heldError[slot] ?? new RequestTimeoutError(this.#opts.location, this.#opts.timeoutMs);
      this.#settleSlot(slot, error, 0);
    }
    // Held slots come back only with a reset that did not happen: a request waiting for
    // one would wait for ever (found by the fuzzer, tests/fuzz).
    if (error !== null) for (const waiter of this.#slotWaiters.splice(0)) waiter.reject(error);
  }

  // ---- internals ----

  /** Writes the request header (§5.2.6: le32 type, le32 reserved = 0, le64 sector) and
   * sets the status byte to 0xff, a value no device returns. */
  #header(slot: number, type: number, sector: number): void {
    const w = slot * (SLOT_STRIDE >> 2);
    const words = this.#words;
    if (this.#type[slot] !== type) {
      words[w] = type; // type, le32
      this.#type[slot] = type;
    }
    const high = sector < TWO_32 ? 0 : Math.floor(sector / TWO_32);
    words[w + 2] = sector - high * TWO_32; // sector, le64 (low)
    if (this.#sectorHigh[slot] !== high) {
      words[w + 3] = high; // sector, le64 (high)
      this.#sectorHigh[slot] = high;
    }
    this.#bytes[slot * SLOT_STRIDE + STATUS_OFFSET] = 0xff; // status, u8
  }

  #posted(slot: number): void {
    this.#stamp[slot] = this.#ticks;
    this.#busy++;
    this.#unkicked++;
    if (this.#timer === null && this.#timed) this.#timer = this.#opts.platform.timers.repeat(this.#sweep, this.#interval);
    // Everything posted in this turn (or by the callers a drain just settled) goes with
    // one kick from a promise job (batching); while the device still holds half the
    // slots or more, the next drain (their interrupt) publishes it: fewer notifications.
    if (this.#kickScheduled || (this.#queue.inFlight - this.#unkicked) * 2 >= this.slotCount) return;
    this.#kickScheduled = true;
    void RESOLVED.then(this.#kickJob);
  }

  readonly #kickJob = (): void => {
    this.#kickScheduled = false;
    const posted = this.#unkicked;
    if (posted === 0) return;
    // One request and the device held nothing else (depth 1): kick and poll for it.
    if (posted === 1 && this.#queue.inFlight === 1 && this.#pollMs > 0 && this.#fixed !== null) this.#kickAndPoll(this.#fixed);
    else this.#kickNow();
  };

  /**
   * Depth 1 (the device holds only this request): kick with used-buffer interrupts off
   * and watch the used ring for up to pollMs, as Linux's hybrid polling does; back in
   * time, it is drained here (no interrupt, no InterruptStatus read and ack). Otherwise
   * interrupts go back on with the re-check of §2.7.14 and the request sleeps on them.
   */
  #kickAndPoll(fixed: FixedChainQueue<number>): void {
    this.#unkicked = 0;
    if (this.#failure !== null || this.#closed !== null) return;
    const clock = this.#opts.platform.clock;
    try {
      fixed.disableInterrupts(); // a hint (§2.7.10): the device may still interrupt
      fixed.kick();
      const until = clock.now() + this.#pollMs;
      // Bounded in time and in rounds (a clock that does not move, virtual time in tests).
      for (let i = 1; i <= MAX_POLL_ROUNDS; i++) {
        if (fixed.hasUsed()) {
          this.drain(); // takes and checks the entry, interrupts back on with the re-check
          return;
        }
        if ((i & 7) === 0 && clock.now() >= until) break;
      }
      if (fixed.enableInterrupts()) this.drain();
    } catch (error) {
      this.#ringFailed(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #kickNow(): void {
    this.#unkicked = 0;
    if (this.#failure !== null || this.#closed !== null) return;
    try {
      this.#queue.kick();
    } catch (error) {
      this.#ringFailed(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** One used entry: its slot was in flight (the ring checked id and len ≤ offered). */
  #completed(slot: number, len: number): void {
    if (this.#state[slot] === HELD) {
      // The device gave back a chain whose caller was already told: now it is ours again.
      this.#settleSlot(slot, this.#heldError[slot] ?? null, len);
      this.#releaseSlot(slot);
      return;
    }
    // §5.2.6: the status byte is the last writable byte: used len must cover it and the
    // data of a read before it; the status must be OK.
    const expected = this.#expectIn[slot]! + 1;
    let error: Error | null = null;
    if (len < expected) error = new BlkUsedLengthError(this.#opts.location, this.#type[slot]!, this.#sectorOf(slot), len, expected);
    else {
      const status = this.#bytes[slot * SLOT_STRIDE + STATUS_OFFSET]!;
      if (status !== BlkStatus.OK) error = new BlkStatusError(this.#opts.location, this.#type[slot]!, this.#sectorOf(slot), status);
    }
    const stats = this.#stats;
    if (error !== null) stats.failures++;
    else if (this.#client[slot] === null) {
      // The fast path: counted once it came back good, settled and freed right here.
      if (this.#type[slot] === BlkRequestType.IN) stats.sectorsRead += this.#dataLen[slot]! / 512;
      else stats.sectorsWritten += this.#dataLen[slot]! / 512;
      const resolve = this.#resolve[slot];
      const value = this.#value[slot];
      this.#resolve[slot] = null;
      this.#reject[slot] = null;
      this.#value[slot] = undefined;
      this.#state[slot] = FREE;
      this.#busy--;
      if (this.#slotWaiters.length === 0) {
        // #pushFree() inline.
        let tail = this.#freeHead + this.#freeCount++;
        if (tail >= this.slotCount) tail -= this.slotCount;
        this.#free[tail] = slot;
      } else this.#slotWaiters.shift()!.resolve(slot);
      if (resolve !== null) resolve(value);
      return;
    }
    this.#settleSlot(slot, error, len);
    this.#releaseSlot(slot);
  }

  #sectorOf(slot: number): number {
    const w = slot * (SLOT_STRIDE >> 2);
    return this.#words[w + 2]! + this.#words[w + 3]! * TWO_32; // sector, le64
  }

  /** Tells the slot's caller, once. */
  #settleSlot(slot: number, error: Error | null, len: number): void {
    if (this.#settled[slot] === 1) return;
    this.#settled[slot] = 1;
    const client = this.#client[slot];
    if (client !== null) {
      client.settle(error, len);
      return;
    }
    const resolve = this.#resolve[slot];
    const reject = this.#reject[slot];
    if (resolve === null || reject === null) return;
    const value = this.#value[slot];
    this.#resolve[slot] = null;
    this.#reject[slot] = null;
    this.#value[slot] = undefined;
    if (error === null) resolve(value);
    else reject(error);
  }

  /** The device no longer holds the slot's chain: the slot and its memory are free. */
  #releaseSlot(slot: number): void {
    const client = this.#client[slot];
    this.#client[slot] = null;
    this.#heldError[slot] = null;
    this.#settled[slot] = 0;
    this.#state[slot] = FREE;
    this.#busy--;
    if (client !== null) client.release();
    this.#freeSlot(slot);
  }

  #freeSlot(slot: number): void {
    if (this.#closed !== null) return;
    if (this.#slotWaiters.length === 0) this.#pushFree(slot);
    else this.#slotWaiters.shift()!.resolve(slot);
  }

  /** The slot goes to the back of the free ring. */
  #pushFree(slot: number): void {
    let tail = this.#freeHead + this.#freeCount++;
    if (tail >= this.slotCount) tail -= this.slotCount;
    this.#free[tail] = slot;
  }

  #retryRoom(): void {
    while (this.#roomWaiters.length > 0) {
      if (!this.#roomWaiters[0]!()) break;
      this.#roomWaiters.shift();
    }
  }

  /** The ring broke: every caller hears it now; the slots stay held until the reset. */
  #ringFailed(error: Error): void {
    if (this.#failure === null) this.#failure = error;
    for (let slot = 0; slot < this.slotCount; slot++) {
      if (this.#state[slot] !== BUSY && this.#state[slot] !== HELD) continue;
      this.#state[slot] = HELD;
      if (this.#heldError[slot] === null) this.#heldError[slot] = error;
      this.#settleSlot(slot, error, 0);
    }
    for (const place of this.#roomWaiters.splice(0)) place();
    // The held slots come back only with a reset: a request waiting for one would wait
    // for ever (found by the fuzzer, tests/fuzz).
    for (const waiter of this.#slotWaiters.splice(0)) waiter.reject(error);
    this.#opts.onRingError(error);
  }

  readonly #sweep = (): void => {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      this.#ticks++;
      const polled = this.drain();
      if (polled > 0) this.#opts.onPolled(polled);
      let expired = 0;
      for (let slot = 0; slot < this.slotCount; slot++) {
        if (this.#state[slot] !== BUSY || this.#ticks - this.#stamp[slot]! <= this.#ticksToExpire) continue;
        this.#state[slot] = HELD;
        this.#heldError[slot] = new RequestTimeoutError(this.#opts.location, this.#opts.timeoutMs);
        expired++;
      }
      if (this.#busy === 0) this.#stop();
      if (expired > 0) this.#opts.onExpired(expired);
    } finally {
      this.#sweeping = false;
    }
  };

  #stop(): void {
    if (this.#timer === null) return;
    this.#opts.platform.timers.clear(this.#timer);
    this.#timer = null;
  }
}
