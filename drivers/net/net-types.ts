// The options and counters of a NetDevice (drivers/net/net-device.ts).

import { MAX_QUEUE_PAIRS } from "./net-spec.js";

export interface NetOptions {
  /** Receive buffers kept posted on each receive queue (capped by the queue). Default 64. */
  readonly rxBuffers?: number;
  /** Transmit slots of each transmit queue: frames in flight at most (capped by the
   * queue). Default 32. */
  readonly txSlots?: number;
  /** A transmit buffer the device has held this long (ms) means a hung transmit queue:
   * the device is reset (its buffers come back) and re-initialized; 0 turns this off.
   * Default 5000, as Linux's netdev transmit watchdog: long enough that a peer slow to read
   * (QEMU holds transmit buffers while its backend cannot take more) is not taken for a hang. */
  readonly txTimeoutMs?: number;
  /** Queue pairs to use with VIRTIO_NET_F_MQ (capped by the device's
   * max_virtqueue_pairs). Default 4. */
  readonly queuePairs?: number;
  /** A frame arrived (a copy: Ethernet header first, no virtio header, no FCS). */
  onReadable?: ((frame: Uint8Array) => void) | null;
  /** Transmit slots came back; `slots` are free now. */
  onWritable?: ((slots: number) => void) | null;
  /** The link went up or down (config change, §5.1.4 status). */
  onLinkChange?: ((up: boolean) => void) | null;
  /** The device asks for an announcement (GUEST_ANNOUNCE, §5.1.6.5.4): send a gratuitous
   * ARP; the driver acknowledges it to the device afterwards. */
  onAnnounce?: (() => void) | null;
  /** The device misbehaved or a callback threw; the device stays up where it can. */
  onError?: ((error: Error) => void) | null;
  /** Re-initializations (core restart()) after the device broke a ring rule. Default 3. */
  readonly maxRestarts?: number;
}

/** The numeric options, defaults filled in and checked. */
export interface NetLimits {
  readonly rxBuffers: number;
  readonly txSlots: number;
  readonly queuePairs: number;
  readonly txTimeoutMs: number;
  readonly maxRestarts: number;
}

/** The numeric options with their defaults; RangeError for one out of range. */
export function netLimits(options: NetOptions): NetLimits {
  const rx = options.rxBuffers ?? 64;
  const tx = options.txSlots ?? 32;
  const pairs = options.queuePairs ?? 4;
  const timeout = options.txTimeoutMs ?? 5000;
  if (!Number.isInteger(rx) || rx < 1) throw new RangeError(`rxBuffers ${rx} must be a positive integer`);
  if (!Number.isInteger(tx) || tx < 1) throw new RangeError(`txSlots ${tx} must be a positive integer`);
  if (!Number.isInteger(pairs) || pairs < 1 || pairs > MAX_QUEUE_PAIRS) throw new RangeError(`queuePairs ${pairs} must be an integer from 1 to ${MAX_QUEUE_PAIRS}`);
  if (!Number.isFinite(timeout) || timeout < 0) throw new RangeError(`txTimeoutMs ${timeout} must be 0 (off) or more`);
  return { rxBuffers: rx, txSlots: tx, queuePairs: pairs, txTimeoutMs: timeout, maxRestarts: options.maxRestarts ?? 3 };
}

export interface NetStats {
  readonly rxFrames: number;
  readonly rxBytes: number;
  /** Frames dropped because the used length was impossible (< header + 14, > buffer). */
  readonly rxBadLength: number;
  /** Frames received while nobody listened (no onReadable, or closed). */
  readonly rxUnread: number;
  readonly txFrames: number;
  readonly txBytes: number;
  /** write() calls refused because every transmit slot (of the frame's queue) was in flight. */
  readonly txFull: number;
  /** Frames a reset took back before the device returned them (sent or not: unknown). */
  readonly txAbandoned: number;
  /** Resets because the device held a transmit buffer past txTimeoutMs. */
  readonly txTimeouts: number;
  readonly linkChanges: number;
  /** Announce requests answered (GUEST_ANNOUNCE). */
  readonly announces: number;
  /** Re-initializations after a broken queue. */
  readonly restarts: number;
}

/** The counters as the queues update them. */
export type NetCounters = { -readonly [K in keyof NetStats]: NetStats[K] };

export function newCounters(): NetCounters {
  return { rxFrames: 0, rxBytes: 0, rxBadLength: 0, rxUnread: 0, txFrames: 0, txBytes: 0, txFull: 0, txAbandoned: 0, txTimeouts: 0, linkChanges: 0, announces: 0, restarts: 0 };
}
