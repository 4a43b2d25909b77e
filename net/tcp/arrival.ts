// Segment arrival (RFC 9293 §3.10.7.4) for a TcpConnection in every state but LISTEN (the
// layer handles that one) and SYN-SENT's own case (§3.10.7.3): the sequence check (the
// four acceptability cases), RST with RFC 5961's exact-match rule, SYN in a synchronized
// state (a challenge ACK), the ACK field and the window, the text (receive.ts), the FIN.
// Also what the handshake's SYNs carry (MSS, window scale) and the way into ESTABLISHED
// and TIME-WAIT.

import { formatIpv4 } from "../ip/address.js";
import type { TcpConnection } from "./connection.js";
import { ConnectionRefusedError, ConnectionResetError } from "./errors.js";
import { ByteRing } from "./ring.js";
import { ACK, FIN, RST, SYN, type TcpSegment } from "./segment.js";
import { seqAdd, seqLe, seqLt } from "./seq.js";
import { receiveText } from "./receive.js";

/** A segment for connection `c` (the layer found it by addresses and ports). */
export function segmentArrives(c: TcpConnection, seg: TcpSegment): void {
  c.lastReceived = c.host.now();
  c.keepAliveProbes = 0;
  if (c.state === "SYN-SENT") {
    receiveInSynSent(c, seg);
    return;
  }
  const len = seg.payload.length + ((seg.flags & SYN) !== 0 ? 1 : 0) + ((seg.flags & FIN) !== 0 ? 1 : 0);
  // first: is the segment acceptable (§3.10.7.4, the four cases)?
  if (!acceptable(c, seg.seq, len)) {
    if ((seg.flags & RST) !== 0) return;
    if (c.state === "TIME-WAIT" && (seg.flags & FIN) !== 0) c.closeAt = c.host.now() + 2 * c.host.config.mslMs;
    // §3.10.7.4: with a zero receive window, valid ACKs are still taken (else two full
    // windows wait on each other's acknowledgments forever)
    if ((seg.flags & ACK) !== 0 && seg.seq === c.rcvNxt && c.receiveWindow() === 0 && c.state !== "SYN-RECEIVED") {
      if (processAck(c, seg) && !c.isClosed()) c.out.output();
    }
    if (c.isClosed()) return;
    c.out.sendAck();
    c.arm();
    tellWritable(c);
    return;
  }
  // second: RST (RFC 5961 §3.2: reset only on an exact match, else a challenge ACK)
  if ((seg.flags & RST) !== 0) {
    if (seg.seq !== c.rcvNxt) {
      c.out.sendAck();
      return;
    }
    c.host.stats.resetsReceived++;
    if (c.state === "SYN-RECEIVED" && c.listenPort !== 0) c.destroy(null); // back to LISTEN: just forget it
    else if (c.state === "CLOSING" || c.state === "LAST-ACK" || c.state === "TIME-WAIT") c.destroy(null);
    else c.destroy(new ConnectionResetError(formatIpv4(c.remoteAddress), c.remotePort));
    return;
  }
  // fourth: a SYN in a synchronized state gets a challenge ACK (RFC 5961 §4.2)
  if ((seg.flags & SYN) !== 0) {
    if (c.state === "SYN-RECEIVED" && seg.seq === c.irs) c.out.sendSyn(true); // our SYN-ACK was lost
    else c.out.sendAck();
    return;
  }
  // fifth: ACK
  if ((seg.flags & ACK) === 0) return;
  if (c.state === "SYN-RECEIVED") {
    if (!seqLt(c.sndUna, seg.ack) || !seqLe(seg.ack, c.sndMax)) {
      c.out.sendRst(seg.ack);
      return;
    }
    established(c, seg);
  }
  if (!processAck(c, seg)) return;
  if (c.state === "CLOSED") return;
  // seventh: text
  if (seg.payload.length > 0) receiveText(c, seg);
  // eighth: FIN, taken only in order (after the text above reached it)
  if ((seg.flags & FIN) !== 0 && seqAdd(seg.seq, seg.payload.length) === c.rcvNxt && !c.peerFin) receiveFin(c);
  c.out.output();
  c.arm();
  tellWritable(c);
}

function tellWritable(c: TcpConnection): void {
  if (!c.writablePending) return;
  c.writablePending = false;
  const w = c.writable;
  if (w > 0) c.events?.writable(w);
}

function receiveInSynSent(c: TcpConnection, seg: TcpSegment): void {
  const f = seg.flags;
  if ((f & ACK) !== 0 && (!seqLt(c.iss, seg.ack) || seqLt(c.sndMax, seg.ack))) {
    if ((f & RST) === 0) c.out.sendRst(seg.ack);
    return;
  }
  if ((f & RST) !== 0) {
    if ((f & ACK) !== 0) c.destroy(new ConnectionRefusedError(formatIpv4(c.remoteAddress), c.remotePort));
    return;
  }
  if ((f & SYN) === 0) return;
  c.irs = seg.seq;
  c.rcvNxt = seqAdd(seg.seq, 1);
  takeSynOptions(c, seg);
  if ((f & ACK) === 0) {
    // simultaneous open (§3.5): SYN-RECEIVED, SYN-ACK
    c.state = "SYN-RECEIVED";
    c.sndWnd = seg.window;
    c.sndWl1 = seg.seq;
    c.sndWl2 = seg.ack;
    c.rcvAdv = seqAdd(c.rcvNxt, Math.min(c.host.config.receiveBuffer, 0xffff));
    c.sndNxt = c.iss;
    c.out.sendSyn(true);
    return;
  }
  established(c, seg);
  c.sndWnd = seg.window; // a SYN's window is never scaled
  c.sndWl1 = seg.seq;
  c.sndWl2 = seg.ack;
  c.out.sendAck();
  c.out.output();
  c.arm();
}

