// virtio-net facts from VIRTIO 1.2 §5.1: queue numbers, feature bits, the config layout
// and the virtio_net_hdr sizes. Only what this driver uses.

/** §5.1.4.1 / §5.1.6.5.5: max_virtqueue_pairs is 1 to 0x8000 (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX). */
export const MAX_QUEUE_PAIRS = 0x8000;

/** §5.1.3 feature bits (device-type range). */
export const NetFeature = {
  CSUM: 0,
  GUEST_CSUM: 1,
  MTU: 3,
  MAC: 5,
  MRG_RXBUF: 15,
  STATUS: 16,
  CTRL_VQ: 17,
  CTRL_RX: 18,
  GUEST_ANNOUNCE: 21,
  MQ: 22,
  CTRL_MAC_ADDR: 23,
} as const;

/** Names of every §5.1.3 feature bit (and the legacy GSO, §5.1.3.1), for `devices`. Bits
 * 50-63 are device-type bits too (§6). */
export const NET_FEATURE_NAMES: Readonly<Record<number, string>> = {
  0: "CSUM",
  1: "GUEST_CSUM",
  2: "CTRL_GUEST_OFFLOADS",
  3: "MTU",
  5: "MAC",
  6: "GSO",
  7: "GUEST_TSO4",
  8: "GUEST_TSO6",
  9: "GUEST_ECN",
  10: "GUEST_UFO",
  11: "HOST_TSO4",
  12: "HOST_TSO6",
  13: "HOST_ECN",
  14: "HOST_UFO",
  15: "MRG_RXBUF",
  16: "STATUS",
  17: "CTRL_VQ",
  18: "CTRL_RX",
  19: "CTRL_VLAN",
  20: "CTRL_RX_EXTRA",
  21: "GUEST_ANNOUNCE",
  22: "MQ",
  23: "CTRL_MAC_ADDR",
  52: "VQ_NOTF_COAL",
  53: "NOTF_COAL",
  54: "GUEST_USO4",
  55: "GUEST_USO6",
  56: "HOST_USO",
  57: "HASH_REPORT",
  59: "GUEST_HDRLEN",
  60: "RSS",
  61: "RSC_EXT",
  62: "STANDBY",
  63: "SPEED_DUPLEX",
};

/** §5.1.4: config offsets: mac[6] at 0, status (le16) at 6, max_virtqueue_pairs (le16)
 * at 8, mtu (le16) at 10. */
export const NetConfig = {
  MAC: 0,
  STATUS: 6,
  MAX_VIRTQUEUE_PAIRS: 8,
  MTU: 10,
} as const;

/** §5.1.4.1: the smallest mtu a device may offer (RFC 791's 68). */
export const MIN_MTU = 68;

/** §5.1.4: status bits. */
export const NET_S_LINK_UP = 1;
export const NET_S_ANNOUNCE = 2;

/** Ethernet sizes without the FCS: 14-byte header, 1500-byte payload (§5.1.6.3.1 counts 1514). */
export const ETH_HEADER_LEN = 14;
export const ETH_MTU = 1500;
export const ETH_MAX_FRAME = ETH_HEADER_LEN + ETH_MTU;

/**
 * Size of struct virtio_net_hdr (§5.1.6): 12 bytes with VERSION_1 (num_buffers always
 * present), or with MRG_RXBUF on a legacy device; 10 bytes on a legacy device without
 * MRG_RXBUF (§5.1.6.1 "Legacy Interface").
 */
export function netHeaderLength(version1: boolean, mergeable: boolean): number {
  return version1 || mergeable ? 12 : 10;
}
