// Which transmit queue a frame goes on with several queue pairs (VIRTIO 1.2 §5.1.6.5.5:
// the driver MAY transmit on any transmitq1..n; the device steers a flow's replies to the
// receive queue of the pair it was sent on). Every frame of one flow (IPv4 addresses, and
// TCP/UDP ports; fragments by addresses only, so a datagram's pieces stay together) takes
// the same queue, so the flow stays in order; anything not IPv4 (ARP) hashes to 0. A few
// byte reads, no allocation.

const ETHERTYPE_IPV4 = 0x0800;
const PROTO_TCP = 6;
const PROTO_UDP = 17;

/** A 32-bit hash of the frame's flow; 0 for frames that are not IPv4. */
export function flowHash(frame: Uint8Array): number {
  if (frame.length < 34 || ((frame[12]! << 8) | frame[13]!) !== ETHERTYPE_IPV4) return 0;
  let h = 0x811c9dc5; // FNV-1a over source and destination address
  for (let i = 26; i < 34; i++) h = Math.imul(h ^ frame[i]!, 0x01000193);
  const proto = frame[23];
  const ihl = (frame[14]! & 0x0f) * 4;
  const fragmented = (((frame[20]! & 0x3f) << 8) | frame[21]!) !== 0; // MF or an offset
  const ports = 14 + ihl;
  if ((proto === PROTO_TCP || proto === PROTO_UDP) && !fragmented && frame.length >= ports + 4) {
    for (let i = ports; i < ports + 4; i++) h = Math.imul(h ^ frame[i]!, 0x01000193);
  }
  // final mix: FNV's low bits follow the parity of the bytes (Linux picks ephemeral ports
  // of one parity), and the queue is taken from the low bits
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}
