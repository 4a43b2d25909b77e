// Hand-made TCP frames for the tests: a segment from any address, as a hostile or
// spoofing peer would send it.

import { buildEthernet, ETHERTYPE_IPV4 } from "../../../net/ip/ethernet.js";
import { IPV4_HLEN, writeIpv4Header } from "../../../net/ip/ipv4.js";
import { PROTO_TCP, headerLength, writeTcp, type TcpHeaderFields } from "../../../net/tcp/segment.js";
import type { World } from "./tcp-wire.js";

export function craftSegment(w: World, src: number, dst: number, fields: TcpHeaderFields, payload = new Uint8Array(0)): Uint8Array {
  const hlen = headerLength(fields);
  const frame = buildEthernet(w.wire.a.mac, w.wire.b.mac, ETHERTYPE_IPV4, IPV4_HLEN + hlen + payload.length);
  const tcp = frame.subarray(14 + IPV4_HLEN);
  tcp.set(payload, hlen);
  writeTcp(tcp, src, dst, fields, payload.length);
  writeIpv4Header(frame.subarray(14), src, dst, PROTO_TCP, hlen + payload.length, 1);
  return frame;
}
