// The traditional memory balloon device (VIRTIO 1.2 §5.5): feature bits, queues, the
// configuration layout and the statistics tags, in the spec's names.

/** §5.5.3 feature bits. */
export const BalloonFeature = {
  /** Host has to be told before pages from the balloon are used. */
  MUST_TELL_HOST: 0,
  /** A statsq is present. */
  STATS_VQ: 1,
  /** The driver may deflate on guest out-of-memory. */
  DEFLATE_ON_OOM: 2,
  /** Free page hinting (migration); not used by this driver. */
  FREE_PAGE_HINT: 3,
  /** The driver writes poison_val to pages after deflating them. */
  PAGE_POISON: 4,
  /** A reporting_vq for free page reporting is present. */
  PAGE_REPORTING: 5,
} as const;

/**
 * §5.5.2 queues. The spec lists fixed numbers, but a queue whose feature is off does not
 * exist and QEMU and Linux number the ones that do exist in order; QEMU always creates the
 * statsq. This driver therefore uses reporting_vq only together with STATS_VQ and never
 * negotiates FREE_PAGE_HINT, where all three numberings agree: 0, 1, 2, then 3.
 */
export const BalloonQueue = {
  INFLATE: 0,
  DEFLATE: 1,
  STATS: 2,
  /** reporting_vq's index when STATS_VQ is negotiated and FREE_PAGE_HINT is not. */
  REPORTING: 3,
} as const;

/** §5.5.4 struct virtio_balloon_config (little-endian, legacy too). */
export const BalloonConfig = {
  NUM_PAGES: 0,
  ACTUAL: 4,
  FREE_PAGE_HINT_CMD_ID: 8,
  POISON_VAL: 12,
} as const;

/** §5.5.6: page-frame numbers are physical addresses divided by 4096 (32-bit). */
export const BALLOON_PFN_SHIFT = 12;

/** Page frames per inflate/deflate buffer (Linux's VIRTIO_BALLOON_ARRAY_PFNS_MAX). */
export const PFNS_PER_REQUEST = 256;

/** §5.5.6.3 statistics tags. */
export const BalloonStat = {
  SWAP_IN: 0,
  SWAP_OUT: 1,
  MAJFLT: 2,
  MINFLT: 3,
  MEMFREE: 4,
  MEMTOT: 5,
  AVAIL: 6,
  CACHES: 7,
  HTLB_PGALLOC: 8,
  HTLB_PGFAIL: 9,
} as const;

/** §5.5.6.3 struct virtio_balloon_stat: le16 tag + le64 val, packed. */
export const STAT_ENTRY_BYTES = 10;

/**
 * The statistics this driver supplies, always the same subset (§5.5.6.3.1). Nine entries
 * (90 bytes): also a multiple of 6 bytes, as the driver section's buffer-size rule reads.
 */
export const SUPPLIED_STATS: readonly number[] = [
  BalloonStat.SWAP_IN,
  BalloonStat.SWAP_OUT,
  BalloonStat.MAJFLT,
  BalloonStat.MINFLT,
  BalloonStat.MEMFREE,
  BalloonStat.MEMTOT,
  BalloonStat.AVAIL,
  BalloonStat.CACHES,
  BalloonStat.HTLB_PGALLOC,
];

/** Names for the shell and QEMU's `guest-stats` keys' meaning. */
export const STAT_NAMES: Readonly<Record<number, string>> = {
  0: "swap-in",
  1: "swap-out",
  2: "major-faults",
  3: "minor-faults",
  4: "free-memory",
  5: "total-memory",
  6: "available-memory",
  7: "disk-caches",
  8: "hugetlb-allocations",
  9: "hugetlb-failures",
};
