// PagePool: RAM that nobody else uses (outside the image, the engine's heap, the stacks and
// the DMA pool), handed out in 4 KiB pages with their physical addresses. Memory devices
// lend pages from it: virtio-balloon (VIRTIO 1.2 §5.5) gives pages to the host and takes
// them back; virtio-mem (§5.15) adds plugged memory as new regions. Shared by XS and Node:
// no host APIs here.
//
// Pages are named by their frame number (physical address / 4096, the unit of the
// balloon's page-frame arrays, §5.5.6). The pool keeps a stack of free frames and one
// state byte per page, so taking and giving back thousands of pages allocates nothing.

import { PagePoolExhaustedError, PagePoolUsageError, type PagePoolStats, type PageReclaimer, type PoolPage } from "./page-pool-types.js";
import type { DmaRegion } from "./platform.js";

export { PagePoolExhaustedError, PagePoolUsageError } from "./page-pool-types.js";
export type { PagePoolStats, PageReclaimer, PoolPage } from "./page-pool-types.js";

/** Bytes per page: the balloon's historical 4 KiB unit (§5.5.6 footnote), also ARM's small page. */
export const PAGE_SIZE = 4096;
const PAGE_SHIFT = 12;

const FREE = 0;
const HELD = 1;

interface Region {
  readonly firstFrame: number;
  readonly pages: number;
  readonly bytes: Uint8Array;
  /** FREE or HELD per page. */
  readonly state: Uint8Array;
  /** Holder index per held page. */
  readonly holder: Uint8Array;
  /** Pages [untouched, pages) were never handed out: free, but not on the free stack
   * (so that a pool of tens of thousands of pages costs no loop at boot). */
  untouched: number;
}

export class PagePool {
  readonly pageSize = PAGE_SIZE;
  readonly #regions: Region[] = [];
  /** Freed frames, a stack (top at #stackCount - 1); untouched pages are not on it. */
  #free = new Uint32Array(0);
  #stackCount = 0;
  /** Free pages in all: the stack plus every region's untouched pages. */
  #freeCount = 0;
  readonly #holders: string[] = ["app"];
  readonly #heldCounts: number[] = [0];
  readonly #reclaimers: PageReclaimer[] = [];
  #failures = 0;

  /** A pool over `region` (page-aligned start, whole pages; may be empty). */
  constructor(region?: DmaRegion) {
    if (region) this.addRegion(region);
  }