/** The SYN is acknowledged: buffers, congestion window, the application told. */
function established(c: TcpConnection, seg: TcpSegment): void {
  const config = c.host.config;
  c.state = "ESTABLISHED";
  c.sndUna = seg.ack;
  if (seqLt(c.sndNxt, c.sndUna)) c.sndNxt = c.sndUna;
  c.retries = 0;
  c.rtoAt = Infinity;
  c.out.rttSample(seg.ack);
  c.send = new ByteRing(config.sendBuffer);
  c.recv = new ByteRing(config.receiveBuffer);
  c.rcvAdv = seqAdd(c.rcvNxt, scaledWindowLimit(c, config.receiveBuffer));
  c.out.initCongestion();
  if (config.keepAliveIdleMs > 0) c.keepAliveAt = c.host.now() + config.keepAliveIdleMs;
  c.host.established(c);
  c.events?.connected();
}

function scaledWindowLimit(c: TcpConnection, bytes: number): number {
  return Math.min(bytes, 0xffff << c.rcvScale);
}

export function takeSynOptions(c: TcpConnection, seg: TcpSegment): void {
  if (seg.mss > 0) c.mss = Math.min(seg.mss, c.host.maxSegment);
  c.windowScaling = seg.wscale >= 0;
  if (seg.wscale >= 0) {
    c.sndScale = seg.wscale;
    c.rcvScale = c.ourScale;
  } else {
    c.sndScale = 0;
    c.rcvScale = 0;
  }
}

/** §3.10.7.4 "fifth": the ACK field and the window. False: stop processing. */
function processAck(c: TcpConnection, seg: TcpSegment): boolean {
  const ack = seg.ack;
  if (seqLt(c.sndMax, ack)) {
    c.out.sendAck(); // acknowledges something not yet sent
    return false;
  }
  const window = seg.window << c.sndScale;
  if (seqLt(c.sndUna, ack)) {
    c.out.acked(ack);
  } else if (ack === c.sndUna) {
    c.out.maybeDuplicate(seg, window);
  }
  // window update (§3.10.7.4): from a newer segment, or the same one with a newer ACK
  if (seqLt(c.sndWl1, seg.seq) || (c.sndWl1 === seg.seq && seqLe(c.sndWl2, ack))) {
    const opened = c.sndWnd === 0 && window > 0;
    c.sndWnd = window;
    c.sndWl1 = seg.seq;
    c.sndWl2 = ack;
    if (opened) c.out.windowOpened();
  }
  const finAcked = c.finSent && ack === c.out.finSeq + 1;
  switch (c.state) {
    case "FIN-WAIT-1":
      if (finAcked) {
        c.state = "FIN-WAIT-2";
        if (c.orphan) c.closeAt = c.host.now() + c.host.config.finWait2Ms;
      }
      break;
    case "CLOSING":
      if (finAcked) enterTimeWait(c);
      break;
    case "LAST-ACK":
      if (finAcked) {
        c.destroy(null);
        return false;
      }
      break;
    case "TIME-WAIT":
      return false;
  }
  return true;
}

/** §3.10.7.4 "eighth". */
function receiveFin(c: TcpConnection): void {
  c.peerFin = true;
  c.rcvNxt = seqAdd(c.rcvNxt, 1);
  c.out.ackNow();
  switch (c.state) {
    case "SYN-RECEIVED":
    case "ESTABLISHED":
      c.state = "CLOSE-WAIT";
      break;
    case "FIN-WAIT-1":
      c.state = c.finSent && c.sndUna === c.out.finSeq + 1 ? "TIME-WAIT" : "CLOSING";
      if (c.state === "TIME-WAIT") enterTimeWait(c);
      break;
    case "FIN-WAIT-2":
      enterTimeWait(c);
      break;
  }
  c.signalPeerFin();
}

function enterTimeWait(c: TcpConnection): void {
  c.state = "TIME-WAIT";
  c.send = c.recv = null;
  c.ooo.length = 0;
  c.rtoAt = c.persistAt = c.keepAliveAt = c.delAckAt = c.txRetryAt = c.peerClosedAt = Infinity;
  c.closeAt = c.host.now() + 2 * c.host.config.mslMs;
  c.host.timeWait(c);
  c.arm();
}

/** §3.10.7.4 first check: some of the segment falls in the receive window. */
function acceptable(c: TcpConnection, seq: number, len: number): boolean {
  const wnd = c.receiveWindow();
  if (len === 0) return wnd === 0 ? seq === c.rcvNxt : seqLe(c.rcvNxt, seq) && seqLt(seq, seqAdd(c.rcvNxt, wnd));
  if (wnd === 0) return false;
  const last = seqAdd(seq, len - 1);
  const inWindow = (s: number): boolean => seqLe(c.rcvNxt, s) && seqLt(s, seqAdd(c.rcvNxt, wnd));
  return inWindow(seq) || inWindow(last);
}
