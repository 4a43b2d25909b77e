// IPv4 headers (RFC 791): parse with every check a receiver needs, build without options.
// Fragments are not reassembled: the receiver drops them.

import { readIpv4, writeIpv4 } from "./address.js";
import { checksum } from "./checksum.js";

export const PROTO_ICMP = 1;
export const PROTO_UDP = 17;
export const IPV4_HLEN = 20;
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const OFFSET_MASK = 0x1fff;

export interface Ipv4Packet {
  readonly src: number;
  readonly dst: number;
  readonly protocol: number;
  readonly ttl: number;
  /** The payload, cut to the header's total length (Ethernet padding removed). */
  readonly payload: Uint8Array;
}

/** Why a packet was refused (a counter name in IpStats). */
export type Ipv4Drop = "ipBadHeader" | "ipBadChecksum" | "ipFragments";

/** Parses and checks an IPv4 packet: version, header length, checksum, total length, no fragment. */
export function parseIpv4Packet(bytes: Uint8Array): Ipv4Packet | Ipv4Drop {
  if (bytes.length < IPV4_HLEN) return "ipBadHeader";
  const version = bytes[0]! >>> 4;
  const hlen = (bytes[0]! & 0x0f) * 4;
  if (version !== 4 || hlen < IPV4_HLEN || hlen > bytes.length) return "ipBadHeader";
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = v.getUint16(2);
  if (total < hlen || total > bytes.length) return "ipBadHeader";
  if (checksum(bytes.subarray(0, hlen)) !== 0) return "ipBadChecksum";
  const frag = v.getUint16(6);
  if ((frag & FLAG_MF) !== 0 || (frag & OFFSET_MASK) !== 0) return "ipFragments";
  return {
    src: readIpv4(v, 12),
    dst: readIpv4(v, 16),
    protocol: bytes[9]!,
    ttl: bytes[8]!,
    payload: bytes.subarray(hlen, total),
  };
}

/** Writes a 20-byte header (DF set, TTL 64) at `out[0..20]` for a payload of `length`. */
export function writeIpv4Header(out: Uint8Array, src: number, dst: number, protocol: number, length: number, id: number): void {
  const v = new DataView(out.buffer, out.byteOffset, IPV4_HLEN);
  out[0] = 0x45; // version 4, IHL 5
  out[1] = 0; // DSCP/ECN
  v.setUint16(2, IPV4_HLEN + length);
  v.setUint16(4, id & 0xffff);
  v.setUint16(6, FLAG_DF);
  out[8] = 64;
  out[9] = protocol;
  v.setUint16(10, 0);
  writeIpv4(v, 12, src);
  writeIpv4(v, 16, dst);
  v.setUint16(10, checksum(out.subarray(0, IPV4_HLEN)));
}
