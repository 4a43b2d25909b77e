// ICMP echo (RFC 792): an echo request becomes an echo reply with the same identifier,
// sequence number and data.

import { checksum } from "./checksum.js";

export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;

/** The reply to an echo request, or null if `message` is not a valid echo request. */
export function echoReply(message: Uint8Array): Uint8Array | null {
  if (message.length < 8 || message[0] !== ICMP_ECHO_REQUEST || message[1] !== 0) return null;
  if (checksum(message) !== 0) return null;
  const reply = message.slice();
  reply[0] = ICMP_ECHO_REPLY;
  reply[2] = reply[3] = 0;
  const sum = checksum(reply);
  reply[2] = sum >>> 8;
  reply[3] = sum & 0xff;
  return reply;
}

export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_PORT_UNREACHABLE = 3;

/** An echo request with identifier, sequence number and data (checksum filled in). */
export function echoRequest(id: number, seq: number, data: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + data.length);
  m[0] = ICMP_ECHO_REQUEST;
  m[4] = id >>> 8;
  m[5] = id & 0xff;
  m[6] = seq >>> 8;
  m[7] = seq & 0xff;
  m.set(data, 8);
  const sum = checksum(m);
  m[2] = sum >>> 8;
  m[3] = sum & 0xff;
  return m;
}

/** An echo reply's identifier, sequence number and data, or null. */
export function parseEchoReply(message: Uint8Array): { id: number; seq: number; data: Uint8Array } | null {
  if (message.length < 8 || message[0] !== ICMP_ECHO_REPLY || message[1] !== 0 || checksum(message) !== 0) return null;
  return { id: (message[4]! << 8) | message[5]!, seq: (message[6]! << 8) | message[7]!, data: message.subarray(8) };
}

/** RFC 792 destination unreachable (code 3: port): the offending IP header and the first
 * 8 bytes of its data (RFC 1122 §3.2.2.1). */
export function portUnreachable(ipPacket: Uint8Array): Uint8Array {
  const hlen = (ipPacket[0]! & 0x0f) * 4;
  const quoted = ipPacket.subarray(0, Math.min(ipPacket.length, hlen + 8));
  const m = new Uint8Array(8 + quoted.length);
  m[0] = ICMP_DEST_UNREACHABLE;
  m[1] = ICMP_PORT_UNREACHABLE;
  m.set(quoted, 8);
  const sum = checksum(m);
  m[2] = sum >>> 8;
  m[3] = sum & 0xff;
  return m;
}
