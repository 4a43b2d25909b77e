// The block driver's public types: options, what the disk is, counters, buffers.

import type { DmaBuffer } from "../../platform/platform.js";
import type { BlkConfigValues } from "./blk-config.js";

export interface BlockDeviceOptions {
  /** Requests in flight at most (each holds a header slot and its bounce memory). Default 32. */
  readonly maxInFlight?: number;
  /** Largest data transfer of one request through bounce memory (plain Uint8Array
   * buffers), in bytes (a multiple of 512). Default 65536. */
  readonly maxRequestBytes?: number;
  /** Bounce memory (DMA) held by requests in flight at most, in bytes. Default 1 MiB:
   * a large read into a plain array never takes the whole DMA pool. */
  readonly maxBounceBytes?: number;
  /** Largest data transfer of one request straight to or from the caller's DMA memory,
   * in bytes (a multiple of 512). Default 64 MiB: the interpreter's cost and QEMU's are
   * per request, not per byte, so a contiguous DMA buffer goes as few requests as
   * seg_max × size_max allow (§5.2.6.1; QEMU offers no size_max, so one data
   * descriptor). A 64 MiB read as one request takes QEMU ~6.6 ms here, as 16 of 4 MiB
   * (4 in flight) ~7.7 (bench/README.md). */
  readonly maxDirectRequestBytes?: number;
  /** A request unanswered this long fails with RequestTimeoutError and the device is
   * re-initialized. 0: no limit. Default 10000 ms. */
  readonly timeoutMs?: number;
  /** A request posted while the device holds no other watches the used ring this long
   * (microseconds) before it sleeps on the interrupt (Linux's hybrid polling): at depth
   * 1 the answer usually comes first and no interrupt is taken. 0: never. Default 300. */
  readonly pollMicroseconds?: number;
  /** Re-initializations after request timeouts at most; once spent, the device is given
   * up on: reset and unbound, every request fails with DeviceBrokenError. Default 3. */
  readonly maxRestarts?: number;
  /** Called when a configuration change moved the capacity (in 512-byte sectors). */
  readonly onCapacityChange?: (capacity: number, previous: number) => void;
  /** Called when the device broke a rule (the queue is broken until a re-initialization)
   * or stopped answering (RequestTimeoutError; it is being re-initialized). */
  readonly onError?: (error: Error) => void;
}

/** What the disk is, as the device said (validated). */
export interface BlockInfo {
  readonly location: string;
  /** Size in 512-byte sectors. */
  readonly capacity: number;
  /** Size in bytes. */
  readonly bytes: number;
  /** Optimal block size in bytes (blk_size; 512 when not offered). */
  readonly blockSize: number;
  readonly readOnly: boolean;
  /** FLUSH negotiated: flush() reaches the device; otherwise it is write-through. */
  readonly flush: boolean;
  readonly sizeMax: number | null;
  readonly segMax: number | null;
  /** Largest request the driver sends through bounce memory, in sectors. */
  readonly maxSectorsPerRequest: number;
  /** Largest request the driver sends straight from / to DMA memory, in sectors. */
  readonly maxSectorsPerDirectRequest: number;
  readonly discard: BlkConfigValues["discard"];
  readonly writeZeroes: BlkConfigValues["writeZeroes"];
  readonly geometry: BlkConfigValues["geometry"];
  readonly topology: BlkConfigValues["topology"];
  /** Negotiated feature bits. */
  readonly features: bigint;
}

export interface BlockStats {
  /** Requests sent to the device. */
  readonly requests: number;
  readonly sectorsRead: number;
  readonly sectorsWritten: number;
  /** Requests that came back with a status other than OK or a bad used length. */
  readonly failures: number;
  readonly timeouts: number;
  /** Re-initializations this driver asked for after timeouts (at most maxRestarts). */
  readonly restarts: number;
  /** Requests completed by the watchdog's poll rather than by an interrupt. */
  readonly polledCompletions: number;
  readonly capacityChanges: number;
}

export interface WriteZeroesOptions {
  /** Let the device deallocate the sectors (VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP). */
  readonly unmap?: boolean;
}

/** A read target or write source: plain bytes (copied through bounce DMA) or DMA memory (no copy). */
export type BlockBuffer = Uint8Array | DmaBuffer;

export function isDmaBuffer(b: BlockBuffer): b is DmaBuffer {
  return !(b instanceof Uint8Array) && typeof (b as DmaBuffer).phys === "number" && (b as DmaBuffer).bytes instanceof Uint8Array;
}
