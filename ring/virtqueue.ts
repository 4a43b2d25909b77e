// The virtqueue contract the core and the device drivers use. SplitQueue (split-queue.ts)
// implements it over the split ring layout (VIRTIO 1.2 §2.7). A queue knows nothing of
// the transport: it is given DMA memory, barriers, a layout rule and a notify function.

import type { Barriers, DmaAllocator } from "../platform/platform.js";
import type { QueueLayout, QueueAddresses } from "../drivers/virtio/transport.js";

/** A piece of DMA memory a descriptor points at. */
export interface BufferRef {
  /** Physical address. */
  readonly phys: number;
  /** Length in bytes (> 0). */
  readonly len: number;
}

/** One completed request, as taken from the used ring after validation. */
export interface Completion<T> {
  readonly token: T;
  /** Bytes the device wrote into the chain's writable buffers (checked ≤ their total). */
  readonly len: number;
}

export interface VirtqueueOptions {
  readonly index: number;
  /** Number of descriptors: a power of two, ≤ the transport's QueueNumMax, ≤ 32768. */
  readonly size: number;
  readonly dma: DmaAllocator;
  readonly barriers: Barriers;
  readonly layout: QueueLayout;
  /** VIRTIO_F_RING_INDIRECT_DESC negotiated (§2.7.5.3). */
  readonly indirect: boolean;
  /** VIRTIO_F_RING_EVENT_IDX negotiated (§2.7.10). */
  readonly eventIdx: boolean;
  /** Sends the available buffer notification (the transport's QueueNotify write). */
  readonly notify: () => void;
}

export interface VirtqueueStats {
  /** Chains made available. */
  readonly added: number;
  /** Chains taken back from the used ring. */
  readonly completed: number;
  /** kick() calls. */
  readonly kicks: number;
  /** Notifications actually sent (kicks not suppressed by the device). */
  readonly notifications: number;
}

export interface Virtqueue<T> {
  readonly index: number;
  readonly size: number;
  /** Physical addresses of the three areas, for the transport. */
  readonly addresses: QueueAddresses;
  /** Free descriptors. */
  readonly freeCount: number;
  /** Chains the device has not returned yet. */
  readonly inFlight: number;
  /** Set once the device broke a rule on this queue; every later call throws it. */
  readonly broken: Error | null;

  /**
   * Adds one chain: device-readable buffers first, then device-writable ones
   * (§2.7.4.1). Uses one indirect descriptor when negotiated and the chain has more than
   * one buffer. Throws QueueFullError when there is no room (nothing is changed then).
   */
  add(readable: readonly BufferRef[], writable: readonly BufferRef[], token: T): void;
  /**
   * Publishes added chains (wmb, then avail idx) and notifies the device unless it asked
   * not to be (flags or avail_event, §2.7.10). Returns true if it notified.
   */
  kick(): boolean;
  /**
   * Takes the next used entry, validated: the id must be the head of a chain in flight
   * and the length no more than the chain's writable bytes. Returns null when the used
   * ring is empty. A violation marks the queue broken and throws.
   */
  pop(): Completion<T> | null;
  /** Asks the device for interrupts (or sets used_event with EVENT_IDX). Returns true if
   * used entries arrived meanwhile (the caller should pop again). */
  enableInterrupts(): boolean;
  /** Asks the device not to interrupt (a hint, §2.7.10). */
  disableInterrupts(): void;
  /** Counters, for tests and benchmarks. */
  stats(): VirtqueueStats;
  /** Takes back every chain in flight (after the device was reset) and returns the tokens. */
  detachAll(): T[];
  /** Frees the queue's DMA memory. Call after the transport disabled the queue. */
  destroy(): void;
}

/**
 * The per-request operations of a FixedChainQueue as plain functions (no `this`): what a
 * driver calls for every request takes no instance look-up (XS walks an object's
 * properties to find one). The same checks as the methods of the same names.
 */
export interface ReservedHotPath<T> {
  tryPostReserved(head: number, phys: number, len: number, writable: boolean, token: T): Error | null;
  take(): T | undefined;
  /** The used length of the entry take() returned last. */
  takenLength(): number;
  /** Chains the device has not returned yet. */
  inFlight(): number;
  kick(): boolean;
  hasUsed(): boolean;
  enableInterrupts(): boolean;
  disableInterrupts(): void;
}

/**
 * A queue that also keeps chains prepared once: a driver with a fixed request shape
 * (a block header, one data buffer, a status byte) reserves one chain per request slot
 * and per request rewrites only what changed, then makes it available. Every used entry
 * is still checked as for add(); the reserved chain comes back to the caller, not to the
 * free list.
 */
export interface FixedChainQueue<T> extends Virtqueue<T> {
  /** Added chains not yet published by kick(). */
  readonly pendingCount: number;
  /** Takes `count` linked descriptors for good (until detachAll/destroy); returns the head. */
  reserveChain(count: number): number;
  /** reserveChain() + setChainBuffer() of each descriptor in one call: readable buffers,
   * then writable ones (§2.7.13.1), all checked first; returns the head. */
  reserveChainOf(readable: readonly BufferRef[], writable: readonly BufferRef[]): number;
  /** Points descriptor `k` of reserved chain `head` at a buffer (checked as add() checks). */
  setChainBuffer(head: number, k: number, phys: number, len: number, writable: boolean): void;
  /** Makes reserved chain `head` available with `token` (published by kick()). */
  addReserved(head: number, token: T): void;
  /** setChainBuffer(head, 1, ...) + addReserved(head, token) in one call. */
  postReserved(head: number, phys: number, len: number, writable: boolean, token: T): void;
  /** postReserved() returning the error (nothing done) instead of throwing it; null when posted. */
  tryPostReserved(head: number, phys: number, len: number, writable: boolean, token: T): Error | null;
  /** pop() without the completion object: the token, or undefined if the used ring is empty. */
  take(): T | undefined;
  /** The per-request operations as functions of their own (see ReservedHotPath). */
  hotPath(): ReservedHotPath<T>;
  /** The used length of the entry take() returned last. */
  readonly takenLength: number;
  /** used idx moved past what was taken (a hint for polling; take() checks the entry). */
  hasUsed(): boolean;
}

/** True if `queue` offers reserved chains (SplitQueue does; test stubs may not). */
export function hasFixedChains<T>(queue: Virtqueue<T>): queue is FixedChainQueue<T> {
  return typeof (queue as Partial<FixedChainQueue<T>>).reserveChain === "function";
}
