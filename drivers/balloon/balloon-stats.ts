// The statsq buffer (VIRTIO 1.2 §5.5.6.3): an array of struct virtio_balloon_stat
// { le16 tag; le64 val; } (packed, 10 bytes), the same subset of tags every time.

import type { PagePool } from "../../platform/page-pool.js";
import type { Platform } from "../../platform/platform.js";
import { BalloonStat, STAT_ENTRY_BYTES, SUPPLIED_STATS } from "./balloon-spec.js";

/** What the firmware knows of its memory, in bytes. */
export interface MemoryFigures {
  /** RAM of the board. */
  readonly total: number;
  /** Not used for anything: free pool pages, free DMA memory, the C heap's unused part. */
  readonly free: number;
  /** Free, plus what DEFLATE_ON_OOM could take back from the balloon. */
  readonly available: number;
  /** The C heap in use (XS chunks and slots), where the platform tells; else null. */
  readonly heapInUse: number | null;
}

/** The value of one tag: no swap, no page faults, no caches, no hugetlb on this firmware. */
function statValue(tag: number, m: MemoryFigures): number {
  switch (tag) {
    case BalloonStat.MEMFREE: return m.free;
    case BalloonStat.MEMTOT: return m.total;
    case BalloonStat.AVAIL: return m.available;
    default: return 0;
  }
}

/** Writes every supplied statistic into `view` (little-endian: the guest's order, legacy too). */
export function fillStats(view: DataView, m: MemoryFigures): void {
  for (let i = 0; i < SUPPLIED_STATS.length; i++) {
    const tag = SUPPLIED_STATS[i]!;
    const at = i * STAT_ENTRY_BYTES;
    view.setUint16(at, tag, true);
    view.setBigUint64(at + 2, BigInt(Math.max(0, Math.floor(statValue(tag, m)))), true);
  }
}

/** The figures now: `lendablePages` are balloon pages DEFLATE_ON_OOM could take back. */
export function measureMemory(platform: Platform, pool: PagePool, lendablePages: number): MemoryFigures {
  const pages = pool.stats();
  const dma = platform.dma.stats();
  const engine = platform.engineStats();
  const limit = engine["cHeapLimit"];
  const used = engine["cHeapUsed"];
  const heapFree = typeof limit === "number" && typeof used === "number" ? Math.max(0, limit - used) : 0;
  const free = pages.freePages * pages.pageSize + (dma.total - dma.used) + heapFree;
  return { total: platform.board.ram.size, free, available: free + lendablePages * pages.pageSize, heapInUse: used ?? null };
}
