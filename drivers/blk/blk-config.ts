// Reading and validating the block device configuration (VIRTIO 1.2 §5.2.4). Every
// field is read in one generation-checked group (§2.5.1), only when its feature was
// negotiated, and checked before the driver relies on it (never trust the device).

import type { VirtioDevice } from "../virtio/device.js";
import { hasFeature } from "../virtio/features.js";
import { BlkConfig, BlkFeature, SECTOR_SIZE } from "./blk-spec.js";
import { BlkConfigError } from "./errors.js";

/** What the configuration says, validated. Sizes in bytes, counts in 512-byte sectors. */
export interface BlkConfigValues {
  /** Disk size in 512-byte sectors. */
  readonly capacity: number;
  /** Largest segment in bytes (size_max), or null when SIZE_MAX was not negotiated. */
  readonly sizeMax: number | null;
  /** Most data segments per request (seg_max), or null when SEG_MAX was not negotiated. */
  readonly segMax: number | null;
  /** Optimal block size in bytes (blk_size, default 512). */
  readonly blockSize: number;
  readonly geometry: { readonly cylinders: number; readonly heads: number; readonly sectors: number } | null;
  readonly topology: {
    readonly physicalBlockExp: number;
    readonly alignmentOffset: number;
    readonly minIoSize: number;
    readonly optIoSize: number;
  } | null;
  readonly discard: { readonly maxSectors: number; readonly maxSeg: number; readonly sectorAlignment: number } | null;
  readonly writeZeroes: { readonly maxSectors: number; readonly maxSeg: number; readonly mayUnmap: boolean } | null;
}

/** Largest blk_size accepted: 64 KiB (no disk uses more; larger is taken as garbage). */
const MAX_BLOCK_SIZE = 65536;

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** Reads the capacity alone (for a configuration change), validated. */
export function readCapacity(device: VirtioDevice): number {
  const raw = device.readConfig((c) => c.u64(BlkConfig.capacity));
  return checkCapacity(device.location, raw);
}

function checkCapacity(location: string, raw: bigint): number {
  if (raw > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new BlkConfigError(location, "capacity", raw, `more than ${Number.MAX_SAFE_INTEGER} sectors`);
  }
  return Number(raw);
}

/** Reads every negotiated field (§5.2.4) and validates it; throws BlkConfigError. */
export function readBlkConfig(device: VirtioDevice): BlkConfigValues {
  const f = device.features;
  const has = (bit: number): boolean => hasFeature(f, bit);
  const where = device.location;
  const raw = device.readConfig((c) => ({
    capacity: c.u64(BlkConfig.capacity),
    sizeMax: has(BlkFeature.SIZE_MAX) ? c.u32(BlkConfig.sizeMax) : null,
    segMax: has(BlkFeature.SEG_MAX) ? c.u32(BlkConfig.segMax) : null,
    blkSize: has(BlkFeature.BLK_SIZE) ? c.u32(BlkConfig.blkSize) : SECTOR_SIZE,
    geometry: has(BlkFeature.GEOMETRY)
      ? { cylinders: c.u16(BlkConfig.cylinders), heads: c.u8(BlkConfig.heads), sectors: c.u8(BlkConfig.sectors) }
      : null,
    topology: has(BlkFeature.TOPOLOGY)
      ? {
          physicalBlockExp: c.u8(BlkConfig.physicalBlockExp),
          alignmentOffset: c.u8(BlkConfig.alignmentOffset),
          minIoSize: c.u16(BlkConfig.minIoSize),
          optIoSize: c.u32(BlkConfig.optIoSize),
        }
      : null,
    discard: has(BlkFeature.DISCARD)
      ? {
          maxSectors: c.u32(BlkConfig.maxDiscardSectors),
          maxSeg: c.u32(BlkConfig.maxDiscardSeg),
          sectorAlignment: c.u32(BlkConfig.discardSectorAlignment),
        }
      : null,
    writeZeroes: has(BlkFeature.WRITE_ZEROES)
      ? {
          maxSectors: c.u32(BlkConfig.maxWriteZeroesSectors),
          maxSeg: c.u32(BlkConfig.maxWriteZeroesSeg),
          mayUnmap: c.u8(BlkConfig.writeZeroesMayUnmap) !== 0,
        }
      : null,
  }));
  const capacity = checkCapacity(where, raw.capacity);
  if (raw.blkSize < SECTOR_SIZE || raw.blkSize > MAX_BLOCK_SIZE || !isPowerOfTwo(raw.blkSize)) {
    throw new BlkConfigError(where, "blk_size", raw.blkSize, `must be a power of two from ${SECTOR_SIZE} to ${MAX_BLOCK_SIZE}`);
  }
  if (raw.segMax !== null && raw.segMax < 1) throw new BlkConfigError(where, "seg_max", raw.segMax, "must be at least 1");
  if (raw.sizeMax !== null && raw.sizeMax < SECTOR_SIZE) {
    throw new BlkConfigError(where, "size_max", raw.sizeMax, `must be at least one sector (${SECTOR_SIZE})`);
  }
  if (raw.discard !== null) {
    if (raw.discard.maxSectors < 1) throw new BlkConfigError(where, "max_discard_sectors", raw.discard.maxSectors, "must be at least 1");
    if (raw.discard.maxSeg < 1) throw new BlkConfigError(where, "max_discard_seg", raw.discard.maxSeg, "must be at least 1");
  }
  if (raw.writeZeroes !== null) {
    if (raw.writeZeroes.maxSectors < 1) throw new BlkConfigError(where, "max_write_zeroes_sectors", raw.writeZeroes.maxSectors, "must be at least 1");
    if (raw.writeZeroes.maxSeg < 1) throw new BlkConfigError(where, "max_write_zeroes_seg", raw.writeZeroes.maxSeg, "must be at least 1");
  }
  return {
    capacity,
    sizeMax: raw.sizeMax,
    segMax: raw.segMax,
    blockSize: raw.blkSize,
    geometry: raw.geometry,
    topology: raw.topology,
    discard: raw.discard,
    writeZeroes: raw.writeZeroes,
  };
}
