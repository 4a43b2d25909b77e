// Feature bits (VIRTIO 1.2 §2.2, §6 "Reserved Feature Bits"). Bits 0-23 belong to the
// device type (§5), bits 24-40 to the transport and the queues; those are the core's.
// Features travel as one 64-bit bigint: the transport splits it into two 32-bit words.

/** Transport feature bit numbers the core knows (§6). */
export const Feature = {
  /** Legacy: notify even when the ring is empty is fine. */
  NOTIFY_ON_EMPTY: 24,
  /** Legacy: no assumption on the framing of buffers. */
  ANY_LAYOUT: 27,
  /** Indirect descriptor tables (§2.7.5.3). */
  RING_INDIRECT_DESC: 28,
  /** used_event / avail_event notification suppression (§2.7.10). */
  RING_EVENT_IDX: 29,
  /** The device follows VIRTIO 1.x, not the legacy interface (§6.1). */
  VERSION_1: 32,
  /** The device reaches memory through a platform IOMMU or similar. */
  ACCESS_PLATFORM: 33,
  /** Packed virtqueue layout (§2.8). */
  RING_PACKED: 34,
  /** Buffers are used in the order they were made available. */
  IN_ORDER: 35,
  /** Memory accesses need platform ordering (real hardware). */
  ORDER_PLATFORM: 36,
  /** SR-IOV capable device. */
  SR_IOV: 37,
  /** The driver passes extra data in its notifications. */
  NOTIFICATION_DATA: 38,
  /** The driver uses the device-provided notification config data. */
  NOTIF_CONFIG_DATA: 39,
  /** Single queues can be reset. */
  RING_RESET: 40,
} as const;

/** A feature bit number as a bigint mask. */
export function bit(n: number): bigint {
  return 1n << BigInt(n);
}

/** True if `features` has bit `n`. */
export function hasFeature(features: bigint, n: number): boolean {
  return (features & bit(n)) !== 0n;
}

/** Mask of bits 24-40: the transport's range, which device drivers do not decide. */
export const TRANSPORT_FEATURES_MASK = ((1n << 41n) - 1n) & ~((1n << 24n) - 1n);

/** The transport features this core implements and so accepts when offered. */
export const CORE_HANDLED_FEATURES = bit(Feature.RING_INDIRECT_DESC) | bit(Feature.RING_EVENT_IDX) | bit(Feature.VERSION_1);

/** Names of the bits in `features`: transport bits by name, device bits from `deviceNames`,
 * anything else as "bitN". */
export function featureNames(features: bigint, deviceNames: Readonly<Record<number, string>> = {}): string[] {
  const byBit = new Map<number, string>();
  for (const [name, n] of Object.entries(Feature)) byBit.set(n, name);
  const names: string[] = [];
  for (let n = 0; n < 64; n++) {
    if (!hasFeature(features, n)) continue;
    names.push((n < 24 ? deviceNames[n] : byBit.get(n)) ?? `bit${n}`);
  }
  return names;
}

/** 64 feature bits as a fixed-width hex string, "0x" and 16 digits. */
export function featuresHex(features: bigint): string {
  return "0x" + features.toString(16).padStart(16, "0");
}
