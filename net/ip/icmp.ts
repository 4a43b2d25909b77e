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
