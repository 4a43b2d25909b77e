// The receiving half of a connection's text processing (RFC 9293 §3.10.7.4 "seventh"):
// data trimmed to what is new and to the window, in-order bytes into the receive ring,
// out-of-order bytes into the ring at their place with their range remembered (at most
// config.maxOutOfOrder ranges), ranges taken in as RCV.NXT reaches them; ACKs at once for
// out-of-order data and filled holes (RFC 5681 §4.2), delayed otherwise.

import type { TcpConnection } from "./connection.js";
import type { TcpSegment } from "./segment.js";
import { seqAdd, seqDiff, seqLe, seqLt } from "./seq.js";

/** §3.10.7.4 "seventh": data in ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2. */
export function receiveText(c: TcpConnection, seg: TcpSegment): void {
  if (c.state !== "ESTABLISHED" && c.state !== "FIN-WAIT-1" && c.state !== "FIN-WAIT-2") return;
  const recv = c.recv!;
  let data = seg.payload;
  let seq = seg.seq;
  // trim what we already have (the segment started before RCV.NXT)
  const early = seqDiff(c.rcvNxt, seq);
  if (early > 0) {
    data = data.subarray(early);
    seq = c.rcvNxt;
  }
  const offset = seqDiff(seq, c.rcvNxt);
  const room = recv.free - offset;
  if (room <= 0) {
    c.out.ackNow();
    return;
  }
  if (data.length > room) data = data.subarray(0, room); // beyond the window: dropped
  if (c.orphan) {
    // nobody will read: RFC 9293 §3.10.7.4 allows a reset; we keep it simple and ack
    c.rcvNxt = seqAdd(c.rcvNxt, offset === 0 ? data.length : 0);
    c.out.ackNow();
    return;
  }
  if (offset === 0) {
    recv.putBeyond(0, data);
    recv.extend(data.length);
    c.rcvNxt = seqAdd(c.rcvNxt, data.length);
    const filled = mergeOutOfOrder(c);
    c.host.stats.bytesReceived += data.length;
    if (filled) c.out.ackNow(); // a hole filled: tell the sender at once (RFC 5681 §4.2)
    else c.out.ackLater(data.length);
    c.events?.readable(recv.length);
  } else {
    holdOutOfOrder(c, seq, data);
    c.out.ackNow(); // a duplicate ACK for the sender's fast retransmit (RFC 5681 §4.2)
  }
}

/** Out-of-order data goes into the ring at its place; its range is remembered. */
function holdOutOfOrder(c: TcpConnection, seq: number, data: Uint8Array): void {
  const end = seqAdd(seq, data.length);
  const ranges = c.ooo;
  let i = 0;
  while (i < ranges.length && seqLt(ranges[i]!.end, seq)) i++;
  // ranges i.. that touch [seq, end) merge with it
  let start = seq;
  let stop = end;
  let j = i;
  while (j < ranges.length && seqLe(ranges[j]!.start, end)) {
    if (seqLt(ranges[j]!.start, start)) start = ranges[j]!.start;
    if (seqLt(stop, ranges[j]!.end)) stop = ranges[j]!.end;
    j++;
  }
  if (j === i && ranges.length >= c.host.config.maxOutOfOrder) {
    c.host.stats.outOfOrderDropped++;
    return;
  }
  c.recv!.putBeyond(seqDiff(seq, c.rcvNxt), data);
  ranges.splice(i, j - i, { start, end: stop });
  c.host.stats.outOfOrder++;
}

/** After RCV.NXT moved: take in the ranges it reached. True if any was. */
function mergeOutOfOrder(c: TcpConnection): boolean {
  const ranges = c.ooo;
  let merged = false;
  while (ranges.length > 0 && seqLe(ranges[0]!.start, c.rcvNxt)) {
    const r = ranges.shift()!;
    const gain = seqDiff(r.end, c.rcvNxt);
    if (gain > 0) {
      c.recv!.extend(gain);
      c.rcvNxt = r.end;
      c.host.stats.bytesReceived += gain;
    }
    merged = true;
  }
  return merged;
}
