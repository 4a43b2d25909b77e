// The block driver's hot path: a read or write of DMA memory in one request with one data
// descriptor (block-device.ts routes every call here first). Closures over local
// variables, not methods reading private fields: XS finds a private field by walking the
// instance's field list (~2-4 us per access under TCG), a closure variable by index.
// Only cheap tests: anything that does not fit returns null, and the general path checks
// it all again and says why.

import type { DmaBuffer } from "../../platform/platform.js";
import type { BlkQueue } from "./blk-queue.js";
import { BlkRequestType, SECTOR_SIZE } from "./blk-spec.js";
import type { BlockBuffer } from "./block-types.js";

export interface FastPath {
  /** What the hot path may use: the live queue (null: off), the largest request in
   * sectors, the capacity in sectors, VIRTIO_BLK_F_RO. */
  configure(queue: BlkQueue | null, maxSectors: number, capacity: number, readOnly: boolean): void;
  /** The read's promise, or null: the general path takes it. */
  read(lba: number, count: number, into: BlockBuffer | undefined): Promise<Uint8Array> | null;
  /** The write's promise, or null: the general path takes it. */
  write(lba: number, data: BlockBuffer): Promise<void> | null;
}

export function createFastPath(stats: { requests: number }): FastPath {
  let queue: BlkQueue | null = null;
  let maxSectors = 0;
  let capacity = 0;
  let readOnly = false;
  // The Promise executor, made once: no closure per request.
  let gotResolve: ((value: unknown) => void) | null = null;
  let gotReject: ((error: Error) => void) | null = null;
  const grab = (resolve: (value: unknown) => void, reject: (error: Error) => void): void => {
    gotResolve = resolve;
    gotReject = reject;
  };

  /** A range inside the disk, at most one data descriptor of sectors, and a DMA buffer
   * big enough (typeof phys first: cheaper than instanceof on XS). */
  function fits(lba: number, count: number, buffer: BlockBuffer): buffer is DmaBuffer {
    return (
      typeof lba === "number" && typeof count === "number" &&
      count >= 1 && count <= maxSectors && lba >= 0 && lba % 1 === 0 && count % 1 === 0 &&
      lba + count <= capacity && typeof (buffer as DmaBuffer).phys === "number" &&
      (buffer as DmaBuffer).size >= count * SECTOR_SIZE && (buffer as DmaBuffer).bytes instanceof Uint8Array
    );
  }

  /** Posts one request: its promise, or null if no slot is free (then the general path
   * waits for one). A buffer the ring refuses is a rejected promise. No try: post()
   * returns the ring's refusal instead of throwing it. */
  function post(bq: BlkQueue, type: number, lba: number, phys: number, length: number, value: unknown): Promise<unknown> | null {
    // (A promise made for nothing when every slot is busy: then the general path waits.)
    const promise = new Promise(grab);
    const posted = bq.post(type, lba, phys, length, value, gotResolve!, gotReject!);
    if (posted === true) {
      stats.requests++;
      return promise;
    }
    if (posted === false) return null;
    gotReject!(posted);
    return promise;
  }

  return {
    configure(q, sectors, cap, ro) {
      queue = q;
      maxSectors = q === null ? 0 : sectors;
      capacity = cap;
      readOnly = ro;
    },
    read(lba, count, into) {
      const bq = queue;
      if (bq === null || into === undefined || !fits(lba, count, into)) return null;
      const bytes = into.bytes;
      const length = count * SECTOR_SIZE;
      return post(bq, BlkRequestType.IN, lba, into.phys, length, bytes.length === length ? bytes : bytes.subarray(0, length)) as Promise<Uint8Array> | null;
    },
    write(lba, data) {
      const bq = queue;
      if (bq === null || readOnly || typeof (data as DmaBuffer).phys !== "number") return null;
      const count = (data as DmaBuffer).size / SECTOR_SIZE;
      if (!fits(lba, count, data)) return null;
      return post(bq, BlkRequestType.OUT, lba, data.phys, count * SECTOR_SIZE, undefined) as Promise<void> | null;
    },
  };
}
