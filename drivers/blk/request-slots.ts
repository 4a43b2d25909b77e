// Per-request DMA memory of the block driver: one header (16 bytes, device-readable)
// and one status byte (device-writable) per request in flight (§5.2.6), carved out of
// one DMA block allocated at probe. The number of slots bounds the requests in flight
// (and so the bounce memory they hold); callers beyond it wait in order.

import type { DmaAllocator, DmaBuffer } from "../../platform/platform.js";
import type { BufferRef } from "../../ring/virtqueue.js";
import { REQUEST_HEADER_SIZE } from "./blk-spec.js";

/** Bytes per slot: the header, then the status byte, rounded up to 32. */
const SLOT_STRIDE = 32;
const STATUS_OFFSET = REQUEST_HEADER_SIZE;

/** A data buffer the slot's descriptor lists point at; set per request. */
export interface DataRef {
  phys: number;
  len: number;
}

export interface RequestSlot {
  /** The 16-byte request header (§5.2.6), device-readable. */
  readonly header: BufferRef;
  /** The status byte, device-writable. */
  readonly status: BufferRef;
  /** One data buffer of the request in flight (set it before enqueueing the lists below). */
  readonly data: DataRef;
  /** Preallocated chains of one request with one data buffer, so the hot path builds no
   * arrays: an IN is [header] + [data, status], an OUT [header, data] + [status]. They
   * stay valid while the slot is held (the ring copies them into descriptors). */
  readonly headerOnly: readonly BufferRef[];
  readonly headerThenData: readonly BufferRef[];
  readonly dataThenStatus: readonly BufferRef[];
  readonly statusOnly: readonly BufferRef[];
  /** Writes type, reserved 0 and the 64-bit sector, little-endian; sets the status byte to 0xff. */
  prepare(type: number, sector: number): void;
  /** The status byte as the device left it (0xff if untouched). */
  readStatus(): number;
}

interface Waiter {
  resolve(slot: RequestSlot): void;
  reject(error: Error): void;
}

export class RequestSlots {
  readonly count: number;
  readonly #dma: DmaAllocator;
  readonly #block: DmaBuffer;
  readonly #free: RequestSlot[] = [];
  readonly #waiters: Waiter[] = [];
  #closed: Error | null = null;

  constructor(dma: DmaAllocator, count: number) {
    this.count = count;
    this.#dma = dma;
    this.#block = dma.alloc(count * SLOT_STRIDE, 16);
    for (let i = count - 1; i >= 0; i--) this.#free.push(this.#slot(i * SLOT_STRIDE));
  }

  /** Slots free now. */
  get available(): number {
    return this.#free.length;
  }

  /** A free slot now, or null. */
  take(): RequestSlot | null {
    if (this.#closed !== null) throw this.#closed;
    return this.#free.pop() ?? null;
  }

  /** The next slot to be given back (in order of asking). */
  wait(): Promise<RequestSlot> {
    return new Promise<RequestSlot>((resolve, reject) => {
      if (this.#closed !== null) return reject(this.#closed);
      this.#waiters.push({ resolve, reject });
    });
  }

  /** Gives a slot back (to the first waiter, if any). Ignored once closed. */
  give(slot: RequestSlot): void {
    if (this.#closed !== null) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(slot);
    else this.#free.push(slot);
  }

  /** Fails every waiter with `error` and frees the DMA block. Call once the device is
   * reset (it no longer reads headers or writes status bytes). Safe twice. */
  close(error: Error): void {
    if (this.#closed !== null) return;
    this.#closed = error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    this.#free.length = 0;
    this.#dma.free(this.#block);
  }

  #slot(offset: number): RequestSlot {
    const view = this.#block.view;
    const bytes = this.#block.bytes;
    const phys = this.#block.phys + offset;
    const header: BufferRef = { phys, len: REQUEST_HEADER_SIZE };
    const status: BufferRef = { phys: phys + STATUS_OFFSET, len: 1 };
    const data: DataRef = { phys: 0, len: 0 };
    return {
      header,
      status,
      data,
      headerOnly: [header],
      headerThenData: [header, data],
      dataThenStatus: [data, status],
      statusOnly: [status],
      prepare(type: number, sector: number): void {
        view.setUint32(offset, type, true); // type, le32
        view.setUint32(offset + 4, 0, true); // reserved, le32
        view.setUint32(offset + 8, sector % 0x1_0000_0000, true); // sector low, le32 of le64
        view.setUint32(offset + 12, Math.floor(sector / 0x1_0000_0000), true); // sector high
        bytes[offset + STATUS_OFFSET] = 0xff; // status, u8: a value no device returns
      },
      readStatus: () => bytes[offset + STATUS_OFFSET]!,
    };
  }
}
