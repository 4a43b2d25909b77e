// DmaPool: the DmaAllocator over one DmaRegion. First-fit over a free list kept sorted by
// offset; blocks are aligned on their PHYSICAL address (what the device sees), and freed
// blocks coalesce with their neighbours. Shared by XS and Node: no host APIs here.

import type { DmaAllocator, DmaBuffer, DmaRegion, DmaStats } from "./platform.js";

/** Granule of every reservation: small blocks do not fragment the pool into slivers. */
const GRANULE = 8;
/** Largest alignment accepted (a legacy virtqueue wants a 4 KiB page; 64 KiB is plenty). */
const MAX_ALIGN = 65536;

/** The pool cannot serve a request: carries what was asked and what is left. */
export class DmaExhaustedError extends Error {
  constructor(
    readonly requested: number,
    readonly align: number,
    readonly freeBytes: number,
    readonly largestFree: number,
  ) {
    super(
      `DMA pool exhausted: ${requested} bytes aligned to ${align} requested, ` +
        `${freeBytes} bytes free, largest free block ${largestFree}`,
    );
    this.name = "DmaExhaustedError";
  }
}

/** A bad argument (size, alignment) or a bad free (double free, foreign buffer). */
export class DmaUsageError extends Error {
  constructor(
    readonly kind: "BadSize" | "BadAlign" | "DoubleFree" | "ForeignBuffer",
    message: string,
    readonly value?: number,
  ) {
    super(message);
    this.name = "DmaUsageError";
  }
}

/** DmaStats plus what the `mem` command and tests like to see. */
export interface DmaPoolStats extends DmaStats {
  /** Bytes not reserved. */
  readonly free: number;
  /** Largest free block (an upper bound on what `alloc` can serve). */
  readonly largestFree: number;
  /** Number of free blocks (fragmentation). */
  readonly freeBlocks: number;
  /** Allocations since the pool was created. */
  readonly allocationsTotal: number;
}

interface Block {
  offset: number;
  size: number;
}

class PoolBuffer implements DmaBuffer {
  constructor(
    readonly phys: number,
    readonly size: number,
    readonly bytes: Uint8Array,
    readonly view: DataView,
  ) {}
}

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

export class DmaPool implements DmaAllocator {
  /** The region's first address and its length, first of the fields: contains() runs
   * for every buffer a ring points a descriptor at, and XS finds the first-declared
   * private fields fastest. */
  readonly #lo: number;
  readonly #length: number;
  readonly #region: DmaRegion;
  /** Free blocks, sorted by offset, never adjacent (always coalesced). */
  readonly #free: Block[];
  /** Live buffers and the block each one reserves. */
  readonly #live = new Map<DmaBuffer, Block>();
  /** Buffers already freed, to tell a double free from a foreign buffer. */
  readonly #released = new WeakSet<DmaBuffer>();
  #used = 0;
  #peak = 0;
  #allocationsTotal = 0;

  constructor(region: DmaRegion) {
    const length = region.bytes.length;
    if (!Number.isInteger(region.phys) || region.phys < 0 || region.phys + length > 2 ** 53) {
      throw new DmaUsageError("BadSize", `DMA region at an invalid address ${region.phys}`, region.phys);
    }
    this.#lo = region.phys;
    this.#length = length;
    this.#region = region;
    this.#free = length > 0 ? [{ offset: 0, size: length }] : [];
  }

  get phys(): number {
    return this.#region.phys;
  }

  /** True when [phys, phys + len) lies inside the pool's region (len ≥ 1). */
  contains(phys: number, len: number): boolean {
    if (typeof phys !== "number" || typeof len !== "number") return false;
    // An integer offset inside the region and a length that fits after it: both are then
    // safe integers (the region ends below 2^53). NaN and infinities fail a comparison.
    const offset = phys - this.#lo;
    return offset >= 0 && len >= 1 && len <= this.#length - offset && offset % 1 === 0 && len % 1 === 0;
  }

