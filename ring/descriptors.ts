// Descriptor helpers of the split ring: the check every buffer passes before a descriptor
// points at it, and the write of one struct virtq_desc (VIRTIO 1.2 §2.7.5).

import type { DmaAllocator } from "../platform/platform.js";
import type { BufferRef } from "./virtqueue.js";
import { RingUsageError } from "./errors.js";
import { DESC_ADDR, DESC_FLAGS, DESC_LEN, DESC_NEXT, DESC_SIZE } from "./layout.js";

export const MAX_DESC_LEN = 0xffffffff;
const TWO_32 = 0x100000000;

/**
 * Checks one caller buffer; returns its length. §2.7.4: a descriptor points at a buffer
 * the driver provides, so the driver hands the device only memory it owns: the whole of
 * [phys, phys + len) must lie in the DMA region the queue allocates from. A wrong phys
 * (a driver bug) would otherwise let the device DMA over firmware memory.
 */
export function checkBuffer(queue: number, dma: DmaAllocator, b: BufferRef): number {
  return checkSpan(queue, dma, b.phys, b.len);
}

/** checkBuffer() for a span given as two numbers (no object). */
export function checkSpan(queue: number, dma: DmaAllocator, phys: number, len: number): number {
  // Comparisons, not Number.isSafeInteger()/isInteger() (a global look-up and a call each
  // on XS); the same values pass: NaN and the infinities fail a comparison.
  if (typeof phys !== "number" || !(phys >= 0 && phys <= Number.MAX_SAFE_INTEGER) || phys % 1 !== 0) {
    throw new RingUsageError("BadBuffer", `virtqueue ${queue}: buffer address ${phys} is not a physical address`, phys, { phys, len });
  }
  if (typeof len !== "number" || !(len >= 1 && len <= MAX_DESC_LEN) || len % 1 !== 0) {
    throw new RingUsageError("BadBuffer", `virtqueue ${queue}: buffer length ${len} must be 1..${MAX_DESC_LEN}`, len, { phys, len });
  }
  if (!dma.contains(phys, len)) {
    throw new RingUsageError(
      "BadBuffer",
      `virtqueue ${queue}: buffer 0x${phys.toString(16)}+${len} is outside the DMA pool`,
      phys,
      { phys, len },
    );
  }
  return len;
}

/** struct virtq_desc at entry `i` of a table (§2.7.5). */
export function writeTableEntry(table: DataView, i: number, phys: number, len: number, flags: number, next: number): void {
  const at = i * DESC_SIZE;
  const high = phys < TWO_32 ? 0 : Math.floor(phys / TWO_32);
  table.setUint32(at + DESC_ADDR, phys - high * TWO_32, true); // le64 addr, low half
  table.setUint32(at + DESC_ADDR + 4, high, true); // le64 addr, high half
  table.setUint32(at + DESC_LEN, len, true); // le32 len
  table.setUint16(at + DESC_FLAGS, flags, true); // le16 flags
  table.setUint16(at + DESC_NEXT, next, true); // le16 next
}
