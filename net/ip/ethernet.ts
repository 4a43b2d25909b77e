// Ethernet II framing (IEEE 802.3): destination MAC, source MAC, EtherType, payload.
// The device adds and strips the FCS; frames here never carry it.

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETH_HLEN = 14;
export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export interface EthernetFrame {
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly type: number;
  readonly payload: Uint8Array;
}

/** Splits a frame; null if shorter than the header. */
export function parseEthernet(frame: Uint8Array): EthernetFrame | null {
  if (frame.length < ETH_HLEN) return null;
  return {
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    type: (frame[12]! << 8) | frame[13]!,
    payload: frame.subarray(ETH_HLEN),
  };
}

/** A frame with `payloadLength` bytes of payload to fill at offset 14. */
export function buildEthernet(dst: Uint8Array, src: Uint8Array, type: number, payloadLength: number): Uint8Array {
  const frame = new Uint8Array(ETH_HLEN + payloadLength);
  frame.set(dst, 0);
  frame.set(src, 6);
  frame[12] = type >>> 8;
  frame[13] = type & 0xff;
  return frame;
}

/** Writes the Ethernet header into the first 14 bytes of `frame`. */
export function writeEthernetHeader(frame: Uint8Array, dst: Uint8Array, src: Uint8Array, type: number): void {
  frame.set(dst, 0);
  frame.set(src, 6);
  frame[12] = type >>> 8;
  frame[13] = type & 0xff;
}

export function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isBroadcastMac(mac: Uint8Array): boolean {
  return sameMac(mac, BROADCAST_MAC);
}
