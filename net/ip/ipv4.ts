// IPv4 headers (RFC 791): parse with every check a receiver needs, build without options.
// Fragments are reassembled by the stack (fragments.ts); here they are only recognized.

import { readIpv4, writeIpv4 } from "./address.js";
import { checksum } from "./checksum.js";

export const PROTO_ICMP = 1;
export const PROTO_UDP = 17;
export const IPV4_HLEN = 20;
export const FLAG_DF = 0x4000;
export const FLAG_MF = 0x2000;
const OFFSET_MASK = 0x1fff;
/** The TTL we send with (RFC 1700's recommended default). */
export const DEFAULT_TTL = 64;

export interface Ipv4Packet {
  readonly src: number;
  readonly dst: number;
  readonly protocol: number;
  readonly ttl: number;
  readonly id: number;
  /** MF set: more fragments follow. */
  readonly moreFragments: boolean;
  /** Where this fragment's payload goes in the datagram (bytes). */
  readonly fragmentOffset: number;
  /** The payload, cut to the header's total length (Ethernet padding removed). */
  readonly payload: Uint8Array;
}

/** Why a packet was refused (a counter name in IpStats). */
export type Ipv4Drop = "ipBadHeader" | "ipBadChecksum" | "ipFragments";

/** Parses and checks an IPv4 packet: version, header length, checksum, total length. */
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
  return {
    id: v.getUint16(4),
    moreFragments: (frag & FLAG_MF) !== 0,
    fragmentOffset: (frag & OFFSET_MASK) * 8,
    src: readIpv4(v, 12),
    dst: readIpv4(v, 16),
    protocol: bytes[9]!,
    ttl: bytes[8]!,
    payload: bytes.subarray(hlen, total),
  };
}

/** Writes a 20-byte header (by default DF set, TTL 64) at `out[0..20]` for a payload of
 * `length`; `fragment` is the flags and offset field (a fragment: MF and offset / 8). */
export function writeIpv4Header(out: Uint8Array, src: number, dst: number, protocol: number, length: number, id: number, fragment = FLAG_DF, ttl = DEFAULT_TTL): void {
  const v = new DataView(out.buffer, out.byteOffset, IPV4_HLEN);
  out[0] = 0x45; // version 4, IHL 5
  out[1] = 0; // DSCP/ECN
  v.setUint16(2, IPV4_HLEN + length);
  v.setUint16(4, id & 0xffff);
  v.setUint16(6, fragment);
  out[8] = ttl;
  out[9] = protocol;
  v.setUint16(10, 0);
  writeIpv4(v, 12, src);
  writeIpv4(v, 16, dst);
  v.setUint16(10, checksum(out.subarray(0, IPV4_HLEN)));
}
