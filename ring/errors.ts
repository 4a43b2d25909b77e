// The ring layer's errors. Each carries the values that caused it, so a log line or a test
// can tell exactly what went wrong.

/** Not enough free descriptors for the chain (§2.7.13.1); nothing was changed. */
export class QueueFullError extends Error {
  constructor(
    readonly queue: number,
    readonly needed: number,
    readonly free: number,
  ) {
    super(`virtqueue ${queue} full: chain needs ${needed} descriptor(s), ${free} free`);
    this.name = "QueueFullError";
  }
}

/** What the device did wrong on the rings. */
export type RingErrorKind =
  /** used element id ≥ queue size (§2.7.8). */
  | "BadUsedId"
  /** used element id is a descriptor inside a chain, not its head. */
  | "NotAHead"
  /** used element id is a free descriptor: no chain is in flight there. */
  | "NotInFlight"
  /** used element id is a head the driver has not made available yet (avail idx not published). */
  | "NotPublished"
  /** used element len is more than the chain's device-writable bytes (§2.7.8.1). */
  | "BadUsedLength"
  /** used idx moved by more than the queue size or than the chains the device holds. */
  | "BadUsedIdx";

/**
 * The device broke a rule of the split ring. The queue that saw it is broken from then on:
 * every later call throws this same error (the values say what the device wrote).
 */
export class RingError extends Error {
  constructor(
    readonly kind: RingErrorKind,
    readonly queue: number,
    readonly values: Readonly<Record<string, number>>,
    detail: string,
  ) {
    super(`virtqueue ${queue} broken (${kind}): ${detail}`);
    this.name = "RingError";
  }
}

export type RingUsageErrorKind =
  | "BadSize"
  | "BadLayout"
  | "EmptyChain"
  | "BadBuffer"
  | "ChainTooLong"
  | "NotReserved"
  | "Destroyed";

/**
 * The caller misused the queue (bad options, bad buffers, use after destroy). `value` is
 * the offending number; `values` names every number involved where there is more than one
 * (a buffer outside the DMA pool: its phys and len).
 */
export class RingUsageError extends Error {
  constructor(
    readonly kind: RingUsageErrorKind,
    message: string,
    readonly value?: number,
    readonly values?: Readonly<Record<string, number>>,
  ) {
    super(message);
    this.name = "RingUsageError";
  }
}
