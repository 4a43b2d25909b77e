// UDP (RFC 768): header checks on receive (the checksum is optional: 0 means none was
// sent) and datagrams with a checksum on send.

import { copyBytes } from "../bytes.js";
import { finish, pseudoHeaderSum, sumWords } from "./checksum.js";
import { PROTO_UDP } from "./ipv4.js";

export const UDP_HLEN = 8;

export interface UdpDatagram {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

export type UdpDrop = "udpBadHeader" | "udpBadChecksum";

/** Parses a UDP datagram carried in an IPv4 packet from `src` to `dst`. */
export function parseUdp(bytes: Uint8Array, src: number, dst: number): UdpDatagram | UdpDrop {
  if (bytes.length < UDP_HLEN) return "udpBadHeader";
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = v.getUint16(4);
  if (length < UDP_HLEN || length > bytes.length) return "udpBadHeader";
  const datagram = bytes.subarray(0, length);
  if (v.getUint16(6) !== 0) {
    // RFC 768: a checksum of 0 means the sender computed none; otherwise it must verify.
    const sum = sumWords(datagram, pseudoHeaderSum(src, dst, PROTO_UDP, length));
    if (finish(sum) !== 0) return "udpBadChecksum";
  }
  return { srcPort: v.getUint16(0), dstPort: v.getUint16(2), payload: datagram.subarray(UDP_HLEN) };
}

/** Writes header and payload into `out` (UDP_HLEN + payload bytes), checksum included. */
export function writeUdp(out: Uint8Array, src: number, dst: number, srcPort: number, dstPort: number, payload: Uint8Array): void {
  const length = UDP_HLEN + payload.length;
  const v = new DataView(out.buffer, out.byteOffset, length);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint16(4, length);
  v.setUint16(6, 0);
  copyBytes(out, UDP_HLEN, payload);
  const sum = finish(sumWords(out.subarray(0, length), pseudoHeaderSum(src, dst, PROTO_UDP, length)));
  v.setUint16(6, sum === 0 ? 0xffff : sum); // RFC 768: a computed 0 is sent as all ones
}
