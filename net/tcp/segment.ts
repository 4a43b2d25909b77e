// TCP segments (RFC 9293 §3.1): the header with every check a receiver needs (length,
// data offset, checksum with the IPv4 pseudo-header), the options this stack uses
// (End, NOP, MSS §3.2 and RFC 7323 window scale; others are skipped by their length),
// and a builder that writes header and options around a payload already in place.

import { finish, pseudoHeaderSum, sumWords } from "../ip/checksum.js";

export const PROTO_TCP = 6;
export const TCP_HLEN = 20;

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;

const OPT_END = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
/** RFC 7323 §2.3: a shift above 14 is taken as 14. */
export const MAX_WSCALE = 14;

/** A received segment: its header fields (window as sent, not scaled; mss and wscale
 * -1 when absent) and its data. */
export interface TcpSegment extends TcpHeaderFields {
  /** A view into the received packet. */
  readonly payload: Uint8Array;
}

export type TcpDrop = "tcpBadHeader" | "tcpBadChecksum";

/** The header fields of a segment (what writeTcp sends, what parseTcp reads). */
export interface TcpHeaderFields {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly window: number;
  /** MSS option (SYN only), or -1. */
  readonly mss: number;
  /** Window scale option (SYN only, 0-14), or -1. */
  readonly wscale: number;
}

/** Parses and checks a TCP segment carried in an IPv4 packet from `src` to `dst`. */
export function parseTcp(bytes: Uint8Array, src: number, dst: number): TcpSegment | TcpDrop {
  const n = bytes.length;
  if (n < TCP_HLEN) return "tcpBadHeader";
  const hlen = (bytes[12]! >>> 4) * 4;
  if (hlen < TCP_HLEN || hlen > n) return "tcpBadHeader";
  if (finish(sumWords(bytes, pseudoHeaderSum(src, dst, PROTO_TCP, n))) !== 0) return "tcpBadChecksum";
  let mss = -1;
  let wscale = -1;
  for (let i = TCP_HLEN; i < hlen; ) {
    const kind = bytes[i]!;
    if (kind === OPT_END) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= hlen) return "tcpBadHeader";
    const len = bytes[i + 1]!;
    if (len < 2 || i + len > hlen) return "tcpBadHeader";
    if (kind === OPT_MSS && len === 4) mss = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    else if (kind === OPT_WSCALE && len === 3) wscale = Math.min(MAX_WSCALE, bytes[i + 2]!);
    i += len;
  }
  return {
    srcPort: (bytes[0]! << 8) | bytes[1]!,
    dstPort: (bytes[2]! << 8) | bytes[3]!,
    seq: ((bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!) >>> 0,
    ack: ((bytes[8]! << 24) | (bytes[9]! << 16) | (bytes[10]! << 8) | bytes[11]!) >>> 0,
    flags: bytes[13]! & 0x3f,
    window: (bytes[14]! << 8) | bytes[15]!,
    mss,
    wscale,
    payload: bytes.subarray(hlen),
  };
}


/** Bytes of options a segment with these fields carries (a multiple of 4). */
export function optionsLength(f: TcpHeaderFields): number {
  return (f.mss >= 0 ? 4 : 0) + (f.wscale >= 0 ? 4 : 0);
}

/** Header length (options included) of a segment with these fields. */
export function headerLength(f: TcpHeaderFields): number {
  return TCP_HLEN + optionsLength(f);
}

/** Writes header and options at `out[0..]` and the checksum over them and the
 * `payloadLength` bytes the caller already placed at `out[headerLength(f)..]`; returns
 * the segment length. */
export function writeTcp(out: Uint8Array, src: number, dst: number, f: TcpHeaderFields, payloadLength: number): number {
  const hlen = TCP_HLEN + optionsLength(f);
  const length = hlen + payloadLength;
  out[0] = f.srcPort >>> 8;
  out[1] = f.srcPort & 0xff;
  out[2] = f.dstPort >>> 8;
  out[3] = f.dstPort & 0xff;
  put32(out, 4, f.seq);
  put32(out, 8, f.ack);
  out[12] = (hlen / 4) << 4;
  out[13] = f.flags;
  out[14] = f.window >>> 8;
  out[15] = f.window & 0xff;
  out[16] = out[17] = out[18] = out[19] = 0;
  let i = TCP_HLEN;
  if (f.mss >= 0) {
    out[i++] = OPT_MSS;
    out[i++] = 4;
    out[i++] = f.mss >>> 8;
    out[i++] = f.mss & 0xff;
  }
  if (f.wscale >= 0) {
    out[i++] = OPT_NOP;
    out[i++] = OPT_WSCALE;
    out[i++] = 3;
    out[i++] = f.wscale;
  }
  const sum = finish(sumWords(out.subarray(0, length), pseudoHeaderSum(src, dst, PROTO_TCP, length)));
  out[16] = sum >>> 8;
  out[17] = sum & 0xff;
  return length;
}

function put32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}
