// Where the split ring's three areas and their fields live (VIRTIO 1.2 §2.7, §2.7.2 legacy
// layout), and the DMA memory that holds them.

import type { DmaAllocator, DmaBuffer } from "../platform/platform.js";
import type { QueueAddresses, QueueLayout } from "../drivers/virtio/transport.js";
import { RingUsageError } from "./errors.js";

/** Descriptor flags (§2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
/** avail->flags (§2.7.7). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** used->flags (§2.7.10). */
export const VIRTQ_USED_F_NO_NOTIFY = 1;

/** struct virtq_desc (§2.7.5): le64 addr, le32 len, le16 flags, le16 next: 16 bytes. */
export const DESC_SIZE = 16;
export const DESC_ADDR = 0;
export const DESC_LEN = 8;
export const DESC_FLAGS = 12;
export const DESC_NEXT = 14;

/** struct virtq_avail (§2.7.6): le16 flags, le16 idx, le16 ring[size], le16 used_event. */
export const AVAIL_FLAGS = 0;
export const AVAIL_IDX = 2;
export const availRingOffset = (slot: number): number => 4 + 2 * slot;
export const usedEventOffset = (size: number): number => 4 + 2 * size;

/** struct virtq_used (§2.7.8): le16 flags, le16 idx, {le32 id, le32 len} ring[size], le16 avail_event. */
export const USED_FLAGS = 0;
export const USED_IDX = 2;
export const USED_ELEM_SIZE = 8;
export const usedElemOffset = (slot: number): number => 4 + USED_ELEM_SIZE * slot;
export const availEventOffset = (size: number): number => 4 + USED_ELEM_SIZE * size;

/** Area sizes and alignments of the table in §2.7 (with the event fields included). */
export const descTableBytes = (size: number): number => DESC_SIZE * size;
export const availBytes = (size: number): number => 6 + 2 * size;
export const usedBytes = (size: number): number => 6 + USED_ELEM_SIZE * size;
export const DESC_ALIGN = 16;
export const AVAIL_ALIGN = 2;
export const USED_ALIGN = 4;

const alignUp = (n: number, to: number): number => Math.ceil(n / to) * to;
const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** The three areas as CPU views, plus what has to be freed. */
export interface RingAreas {
  readonly addresses: QueueAddresses;
  readonly desc: DataView;
  readonly avail: DataView;
  readonly used: DataView;
  /** The DMA blocks behind the areas (one for legacy, three for modern). */
  readonly blocks: readonly DmaBuffer[];
}

function subView(block: DmaBuffer, offset: number, length: number): DataView {
  return new DataView(block.view.buffer, block.view.byteOffset + offset, length);
}

/** Checks a QueueLayout before any memory is taken. */
export function checkLayout(layout: QueueLayout): void {
  if (!isPowerOfTwo(layout.usedAlign) || !isPowerOfTwo(layout.baseAlign)) {
    throw new RingUsageError(
      "BadLayout",
      `queue layout alignments must be powers of two (usedAlign ${layout.usedAlign}, baseAlign ${layout.baseAlign})`,
    );
  }
}

/**
 * Allocates and zeroes the areas of a queue of `size` descriptors.
 * Modern: three blocks aligned 16 / 2 / 4 (§2.7). Legacy: one block aligned to
 * `baseAlign` holding the descriptor table and the available ring, the used ring at the
 * next `usedAlign` boundary (§2.7.2).
 */
export function allocateRing(dma: DmaAllocator, size: number, layout: QueueLayout): RingAreas {
  checkLayout(layout);
  if (layout.contiguous) return allocateLegacy(dma, size, layout);
  const blocks: DmaBuffer[] = [];
  try {
    blocks.push(dma.alloc(descTableBytes(size), Math.max(DESC_ALIGN, layout.baseAlign)));
    blocks.push(dma.alloc(availBytes(size), AVAIL_ALIGN));
    blocks.push(dma.alloc(usedBytes(size), Math.max(USED_ALIGN, layout.usedAlign)));
  } catch (e) {
    for (const b of blocks) dma.free(b);
    throw e;
  }
  for (const b of blocks) b.bytes.fill(0);
  const [d, a, u] = blocks as [DmaBuffer, DmaBuffer, DmaBuffer];
  return {
    addresses: { size, desc: d.phys, driver: a.phys, device: u.phys },
    desc: d.view,
    avail: a.view,
    used: u.view,
    blocks,
  };
}

function allocateLegacy(dma: DmaAllocator, size: number, layout: QueueLayout): RingAreas {
  // The used ring's offset inside the block is aligned; with the block's start aligned to
  // at least usedAlign, its physical address is aligned too.
  const usedOffset = alignUp(descTableBytes(size) + availBytes(size), layout.usedAlign);
  const total = usedOffset + usedBytes(size);
  const block = dma.alloc(total, Math.max(layout.baseAlign, layout.usedAlign, DESC_ALIGN));
  block.bytes.fill(0);
  const availOffset = descTableBytes(size);
  return {
    addresses: { size, desc: block.phys, driver: block.phys + availOffset, device: block.phys + usedOffset },
    desc: subView(block, 0, descTableBytes(size)),
    avail: subView(block, availOffset, availBytes(size)),
    used: subView(block, usedOffset, usedBytes(size)),
    blocks: [block],
  };
}
