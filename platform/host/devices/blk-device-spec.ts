// virtio-blk's wire facts (VIRTIO 1.2 §5.2.3, §5.2.4, §5.2.6) and the host model's option,
// fault and counter shapes, kept apart from the device model that serves requests.

import type { ConfigField } from "../device-model.js";

export const VIRTIO_ID_BLOCK = 2;
export const BLK_SECTOR = 512;

/** §5.2.3 feature bits. */
export const BLK_F = {
  SIZE_MAX: 1, SEG_MAX: 2, GEOMETRY: 4, RO: 5, BLK_SIZE: 6, FLUSH: 9, TOPOLOGY: 10,
  CONFIG_WCE: 11, DISCARD: 13, WRITE_ZEROES: 14,
} as const;

/** §5.2.6 request types and status values. */
export const BLK_T = { IN: 0, OUT: 1, FLUSH: 4, GET_ID: 8, DISCARD: 11, WRITE_ZEROES: 13 } as const;
export const BLK_S = { OK: 0, IOERR: 1, UNSUPP: 2 } as const;

export const CONFIG_SIZE = 60;
export const FIELDS: readonly ConfigField[] = [
  { name: "capacity", offset: 0, width: 8 },
  { name: "size_max", offset: 8, width: 4 },
  { name: "seg_max", offset: 12, width: 4 },
  { name: "geometry.cylinders", offset: 16, width: 2 },
  { name: "geometry.heads", offset: 18, width: 1 },
  { name: "geometry.sectors", offset: 19, width: 1 },
  { name: "blk_size", offset: 20, width: 4 },
  { name: "topology.physical_block_exp", offset: 24, width: 1 },
  { name: "topology.alignment_offset", offset: 25, width: 1 },
  { name: "topology.min_io_size", offset: 26, width: 2 },
  { name: "topology.opt_io_size", offset: 28, width: 4 },
  { name: "writeback", offset: 32, width: 1, writable: true },
  { name: "unused0", offset: 33, width: 1 },
  { name: "num_queues", offset: 34, width: 2 },
  { name: "max_discard_sectors", offset: 36, width: 4 },
  { name: "max_discard_seg", offset: 40, width: 4 },
  { name: "discard_sector_alignment", offset: 44, width: 4 },
  { name: "max_write_zeroes_sectors", offset: 48, width: 4 },
  { name: "max_write_zeroes_seg", offset: 52, width: 4 },
  { name: "write_zeroes_may_unmap", offset: 56, width: 1 },
];

export interface DiscardLimits {
  readonly maxSectors?: number;
  readonly maxSeg?: number;
  readonly sectorAlignment?: number;
}

export interface WriteZeroesLimits {
  readonly maxSectors?: number;
  readonly maxSeg?: number;
  readonly mayUnmap?: boolean;
}

export interface BlkDeviceOptions {
  /** The disk (its length a multiple of 512); default `capacity` sectors of zeroes. */
  readonly image?: Uint8Array;
  /** Size in sectors when no image is given (default 2048: 1 MiB). */
  readonly capacity?: number;
  /** Offer VIRTIO_BLK_F_RO: writes fail with IOERR. */
  readonly readOnly?: boolean;
  /** Offer SIZE_MAX with this size_max (bytes). */
  readonly sizeMax?: number;
  /** Offer SEG_MAX with this seg_max (default 254, as QEMU with a 256-entry queue). null: not offered. */
  readonly segMax?: number | null;
  /** Offer BLK_SIZE with this blk_size (default 512). null: not offered. */
  readonly blkSize?: number | null;
  /** Offer FLUSH (default true). */
  readonly flush?: boolean;
  /** Offer DISCARD (default true), with these limits (default: 0x3fffff sectors, 1 range). */
  readonly discard?: boolean | DiscardLimits;
  /** Offer WRITE_ZEROES (default true), with these limits. */
  readonly writeZeroes?: boolean | WriteZeroesLimits;
  /** Offer GEOMETRY / TOPOLOGY (default false). */
  readonly geometry?: boolean;
  readonly topology?: boolean;
  /** GET_ID answer (at most 20 bytes; default "virtio-xs-model"). */
  readonly id?: string;
  /** Completes requests this many event-loop turns after taking them (0 = same turn). */
  readonly delayTurns?: number;
  /** Completes the requests of one batch in reverse order. */
  readonly outOfOrder?: boolean;
  /** QueueNumMax (default 256, as QEMU's virtio-blk). */
  readonly queueMaxSize?: number;
  /** Power-cut mode: writes complete into a volatile cache that only FLUSH moves to the
   * image (blk-cache.ts); `powerCut()` loses what was not flushed. Default false. */
  readonly writeback?: boolean;
}

/** Switches that make the disk misbehave (on top of the transport's DeviceFaults). */
export interface BlkFaults {
  /** Every request answers this status byte (e.g. 1 IOERR, 2 UNSUPP, 0x7f junk); null: honest. */
  status: number | null;
  /** Requests touching these sectors fail with IOERR. */
  readonly badSectors: Set<number>;
  /** Used length reported instead of the true one (clamped to the writable bytes); null: honest. */
  usedLength: number | null;
  /** Requests are taken and never completed (a hung device). */
  hang: boolean;
  /** The next this-many FLUSH requests fail with IOERR (the cache stays dirty). */
  failFlushes: number;
}

/** Requests served with status OK, by type; `errors` counts the others. */
export interface BlkCounters {
  reads: number;
  writes: number;
  flushes: number;
  getIds: number;
  discards: number;
  writeZeroes: number;
  /** Requests answered IOERR or UNSUPP. */
  errors: number;
  /** Bytes written (or zeroed) since the last flush. */
  unflushedBytes: number;
}

/** Shapes of the traffic, for tests of batching and splitting. */
export interface BlkShapes {
  /** Most data segments seen in one request. */
  maxSegments: number;
  /** Largest data transfer of one request, in bytes. */
  maxTransfer: number;
  /** Most requests taken in one device turn (in flight together). */
  maxBatch: number;
}
