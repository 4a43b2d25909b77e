// The block driver's hot path, as the block device calls it: a read or write of DMA
// memory in one request with one data descriptor (block-device.ts tries it first). The
// live one is the request engine's own (blk-queue.ts `fastPath`: its checks, its promise
// and its post in one closure, no call between layers); FAST_PATH_OFF stands in while no
// queue may take requests. Only cheap tests: anything that does not fit returns null, and
// the general path checks it all again and says why.

import type { BlockBuffer } from "./block-types.js";

export interface FastPath {
  /** The read's promise, or null: the general path takes it. */
  read(lba: number, count: number, into: BlockBuffer | undefined): Promise<Uint8Array> | null;
  /** The write's promise, or null: the general path takes it. */
  write(lba: number, data: BlockBuffer): Promise<void> | null;
}

/** No live queue (before DRIVER_OK, broken, quiesced, removed): every request goes the
 * general path, which says why it cannot be sent. */
export const FAST_PATH_OFF: FastPath = Object.freeze({
  read: () => null,
  write: () => null,
});
