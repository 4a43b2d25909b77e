// The memory a driver may hand a device (VIRTIO 1.2 §2.7.4): the DMA pool, and the pages of
// the platform's page pool (virtio-balloon's free page reporting names those, §5.5.6.7).
// The ring checks every buffer against `contains` of the allocator it is given; this one
// allocates from the DMA pool and accepts both.

import type { DmaAllocator, Platform } from "../../platform/platform.js";

const cache = new WeakMap<Platform, DmaAllocator>();

/** The allocator a queue of `platform` is built with. */
export function deviceMemory(platform: Platform): DmaAllocator {
  const pages = platform.pages;
  if (pages === undefined) return platform.dma;
  let memory = cache.get(platform);
  if (memory === undefined) {
    const dma = platform.dma;
    memory = {
      alloc: (size, align) => dma.alloc(size, align),
      free: (buffer) => dma.free(buffer),
      stats: () => dma.stats(),
      contains: (phys, len) => dma.contains(phys, len) || pages.contains(phys, len),
    };
    cache.set(platform, memory);
  }
  return memory;
}
