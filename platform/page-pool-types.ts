// What the page pool (page-pool.ts) hands out and reports: a page lent to an application,
// the pool's figures, the reclaimer it asks when empty (the balloon's DEFLATE_ON_OOM,
// VIRTIO 1.2 §5.5.6), and its errors. Shared by XS and Node: no host APIs here.

/** A page in the hands of an application: its frame, address and CPU view. */
export interface PoolPage {
  readonly frame: number;
  readonly phys: number;
  readonly bytes: Uint8Array;
}

export interface PagePoolStats {
  readonly pageSize: number;
  /** Pages the pool manages, in every region. */
  readonly totalPages: number;
  readonly freePages: number;
  /** Pages held, by holder name ("app" for alloc(); e.g. "balloon"). */
  readonly held: { readonly [holder: string]: number };
  /** Regions, as physical ranges. */
  readonly regions: readonly { readonly phys: number; readonly bytes: number }[];
  /** Allocations that found the pool empty even after asking the reclaimers. */
  readonly failures: number;
}

/**
 * Asked for `wanted` pages when the pool cannot serve an allocation; gives back what it can
 * at once (synchronously) and returns how many pages it gave. The balloon's
 * DEFLATE_ON_OOM (§5.5.6) is one.
 */
export type PageReclaimer = (wanted: number) => number;

/** The pool has no free page, even after every reclaimer was asked. */
export class PagePoolExhaustedError extends Error {
  constructor(readonly wanted: number, readonly free: number) {
    super(`page pool exhausted: ${wanted} page(s) wanted, ${free} free`);
    this.name = "PagePoolExhaustedError";
  }
}

/** A bad call: a page given back twice, a frame outside the pool, a bad region. */
export class PagePoolUsageError extends Error {
  constructor(readonly kind: "BadRegion" | "NotHeld" | "ForeignFrame" | "BadCount", message: string, readonly value?: number) {
    super(message);
    this.name = "PagePoolUsageError";
  }
}
