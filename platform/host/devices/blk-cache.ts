// The power-cut mode of the blk model: a volatile writeback cache in front of the disk
// image, as a real drive with its write cache on. Writes (and discards, write zeroes)
// complete into the cache; reads see the cache over the image; only FLUSH (§5.2.6.1:
// everything completed before it is on stable storage) moves them to the image, the
// backing store. A power cut drops the cache, or lets some of it reach the image first
// (a drive may write back cached sectors at any time, in any order), sector by sector:
// a 512-byte sector is written whole or not at all.

export const CACHE_SECTOR = 512;

export class WritebackCache {
  /** Sector -> its 512 bytes as the driver last wrote them, not yet on the image. */
  readonly #dirty = new Map<number, Uint8Array>();

  /** Sectors written since the last flush. */
  get dirtySectors(): number {
    return this.#dirty.size;
  }

  /** Takes `data` (whole sectors) for the sectors from `sector` on. */
  write(sector: number, data: Uint8Array): void {
    for (let k = 0; k * CACHE_SECTOR < data.length; k++) {
      this.#dirty.set(sector + k, data.slice(k * CACHE_SECTOR, (k + 1) * CACHE_SECTOR));
    }
  }

  /** Zeroes `count` sectors from `sector` (discard, write zeroes). */
  zero(sector: number, count: number): void {
    for (let k = 0; k < count; k++) this.#dirty.set(sector + k, new Uint8Array(CACHE_SECTOR));
  }

  /** What a read of `length` bytes from `sector` returns: the cache over the image. */
  read(image: Uint8Array, sector: number, length: number): Uint8Array {
    const out = image.slice(sector * CACHE_SECTOR, sector * CACHE_SECTOR + length);
    for (let k = 0; k * CACHE_SECTOR < length; k++) {
      const cached = this.#dirty.get(sector + k);
      if (cached) out.set(cached, k * CACHE_SECTOR);
    }
    return out;
  }

  /** FLUSH: every cached sector reaches the image. */
  flush(image: Uint8Array): void {
    for (const [sector, data] of this.#dirty) image.set(data, sector * CACHE_SECTOR);
    this.#dirty.clear();
  }

  /** Power cut: the sectors `persist` picks reach the image, the rest are lost. */
  cut(image: Uint8Array, persist: (sector: number) => boolean = () => false): number {
    let kept = 0;
    for (const [sector, data] of this.#dirty) {
      if (!persist(sector)) continue;
      image.set(data, sector * CACHE_SECTOR);
      kept++;
    }
    this.#dirty.clear();
    return kept;
  }

  /** The disk shrank: cached sectors past the end are dropped. */
  truncate(sectors: number): void {
    for (const sector of [...this.#dirty.keys()]) if (sector >= sectors) this.#dirty.delete(sector);
  }
}
