// The request engine's types (blk-queue.ts): what a general-path request hears, the
// options of createBlkQueue(), and the engine's interface.

import type { Platform } from "../../platform/platform.js";
import type { BufferRef, Virtqueue } from "../../ring/virtqueue.js";
import type { FastPath } from "./fast-path.js";

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
  /** Counters kept across re-initializations (the BlockDevice's; the hot path's are
   * added by syncStats()). */
  readonly stats: { requests: number; failures: number; sectorsRead: number; sectorsWritten: number };
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

/** The request engine (createBlkQueue()). */
export interface BlkQueue {
  readonly slotCount: number;
  readonly queue: Virtqueue<number>;
  /** The error that stopped this queue (the ring broke), if any. */
  readonly failure: Error | null;
  readonly busy: number;
  /** Slots free now. */
  readonly freeSlots: number;
  /** True if the fast path (reserved chains) is on. */
  readonly fast: boolean;
  /**
   * The hot path (fast-path.ts): a read or write of DMA memory in one request with one
   * data descriptor, checked, posted and settled in this queue's closure; null (nothing
   * done) for anything else, or when no slot is free. Off until configureFast().
   */
  readonly fastPath: FastPath;
  /** What the hot path may take: requests of at most `maxSectors` (0: none) inside
   * `capacity` sectors, writes unless `readOnly`. */
  configureFast(maxSectors: number, capacity: number, readOnly: boolean): void;
  /** Adds the hot path's counters (requests, sectors) to the stats object. */
  syncStats(): void;
  /** A free slot now, or -1. */
  take(): number;
  /** The next slot given back (in order of asking). */
  waitSlot(): Promise<number>;
  /** Gives back a slot taken and not posted. */
  giveBack(slot: number): void;
  /**
   * Posts a chain [header, ...readable] + [...writable, status] on `slot` (taken with
   * take()/waitSlot()). If the ring has no room it waits for completions. `client` hears
   * the outcome (used length and status checked against `expectIn`) and the release.
   */
  submit(slot: number, type: number, sector: number, readable: readonly BufferRef[], writable: readonly BufferRef[], expectIn: number, client: SlotClient): void;
  /** Publishes what was posted now (for a caller that polls and runs no promise jobs). */
  flush(): void;
  /** A polling caller gave up on the request on `slot`: it is told `error`; the slot
   * and its memory stay held until the device returns the chain or is reset. */
  abandon(slot: number, error: Error): void;
  /** Drains the used ring (the used-buffer interrupt, or the watchdog's poll). */
  drain(): number;
  /**
   * The device is reset (or the driver is removed): every request still out is failed
   * with `error` (a timed-out one with its RequestTimeoutError), every slot and buffer is
   * released, waiters fail, the slot memory is freed. Safe twice.
   */
  close(error: Error): void;
  /** The requests held after a timeout or a ring error are failed now (the reset that
   * should take their chains back did not happen); their slots stay held. */
  failHeld(): void;
}
