// Pieces of the block driver's general request path: how a request's payload is built,
// a multi-piece call that settles only once every piece it sent has settled, the bounce
// memory budget, and the 16-byte DISCARD / WRITE_ZEROES range (§5.2.6).

import type { DmaAllocator } from "../../platform/platform.js";
import type { BufferRef } from "../../ring/virtqueue.js";
import { DISCARD_RANGE_SIZE } from "./blk-spec.js";

/** What one request carries besides header and status, and what to do after. */
export interface Built<T> {
  readonly readable: readonly BufferRef[];
  readonly writable: readonly BufferRef[];
  /** Bytes the device must write before the status byte (data of a read, the ID). */
  readonly expectIn: number;
  /** On success (used length and status checked): the call's result. */
  readonly finish?: (len: number) => T;
  /** Once the device no longer holds the chain (returned, or reset). */
  readonly cleanup?: () => void;
}

/** The pieces of one call: once one fails, the pieces not yet sent are not sent. */
export interface PieceGroup {
  failed: Error | null;
}

/**
 * Runs `count` sectors as pieces of at most `per` (started in order, in this turn), and
 * settles once every piece settled: a failed piece does not reject the call while its
 * siblings still copy into, or have the device write, the caller's memory (once a call
 * settled, the caller owns its memory again). Rejects with the first failure.
 */
export async function runPieces(count: number, per: number, start: (done: number, n: number, group: PieceGroup) => Promise<unknown>): Promise<void> {
  const group: PieceGroup = { failed: null };
  if (count <= per) {
    await start(0, count, group);
    return;
  }
  const running: Promise<unknown>[] = [];
  for (let done = 0; done < count; done += per) {
    const n = Math.min(per, count - done);
    running.push(start(done, n, group).catch((error: unknown) => {
      group.failed ??= error instanceof Error ? error : new Error(String(error));
    }));
  }
  await Promise.all(running);
  if (group.failed !== null) throw group.failed;
}

/** `len` bytes at `phys` as descriptors of at most `sizeMax` bytes each. */
export function segments(phys: number, len: number, sizeMax: number): BufferRef[] {
  const out: BufferRef[] = [];
  for (let off = 0; off < len; off += sizeMax) out.push({ phys: phys + off, len: Math.min(sizeMax, len - off) });
  return out;
}

/** One DISCARD / WRITE_ZEROES request's payload: {le64 sector, le32 num_sectors, le32 flags}. */
export function discardRange(pool: DmaAllocator, sector: number, n: number, flags: number): Built<void> {
  const range = pool.alloc(DISCARD_RANGE_SIZE, 16);
  const v = range.view;
  v.setUint32(0, sector % 0x1_0000_0000, true); // sector, le64 (low)
  v.setUint32(4, Math.floor(sector / 0x1_0000_0000), true); // sector, le64 (high)
  v.setUint32(8, n, true); // num_sectors, le32
  v.setUint32(12, flags, true); // flags, le32
  return { readable: [{ phys: range.phys, len: DISCARD_RANGE_SIZE }], writable: [], expectIn: 0, cleanup: () => pool.free(range) };
}

/** Bounce memory (DMA) held by requests at most: a large read into a plain array never
 * takes the whole DMA pool. One request is always allowed, whatever its size. */
export class BounceBudget {
  readonly #max: number;
  #held = 0;
  readonly #waiters: { readonly length: number; readonly resolve: () => void }[] = [];

  constructor(max: number) {
    this.#max = max;
  }

  /** Reserves `length` bytes: null if granted now, else a promise of it (in order). */
  take(length: number): Promise<void> | null {
    if (this.#waiters.length === 0 && (this.#held === 0 || this.#held + length <= this.#max)) {
      this.#held += length;
      return null;
    }
    return new Promise<void>((resolve) => this.#waiters.push({ length, resolve }));
  }

  give(length: number): void {
    this.#held -= length;
    while (this.#waiters.length > 0) {
      const next = this.#waiters[0]!;
      if (this.#held !== 0 && this.#held + next.length > this.#max) break;
      this.#waiters.shift();
      this.#held += next.length;
      next.resolve();
    }
  }
}
