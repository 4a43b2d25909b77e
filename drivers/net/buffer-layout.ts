// Where the virtio_net_hdr and the frame go in a driver buffer (VIRTIO 1.2 §5.1.6).
// Each buffer is one DMA block of BUFFER_SIZE bytes. With VERSION_1 the header and the
// frame share one descriptor (§5.1.6.2, any layout); a legacy device without ANY_LAYOUT
// gets the header in a descriptor of its own (§5.1.6.6 "Legacy Interface"), the frame at
// offset 16. On transmit the header is placed so that the frame keeps the caller's
// alignment mod 4 (word-wise copies).

import type { DmaBuffer } from "../../platform/platform.js";
import type { BufferRef } from "../../ring/virtqueue.js";
import { copyBytes } from "../../net/bytes.js";
import { ETH_MAX_FRAME } from "./net-spec.js";

/** One DMA block per buffer: room for a 12-byte header, 3 bytes of alignment slack and
 * 1514 bytes of frame, or (legacy) the frame at 16 + 3. */
export const BUFFER_SIZE = 1536;
/** Where the frame starts in a legacy buffer (the header alone in front). */
export const SPLIT_DATA_OFFSET = 16;

export interface BufferLayout {
  /** Size of struct virtio_net_hdr (10 or 12, §5.1.6). */
  readonly headerLen: number;
  /** Legacy without ANY_LAYOUT: the header in a descriptor of its own. */
  readonly splitHeader: boolean;
  /** Descriptors one buffer takes in the ring: 2 when split and not indirect, else 1. */
  readonly descriptorsPerBuffer: number;
}

/** A receive buffer: header then 1514 bytes, in one descriptor or two (legacy). */
export function receiveRefs(layout: BufferLayout, dma: DmaBuffer): BufferRef[] {
  return layout.splitHeader
    ? [{ phys: dma.phys, len: layout.headerLen }, { phys: dma.phys + SPLIT_DATA_OFFSET, len: ETH_MAX_FRAME }]
    : [{ phys: dma.phys, len: layout.headerLen + ETH_MAX_FRAME }];
}

/** Where the frame of a (non-merged) receive buffer starts. */
export function receiveDataOffset(layout: BufferLayout): number {
  return layout.splitHeader ? SPLIT_DATA_OFFSET : layout.headerLen;
}

/** Writes a zero header (§5.1.6.2: flags 0, gso_type GSO_NONE, num_buffers 0) and the
 * frame into a transmit buffer; returns the descriptors to post. */
export function transmitRefs(layout: BufferLayout, dma: DmaBuffer, frame: Uint8Array): BufferRef[] {
  const bytes = dma.bytes;
  const align = (frame.byteOffset - bytes.byteOffset) & 3;
  const h = layout.headerLen;
  if (layout.splitHeader) {
    const at = SPLIT_DATA_OFFSET + align;
    bytes.fill(0, 0, h);
    copyBytes(bytes, at, frame);
    return [{ phys: dma.phys, len: h }, { phys: dma.phys + at, len: frame.length }];
  }
  const start = (align - h) & 3;
  bytes.fill(0, start, start + h);
  copyBytes(bytes, start + h, frame);
  return [{ phys: dma.phys + start, len: h + frame.length }];
}
