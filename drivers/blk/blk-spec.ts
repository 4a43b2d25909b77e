// virtio-blk constants from VIRTIO 1.2 §5.2: feature bits (§5.2.3), the configuration
// layout (§5.2.4), request types and status values (§5.2.6). Shared by the driver and,
// by value, mirrored in the host model's device (written separately from the spec).

/** The sector: every `sector` field and `capacity` counts 512-byte units (§5.2.4, §5.2.6). */
export const SECTOR_SIZE = 512;

/** Device feature bits (§5.2.3). */
export const BlkFeature = {
  /** size_max: largest single segment. */
  SIZE_MAX: 1,
  /** seg_max: most data segments per request. */
  SEG_MAX: 2,
  /** geometry: legacy cylinders / heads / sectors. */
  GEOMETRY: 4,
  /** The disk is read-only. */
  RO: 5,
  /** blk_size: the optimal block size. */
  BLK_SIZE: 6,
  /** FLUSH requests (legacy: WCE). */
  FLUSH: 9,
  /** topology: physical block size, alignment, I/O sizes. */
  TOPOLOGY: 10,
  /** The writeback field can be toggled. */
  CONFIG_WCE: 11,
  /** More than one request queue. */
  MQ: 12,
  /** DISCARD requests. */
  DISCARD: 13,
  /** WRITE_ZEROES requests. */
  WRITE_ZEROES: 14,
} as const;

/** Names of the blk feature bits, for `devices` and `blk info`: the driver's (BlkFeature),
 * the other §5.2.3 bits, and the legacy ones of §5.2.3.1 (BARRIER, SCSI). */
export const BLK_FEATURE_NAMES: Readonly<Record<number, string>> = {
  0: "BARRIER",
  7: "SCSI",
  15: "LIFETIME",
  16: "SECURE_ERASE",
  17: "ZONED",
  ...Object.fromEntries(Object.entries(BlkFeature).map(([name, n]) => [n, name])),
};

/** Byte offsets of `struct virtio_blk_config` fields (§5.2.4). */
export const BlkConfig = {
  /** le64, in 512-byte sectors. */
  capacity: 0,
  /** le32, with SIZE_MAX. */
  sizeMax: 8,
  /** le32, with SEG_MAX. */
  segMax: 12,
  /** le16 cylinders, u8 heads, u8 sectors, with GEOMETRY. */
  cylinders: 16,
  heads: 18,
  sectors: 19,
  /** le32, with BLK_SIZE. */
  blkSize: 20,
  /** u8, u8, le16, le32, with TOPOLOGY. */
  physicalBlockExp: 24,
  alignmentOffset: 25,
  minIoSize: 26,
  optIoSize: 28,
  /** u8, with CONFIG_WCE (or FLUSH on some devices). */
  writeback: 32,
  /** le16, with MQ. */
  numQueues: 34,
  /** le32 each, with DISCARD. */
  maxDiscardSectors: 36,
  maxDiscardSeg: 40,
  discardSectorAlignment: 44,
  /** le32, le32, u8, with WRITE_ZEROES. */
  maxWriteZeroesSectors: 48,
  maxWriteZeroesSeg: 52,
  writeZeroesMayUnmap: 56,
} as const;

/** Request types (§5.2.6). */
export const BlkRequestType = {
  IN: 0,
  OUT: 1,
  FLUSH: 4,
  GET_ID: 8,
  DISCARD: 11,
  WRITE_ZEROES: 13,
} as const;

/** Status byte values (§5.2.6). */
export const BlkStatus = {
  OK: 0,
  IOERR: 1,
  UNSUPP: 2,
} as const;

/** The request header: le32 type, le32 reserved, le64 sector (§5.2.6). */
export const REQUEST_HEADER_SIZE = 16;

/** GET_ID answers with a 20-byte identifier, NUL-padded (§5.2.6). */
export const BLK_ID_BYTES = 20;

/** One DISCARD / WRITE_ZEROES range: le64 sector, le32 num_sectors, le32 flags (§5.2.6). */
export const DISCARD_RANGE_SIZE = 16;
/** Flag of a WRITE_ZEROES range: the device may unmap (§5.2.6). */
export const WRITE_ZEROES_FLAG_UNMAP = 1;

/** Text of a status byte for messages. */
export function statusName(status: number): string {
  switch (status) {
    case BlkStatus.OK: return "OK";
    case BlkStatus.IOERR: return "IOERR";
    case BlkStatus.UNSUPP: return "UNSUPP";
    default: return `unknown status ${status}`;
  }
}

/** Text of a request type for messages. */
export function requestName(type: number): string {
  for (const [name, value] of Object.entries(BlkRequestType)) if (value === type) return name;
  return `type ${type}`;
}
