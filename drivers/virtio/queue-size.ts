// Which size a new queue gets (§2.7, §4.2.2 QueueNumMax / QueueNum), and whether it is
// enough for its driver. Called by VirtioDevice.createQueue at every (re-)initialization:
// QueueNumMax may be smaller after a reset than it was at the last probe, and a legacy
// virtio-pci queue has the device's size, no other.

import { QueueSetupError, QueueTooSmallError } from "./errors.js";

/** §2.7: a split queue holds at most 32768 descriptors. */
export const MAX_QUEUE_SIZE = 32768;

export interface QueueSizeRequest {
  /** Wanted size: a power of two; QueueNumMax caps it (default: the device's default, 256). */
  readonly size?: number;
  /**
   * The fewest descriptors the driver can work with: its longest chain (§2.7.5.3.1: no
   * chain, direct or indirect, longer than the queue) or the buffers one device message
   * takes. A smaller queue, at probe or at any re-initialization, fails the device with
   * QueueTooSmallError (FAILED, the error shown by `devices`; the driver stays
   * registered and its other devices keep working). Default 1.
   */
  readonly minSize?: number;
  /** What `minSize` is for, for the error: e.g. "descriptors one request takes (header, data, status)". */
  readonly minSizeFor?: string;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Largest power of two ≤ n (n ≥ 1). */
function floorPowerOfTwo(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/** Throws QueueSetupError for a request the driver got wrong (not a power of two, a bad
 * minimum) before the device is asked anything. */
export function checkQueueRequest(location: string, index: number, request: QueueSizeRequest): void {
  if (request.size !== undefined && !isPowerOfTwo(request.size)) {
    throw new QueueSetupError(location, index, `size ${request.size} is not a power of two`);
  }
  const least = request.minSize ?? 1;
  if (!Number.isInteger(least) || least < 1 || least > MAX_QUEUE_SIZE) {
    throw new QueueSetupError(location, index, `minimum size ${least} is not between 1 and ${MAX_QUEUE_SIZE}`);
  }
}

/**
 * The size of queue `index`: the largest power of two within the wanted size, QueueNumMax
 * (`max`, > 0) and MAX_QUEUE_SIZE, or exactly `max` where the transport fixes it. Throws
 * QueueTooSmallError when that is fewer descriptors than the driver's minimum.
 */
export function chooseQueueSize(location: string, index: number, max: number, fixed: boolean, wanted: number, request: QueueSizeRequest): number {
  const size = fixed ? max : floorPowerOfTwo(Math.min(wanted, max, MAX_QUEUE_SIZE));
  const least = request.minSize ?? 1;
  if (size < least) {
    throw new QueueTooSmallError(location, index, size, max, least, request.minSizeFor ?? "descriptors the driver needs");
  }
  return size;
}
