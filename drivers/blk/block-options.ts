// BlockDevice's options (block-types.ts BlockDeviceOptions) with their defaults, each
// checked once: a bad value is a RangeError naming it, before anything is set up.

import { SECTOR_SIZE } from "./blk-spec.js";
import type { BlockDeviceOptions } from "./block-types.js";

/** How long a request posted alone watches the used ring before sleeping on the interrupt. */
export const DEFAULT_POLL_US = 300;

export interface BlockLimits {
  readonly maxInFlight: number;
  readonly maxRequestBytes: number;
  readonly maxDirectRequestBytes: number;
  readonly maxBounceBytes: number;
  readonly timeoutMs: number;
  readonly maxRestarts: number;
  readonly pollUs: number;
}

function sectorMultiple(name: string, value: number): number {
  if (!Number.isInteger(value) || value < SECTOR_SIZE || value % SECTOR_SIZE !== 0) {
    throw new RangeError(`${name} ${value} must be a positive multiple of ${SECTOR_SIZE}`);
  }
  return value;
}

/** The numeric options, defaults filled in, checked. */
export function blockLimits(options: BlockDeviceOptions): BlockLimits {
  const maxInFlight = options.maxInFlight ?? 32;
  const maxBounceBytes = options.maxBounceBytes ?? 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 10000;
  const maxRestarts = options.maxRestarts ?? 3;
  const pollUs = options.pollMicroseconds ?? DEFAULT_POLL_US;
  if (!(pollUs >= 0 && pollUs <= 100000)) throw new RangeError(`pollMicroseconds ${pollUs} must be 0..100000`);
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight ${maxInFlight} must be a positive integer`);
  const maxRequestBytes = sectorMultiple("maxRequestBytes", options.maxRequestBytes ?? 65536);
  const maxDirectRequestBytes = sectorMultiple("maxDirectRequestBytes", options.maxDirectRequestBytes ?? 64 * 1024 * 1024);
  if (!Number.isInteger(maxBounceBytes) || maxBounceBytes < 1) throw new RangeError(`maxBounceBytes ${maxBounceBytes} must be a positive integer`);
  if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs ${timeoutMs} must be 0 or more`);
  if (!Number.isInteger(maxRestarts) || maxRestarts < 0) throw new RangeError(`maxRestarts ${maxRestarts} must be 0 or more`);
  return { maxInFlight, maxRequestBytes, maxDirectRequestBytes, maxBounceBytes, timeoutMs, maxRestarts, pollUs };
}