  /** Reserves `size` bytes whose physical address is a multiple of `align`. */
  alloc(size: number, align = 16): DmaBuffer {
    if (!Number.isInteger(size) || size <= 0) {
      throw new DmaUsageError("BadSize", `DMA alloc: size must be a positive integer, got ${size}`, size);
    }
    if (!isPowerOfTwo(align) || align > MAX_ALIGN) {
      throw new DmaUsageError("BadAlign", `DMA alloc: alignment must be a power of two ≤ ${MAX_ALIGN}, got ${align}`, align);
    }
    const reserve = roundUp(size, GRANULE);
    const physAlign = Math.max(align, GRANULE);
    for (let i = 0; i < this.#free.length; i++) {
      const block = this.#free[i]!;
      const start = roundUp(this.#region.phys + block.offset, physAlign) - this.#region.phys;
      const lead = start - block.offset;
      if (lead + reserve > block.size) continue;
      this.#carve(i, block, lead, reserve);
      return this.#hand(start, size, reserve);
    }
    const s = this.stats();
    throw new DmaExhaustedError(size, align, s.free, s.largestFree);
  }

  /** Returns a buffer to the pool; its neighbours merge with it. */
  free(buffer: DmaBuffer): void {
    const block = this.#live.get(buffer);
    if (block === undefined) {
      if (this.#released.has(buffer)) {
        throw new DmaUsageError("DoubleFree", `DMA free: buffer at 0x${buffer.phys.toString(16)} already freed`, buffer.phys);
      }
      throw new DmaUsageError("ForeignBuffer", `DMA free: buffer at 0x${Number(buffer?.phys).toString(16)} is not from this pool`, buffer?.phys);
    }
    this.#live.delete(buffer);
    this.#released.add(buffer);
    this.#used -= block.size;
    this.#insertFree(block.offset, block.size);
  }

  stats(): DmaPoolStats {
    let free = 0;
    let largestFree = 0;
    for (const b of this.#free) {
      free += b.size;
      if (b.size > largestFree) largestFree = b.size;
    }
    return {
      total: this.#region.bytes.length,
      used: this.#used,
      peak: this.#peak,
      allocations: this.#live.size,
      free,
      largestFree,
      freeBlocks: this.#free.length,
      allocationsTotal: this.#allocationsTotal,
    };
  }

  /** Replaces free block `i` by what is left around [lead, lead + reserve). */
  #carve(i: number, block: Block, lead: number, reserve: number): void {
    const tail = block.size - lead - reserve;
    const pieces: Block[] = [];
    if (lead > 0) pieces.push({ offset: block.offset, size: lead });
    if (tail > 0) pieces.push({ offset: block.offset + lead + reserve, size: tail });
    this.#free.splice(i, 1, ...pieces);
  }

  #hand(offset: number, size: number, reserve: number): DmaBuffer {
    const r = this.#region.bytes;
    const bytes = r.subarray(offset, offset + size);
    const view = new DataView(r.buffer, r.byteOffset + offset, size);
    const buffer = new PoolBuffer(this.#region.phys + offset, size, bytes, view);
    this.#live.set(buffer, { offset, size: reserve });
    this.#used += reserve;
    if (this.#used > this.#peak) this.#peak = this.#used;
    this.#allocationsTotal++;
    return buffer;
  }

  /** Inserts a free block in offset order, merging with the blocks it touches. */
  #insertFree(offset: number, size: number): void {
    const list = this.#free;
    let i = 0;
    while (i < list.length && list[i]!.offset < offset) i++;
    const prev = i > 0 ? list[i - 1]! : null;
    const next = i < list.length ? list[i]! : null;
    if (prev && prev.offset + prev.size === offset) {
      prev.size += size;
      if (next && prev.offset + prev.size === next.offset) {
        prev.size += next.size;
        list.splice(i, 1);
      }
    } else if (next && offset + size === next.offset) {
      next.offset = offset;
      next.size += size;
    } else {
      list.splice(i, 0, { offset, size });
    }
  }
}