  /** Adds memory to the pool (virtio-mem plugs, §5.15): page-aligned, whole pages. */
  addRegion(region: DmaRegion): void {
    const length = region.bytes.length;
    if (!Number.isSafeInteger(region.phys) || region.phys % PAGE_SIZE !== 0 || length % PAGE_SIZE !== 0) {
      throw new PagePoolUsageError("BadRegion", `page pool region at 0x${region.phys.toString(16)} of ${length} bytes is not whole 4 KiB pages`, region.phys);
    }
    const firstFrame = region.phys / PAGE_SIZE;
    const pages = length / PAGE_SIZE;
    for (const r of this.#regions) {
      if (firstFrame < r.firstFrame + r.pages && r.firstFrame < firstFrame + pages) {
        throw new PagePoolUsageError("BadRegion", `page pool region at 0x${region.phys.toString(16)} overlaps one already in the pool`, region.phys);
      }
    }
    if (pages === 0) return;
    this.#regions.push({ firstFrame, pages, bytes: region.bytes, state: new Uint8Array(pages), holder: new Uint8Array(pages), untouched: 0 });
    const total = this.totalPages;
    if (total > this.#free.length) {
      const grown = new Uint32Array(total);
      grown.set(this.#free.subarray(0, this.#stackCount));
      this.#free = grown;
    }
    this.#freeCount += pages;
  }

  /**
   * Takes a region out of the pool again (virtio-mem unplugs it, §5.15.6), only if every one
   * of its pages is free. Returns false (and changes nothing) if a page is in use.
   */
  removeRegion(phys: number, size: number): boolean {
    const i = this.#regions.findIndex((r) => r.firstFrame * PAGE_SIZE === phys && r.pages * PAGE_SIZE === size);
    if (i < 0) throw new PagePoolUsageError("BadRegion", `page pool: no region at 0x${phys.toString(16)} of ${size} bytes`, phys);
    const r = this.#regions[i]!;
    for (let k = 0; k < r.pages; k++) if (r.state[k] !== FREE) return false;
    let w = 0;
    for (let j = 0; j < this.#stackCount; j++) {
      const f = this.#free[j]!;
      if (f >= r.firstFrame && f < r.firstFrame + r.pages) continue;
      this.#free[w++] = f;
    }
    this.#stackCount = w;
    this.#freeCount -= r.pages;
    this.#regions.splice(i, 1);
    return true;
  }

  /** True when every page of the region at `phys` is free (it could be removed). */
  regionFree(phys: number, size: number): boolean {
    const r = this.#regions.find((x) => x.firstFrame * PAGE_SIZE === phys && x.pages * PAGE_SIZE === size);
    if (r === undefined) return false;
    for (let k = 0; k < r.pages; k++) if (r.state[k] !== FREE) return false;
    return true;
  }

  get totalPages(): number {
    let n = 0;
    for (const r of this.#regions) n += r.pages;
    return n;
  }

  get freePages(): number {
    return this.#freeCount;
  }

  /** True when `frame` is a page of this pool. */
  owns(frame: number): boolean {
    return this.#find(frame) !== null;
  }

  /**
   * True when [phys, phys + len) lies inside one region of the pool: memory the driver
   * owns and may hand a device (free page reporting names such pages). len ≥ 1.
   */
  contains(phys: number, len: number): boolean {
    if (!Number.isSafeInteger(phys) || !Number.isSafeInteger(len) || len <= 0) return false;
    for (const r of this.#regions) {
      const start = r.firstFrame * PAGE_SIZE;
      if (phys >= start && phys + len <= start + r.pages * PAGE_SIZE) return true;
    }
    return false;
  }

  /** True when `frame` is a free page of this pool. */
  isFree(frame: number): boolean {
    const r = this.#find(frame);
    return r !== null && r.state[frame - r.firstFrame] === FREE;
  }

  /** Physical address of a frame. */
  phys(frame: number): number {
    return frame * PAGE_SIZE;
  }

  /** The CPU's view of one page of the pool (a new subarray: not for hot loops). */
  view(frame: number): Uint8Array {
    const r = this.#region(frame);
    const at = (frame - r.firstFrame) << PAGE_SHIFT;
    return r.bytes.subarray(at, at + PAGE_SIZE);
  }

  /** Fills a page with a 32-bit little-endian pattern (the balloon's poison_val, §5.5.6.5). */
  fill32(frame: number, value: number): void {
    const r = this.#region(frame);
    const at = (frame - r.firstFrame) << PAGE_SHIFT;
    const v = value >>> 0;
    const b0 = v & 0xff, b1 = (v >>> 8) & 0xff, b2 = (v >>> 16) & 0xff, b3 = v >>> 24;
    if (b0 === b1 && b1 === b2 && b2 === b3) {
      r.bytes.fill(b0, at, at + PAGE_SIZE);
      return;
    }
    const page = r.bytes.subarray(at, at + PAGE_SIZE);
    page[0] = b0; page[1] = b1; page[2] = b2; page[3] = b3;
    // Double the filled part each time: a few native copies, not 1024 JS stores.
    for (let filled = 4; filled < PAGE_SIZE; filled *= 2) page.copyWithin(filled, 0, Math.min(filled, PAGE_SIZE - filled));
  }

  /**
   * Fills `count` frames (from `frames[at]`) with a 32-bit pattern; runs of consecutive
   * frames in one region are filled with one native call each (pages taken together mostly
   * are consecutive), so poisoning thousands of pages costs a few calls, not thousands.
   */
  fillFrames(frames: Uint32Array, count: number, value: number, at = 0): void {
    let i = 0;
    while (i < count) {
      const first = frames[at + i]!;
      const r = this.#region(first);
      let n = 1;
      while (i + n < count && frames[at + i + n] === first + n && first + n < r.firstFrame + r.pages) n++;
      this.#fillRun(r, first, n, value);
      i += n;
    }
  }

  /** Fills the frames [first, first + pages) of one region with a 32-bit pattern. */
  fillRun(first: number, pages: number, value: number): void {
    this.#fillRun(this.#region(first), first, pages, value);
  }

  #fillRun(r: Region, first: number, pages: number, value: number): void {
    const start = (first - r.firstFrame) << PAGE_SHIFT;
    const end = start + pages * PAGE_SIZE;
    const v = value >>> 0;
    const b0 = v & 0xff, b1 = (v >>> 8) & 0xff, b2 = (v >>> 16) & 0xff, b3 = v >>> 24;
    if (b0 === b1 && b1 === b2 && b2 === b3) {
      r.bytes.fill(b0, start, end);
      return;
    }
    const run = r.bytes.subarray(start, end);
    run[0] = b0; run[1] = b1; run[2] = b2; run[3] = b3;
    for (let filled = 4; filled < run.length; filled *= 2) run.copyWithin(filled, 0, Math.min(filled, run.length - filled));
  }

  /** Registers a reclaimer, asked (in order) when an allocation finds the pool empty. */
  addReclaimer(reclaimer: PageReclaimer): () => void {
    this.#reclaimers.push(reclaimer);
    return () => {
      const i = this.#reclaimers.indexOf(reclaimer);
      if (i >= 0) this.#reclaimers.splice(i, 1);
    };
  }

  /**
   * Takes up to `count` free pages for `holder`, writing their frames into `out` from
   * `at`. Never asks the reclaimers (a holder like the balloon takes only what is free).
   * Returns how many it took.
   */
  take(holder: string, count: number, out: Uint32Array, at = 0): number {
    if (!Number.isInteger(count) || count < 0 || at < 0 || at + count > out.length) {
      throw new PagePoolUsageError("BadCount", `page pool take: ${count} page(s) at ${at} do not fit an array of ${out.length}`, count);
    }
    const h = this.#holderIndex(holder);
    const n = Math.min(count, this.#freeCount);
    let last: Region = this.#regions[0]!;
    for (let i = 0; i < n; i++) {
      const frame = this.#stackCount > 0 ? this.#free[--this.#stackCount]! : this.#fromUntouched();
      if (frame < last.firstFrame || frame >= last.firstFrame + last.pages) last = this.#find(frame)!;
      const r = last;
      r.state[frame - r.firstFrame] = HELD;
      r.holder[frame - r.firstFrame] = h;
      out[at + i] = frame;
    }
    this.#freeCount -= n;
    this.#heldCounts[h]! += n;
    return n;
  }

  /** Gives back `count` pages that `holder` took (frames from `frames[at]`). */
  give(holder: string, frames: Uint32Array, count: number, at = 0): void {
    const h = this.#holderIndex(holder);
    for (let i = 0; i < count; i++) {
      const frame = frames[at + i]!;
      const r = this.#find(frame);
      if (r === null) throw new PagePoolUsageError("ForeignFrame", `page pool give: frame 0x${frame.toString(16)} is not in the pool`, frame);
      const k = frame - r.firstFrame;
      if (r.state[k] !== HELD || r.holder[k] !== h) {
        throw new PagePoolUsageError("NotHeld", `page pool give: frame 0x${frame.toString(16)} is not held by ${holder}`, frame);
      }
      r.state[k] = FREE;
      this.#free[this.#stackCount++] = frame;
      this.#freeCount++;
    }
    this.#heldCounts[h]! -= count;
  }

  /** One page for an application; asks the reclaimers when none is free. */
  alloc(): PoolPage {
    if (this.#freeCount === 0) this.#reclaim(1);
    if (this.#freeCount === 0) {
      this.#failures++;
      throw new PagePoolExhaustedError(1, 0);
    }
    const one = new Uint32Array(1);
    this.take("app", 1, one);
    const frame = one[0]!;
    return Object.freeze({ frame, phys: frame * PAGE_SIZE, bytes: this.view(frame) });
  }

  /** Returns an application's page. */
  free(page: PoolPage): void {
    this.give("app", Uint32Array.of(page.frame), 1);
  }

  /**
   * Finds up to `max` runs of consecutive free frames (each at least `minPages` long),
   * for free page reporting (§5.5.6.7). Writes [firstFrame, pages] pairs into `out`.
   */
  freeRuns(minPages: number, max: number, out: Uint32Array): number {
    let found = 0;
    for (const r of this.#regions) {
      let k = 0;
      while (k < r.pages && found < max) {
        if (r.state[k] !== FREE) { k++; continue; }
        let end = k;
        while (end < r.pages && r.state[end] === FREE) end++;
        if (end - k >= minPages) {
          out[found * 2] = r.firstFrame + k;
          out[found * 2 + 1] = end - k;
          found++;
        }
        k = end;
      }
    }
    return found;
  }

  /** Takes exactly the frames [first, first + pages) for `holder` (they must be free). */
  takeRun(holder: string, first: number, pages: number): void {
    const r = this.#region(first);
    const k0 = first - r.firstFrame;
    if (pages <= 0 || k0 + pages > r.pages) throw new PagePoolUsageError("BadCount", `page pool takeRun: ${pages} page(s) from 0x${first.toString(16)} leave the region`, pages);
    for (let k = k0; k < k0 + pages; k++) {
      if (r.state[k] !== FREE) throw new PagePoolUsageError("NotHeld", `page pool takeRun: frame 0x${(r.firstFrame + k).toString(16)} is not free`, r.firstFrame + k);
    }
    const h = this.#holderIndex(holder);
    // Untouched pages go onto the stack first (a loop, but free page reporting is rare).
    while (r.untouched < r.pages) this.#free[this.#stackCount++] = r.firstFrame + r.untouched++;
    for (let k = k0; k < k0 + pages; k++) {
      r.state[k] = HELD;
      r.holder[k] = h;
    }
    // Drop the run from the free stack, keeping the others in order.
    let w = 0;
    for (let i = 0; i < this.#stackCount; i++) {
      const f = this.#free[i]!;
      if (f >= first && f < first + pages) continue;
      this.#free[w++] = f;
    }
    this.#stackCount = w;
    this.#freeCount -= pages;
    this.#heldCounts[h]! += pages;
  }

  stats(): PagePoolStats {
    const held: { [holder: string]: number } = {};
    this.#holders.forEach((name, i) => { held[name] = this.#heldCounts[i]!; });
    return {
      pageSize: PAGE_SIZE,
      totalPages: this.totalPages,
      freePages: this.#freeCount,
      held,
      regions: this.#regions.map((r) => ({ phys: r.firstFrame * PAGE_SIZE, bytes: r.pages * PAGE_SIZE })),
      failures: this.#failures,
    };
  }

  /** The lowest never-used free page (the caller checked that one is free). */
  #fromUntouched(): number {
    for (const r of this.#regions) {
      if (r.untouched < r.pages) return r.firstFrame + r.untouched++;
    }
    throw new PagePoolUsageError("BadCount", "page pool: free count out of step");
  }

  #reclaim(wanted: number): void {
    for (const reclaimer of this.#reclaimers) {
      if (this.#freeCount >= wanted) return;
      reclaimer(wanted - this.#freeCount);
    }
  }

  #holderIndex(holder: string): number {
    let i = this.#holders.indexOf(holder);
    if (i < 0) {
      if (this.#holders.length >= 255) throw new PagePoolUsageError("BadCount", "page pool: too many holders");
      i = this.#holders.push(holder) - 1;
      this.#heldCounts.push(0);
    }
    return i;
  }

  #find(frame: number): Region | null {
    for (const r of this.#regions) {
      if (frame >= r.firstFrame && frame < r.firstFrame + r.pages) return r;
    }
    return null;
  }

  #region(frame: number): Region {
    const r = this.#find(frame);
    if (r === null) throw new PagePoolUsageError("ForeignFrame", `frame 0x${frame.toString(16)} is not in the page pool`, frame);
    return r;
  }
}
