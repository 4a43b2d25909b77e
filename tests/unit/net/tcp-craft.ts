// Hand-made TCP frames for the tests: a segment from any address, as a hostile or
// spoofing peer would send it; and the segment in a frame a stack sent.

import { buildEthernet, ETHERTYPE_IPV4, parseEthernet } from "../../../net/ip/ethernet.js";
import { IPV4_HLEN, parseIpv4Packet, writeIpv4Header } from "../../../net/ip/ipv4.js";
import { PROTO_TCP, headerLength, parseTcp, writeTcp, type TcpHeaderFields, type TcpSegment } from "../../../net/tcp/segment.js";
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

/** The TCP segment in a frame, or null. */
export function tcpOf(frame: Uint8Array): (TcpSegment & { src: number; dst: number }) | null {
  const eth = parseEthernet(frame);
  if (eth === null || eth.type !== 0x0800) return null;
  const ip = parseIpv4Packet(eth.payload);
  if (typeof ip === "string" || ip.protocol !== PROTO_TCP) return null;
  const seg = parseTcp(ip.payload, ip.src, ip.dst);
  return typeof seg === "string" ? null : { ...seg, src: ip.src, dst: ip.dst };
}
