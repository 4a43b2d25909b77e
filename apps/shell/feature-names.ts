// Names of the transport (device-independent) feature bits, VIRTIO 1.2 §6 "Reserved
// Feature Bits" (bits 24 to 41; 24, 27 and 30 exist only in legacy interfaces, §6.3).

const TRANSPORT_FEATURES: ReadonlyMap<number, string> = new Map([
  [24, "NOTIFY_ON_EMPTY"],
  [27, "ANY_LAYOUT"],
  [28, "RING_INDIRECT_DESC"],
  [29, "RING_EVENT_IDX"],
  [30, "UNUSED"],
  [32, "VERSION_1"],
  [33, "ACCESS_PLATFORM"],
  [34, "RING_PACKED"],
  [35, "IN_ORDER"],
  [36, "ORDER_PLATFORM"],
  [37, "SR_IOV"],
  [38, "NOTIFICATION_DATA"],
  [39, "NOTIF_CONFIG_DATA"],
  [40, "RING_RESET"],
  [41, "ADMIN_VQ"],
]);

/** The name of transport feature bit `bit`, or undefined. */
export function transportFeatureName(bit: number): string | undefined {
  return TRANSPORT_FEATURES.get(bit);
}

/**
 * The set bits of `features` described: transport bits by name, then the others
 * (device-specific) as "bit N", e.g. "VERSION_1 RING_EVENT_IDX bit5".
 */
export function describeFeatures(features: bigint): string {
  const named: string[] = [];
  const other: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (((features >> BigInt(bit)) & 1n) === 0n) continue;
    const name = transportFeatureName(bit);
    if (name !== undefined) named.push(name);
    else other.push(`bit${bit}`);
  }
  return [...named, ...other].join(" ");
}
