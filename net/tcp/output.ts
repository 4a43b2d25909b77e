// The sending half of a connection: segments within min(send window, congestion window)
// (RFC 9293 §3.8.6), Nagle's rule unless nodelay (§3.7.4), congestion control (RFC 5681:
// slow start, congestion avoidance, fast retransmit on the third duplicate ACK, fast
// recovery with RFC 6582's partial ACKs), RTT timing for RFC 6298 (one segment at a
// time, Karn's rule), delayed ACKs (§3.8.6.3), the receive window offered with receiver
// SWS avoidance (§3.8.6.2.2), zero-window probes (§3.8.6.1) and keep-alive probes.

import type { TcpConnection } from "./connection.js";
import { ACK, FIN, PSH, RST, SYN, headerLength, writeTcp, type TcpHeaderFields, type TcpSegment } from "./segment.js";
import { seqAdd, seqDiff, seqLe, seqLt } from "./seq.js";

/** Congestion window cap (bytes): far above any window this stack offers or meets. */
const MAX_CWND = 1 << 24;

export class TcpOutput {
  readonly #c: TcpConnection;
  cwnd = 0;
  ssthresh = MAX_CWND;
  dupAcks = 0;
  inRecovery = false;
  recover = 0;
  /** Sequence number of our FIN, once queued and sent. */
  finSeq = 0;
  /** RFC 896 / §3.7.4: off when the socket asked for nodelay. */
  nagle = true;
  #timing = false;
  #rttSeq = 0;
  #rttStart = 0;
  /** Bytes received since our last ACK. */
  #unacked = 0;

  constructor(conn: TcpConnection) {
    this.#c = conn;
  }

  /** RFC 5681 §3.1: the initial window. */
  initCongestion(): void {
    const mss = this.#c.mss;
    this.cwnd = Math.min(4 * mss, Math.max(2 * mss, 4380));
    this.ssthresh = MAX_CWND;
  }

  // ---- sending data ----

  /** Sends what the windows, Nagle and the FIN allow. `forceOne`: after a timeout, the
   * first segment goes even into a closed window (its answer carries the window now). */
  output(forceOne = false): void {
    const c = this.#c;
    const send = c.send;
    if (send === null) return;
    const st = c.state;
    if (st !== "ESTABLISHED" && st !== "CLOSE-WAIT" && st !== "FIN-WAIT-1" && st !== "CLOSING" && st !== "LAST-ACK") return;
    const host = c.host;
    for (;;) {
      const inFlight = seqDiff(c.sndNxt, c.sndUna);
      const sentData = inFlight - (c.finSent ? 1 : 0);
      const unsent = send.length - sentData;
      // the right edge the peer offered (SND.WL2 + SND.WND), and the congestion window
      let usable = Math.min(seqDiff(seqAdd(c.sndWl2, c.sndWnd), c.sndNxt), this.cwnd - inFlight);
      if (forceOne) {
        usable = Math.max(usable, Math.min(c.mss, unsent, this.cwnd));
        forceOne = false;
      }
      if (unsent > 0) {
        const len = Math.min(unsent, c.mss, usable);
        if (len <= 0) {
          if (c.sndWnd === 0 && inFlight === 0 && c.persistAt === Infinity) {
            c.persistBackoff = 0;
            c.persistAt = host.now() + c.rto.rto;
          }
          break;
        }
        // a small piece while data is in flight waits: Nagle (all data), or the window
        if (len < c.mss && inFlight > 0 && (len < unsent || (this.nagle && !c.finQueued))) break;
        const fin = c.finQueued && len === unsent;
        const seq = c.sndNxt;
        if (!this.#transmit(seq, sentData, len, ACK | (len === unsent ? PSH : 0) | (fin ? FIN : 0))) {
          this.#retryLater();
          break;
        }
        host.stats.bytesSent += len;
        this.#advance(seq, len, fin);
      } else if (c.finQueued && !c.finSent) {
        const seq = c.sndNxt;
        if (!this.#transmit(seq, sentData, 0, ACK | FIN)) {
          this.#retryLater();
          break;
        }
        this.#advance(seq, 0, true);
      } else break;
    }
    c.arm();
  }

  #advance(seq: number, len: number, fin: boolean): void {
    const c = this.#c;
    const end = seqAdd(seq, len + (fin ? 1 : 0));
    if (fin) {
      this.finSeq = seqAdd(seq, len);
      c.finSent = true;
    }
    const fresh = seqLe(c.sndMax, seq);
    c.sndNxt = end;
    if (seqLt(c.sndMax, end)) c.sndMax = end;
    if (fresh && !this.#timing) {
      this.#timing = true;
      this.#rttSeq = end;
      this.#rttStart = c.host.now();
    } else if (!fresh) {
      c.host.stats.retransmittedSegments++;
    }
    if (c.rtoAt === Infinity) c.rtoAt = c.host.now() + c.rto.rto;
  }

  #retryLater(): void {
    const c = this.#c;
    c.host.stats.txErrors++;
    if (c.txRetryAt === Infinity) c.txRetryAt = c.host.now() + 2;
  }

  /** One segment of the send buffer at SND.UNA again (fast retransmit, partial ACK). */
  #retransmitFirst(): void {
    const c = this.#c;
    const send = c.send;
    if (send === null) return;
    const len = Math.min(c.mss, send.length);
    const fin = c.finSent && len === send.length;
    if (len === 0 && !fin) return;
    this.#timing = false; // Karn
    if (this.#transmit(c.sndUna, 0, len, ACK | (fin ? FIN : 0))) c.host.stats.retransmittedSegments++;
    else c.host.stats.txErrors++;
  }

  // ---- acknowledgments received ----

  /** SND.UNA < ack <= SND.MAX: new data (or our FIN) acknowledged. */
  acked(ack: number): void {
    const c = this.#c;
    const host = c.host;
    const acked = seqDiff(ack, c.sndUna);
    this.rttSample(ack);
    const finAcked = c.finSent && ack === seqAdd(this.finSeq, 1);
    const send = c.send;
    let freed = 0;
    if (send !== null) {
      freed = Math.min(send.length, acked - (finAcked ? 1 : 0));
      send.consume(freed);
    }
    c.sndUna = ack;
    if (seqLt(c.sndNxt, ack)) c.sndNxt = ack; // after a timeout rewound SND.NXT
    c.retries = 0;
    const mss = c.mss;
    if (this.inRecovery) {
      if (seqLe(this.recover, ack)) {
        this.inRecovery = false; // RFC 6582 §3.2 step 3: full acknowledgment
        this.cwnd = this.ssthresh;
      } else {
        this.#retransmitFirst(); // partial acknowledgment: the next hole
        this.cwnd = Math.max(mss, this.cwnd - acked + mss);
      }
    } else if (this.cwnd < this.ssthresh) {
      this.cwnd = Math.min(MAX_CWND, this.cwnd + Math.min(acked, mss)); // slow start
    } else {
      this.cwnd = Math.min(MAX_CWND, this.cwnd + Math.max(1, Math.floor((mss * mss) / this.cwnd)));
    }
    this.dupAcks = 0;
    c.rtoAt = c.sndUna === c.sndMax ? Infinity : host.now() + c.rto.rto; // RFC 6298 §5.2, §5.3
    if (freed > 0) c.writablePending = true; // told after the whole segment is processed
  }

  /** RFC 5681 §2: a duplicate ACK (no data, same ACK and window, data outstanding). */
  maybeDuplicate(seg: TcpSegment, window: number): void {
    const c = this.#c;
    if (seg.payload.length > 0 || (seg.flags & (SYN | FIN)) !== 0 || window !== c.sndWnd || c.sndUna === c.sndMax) {
      this.dupAcks = 0;
      return;
    }
    this.dupAcks++;
    const mss = c.mss;
    if (this.dupAcks === 3 && !this.inRecovery) {
      const flight = seqDiff(c.sndMax, c.sndUna);
      this.ssthresh = Math.max(Math.floor(flight / 2), 2 * mss);
      c.host.stats.fastRetransmits++;
      this.#retransmitFirst();
      this.cwnd = this.ssthresh + 3 * mss;
      this.inRecovery = true;
      this.recover = c.sndMax;
      c.rtoAt = c.host.now() + c.rto.rto;
    } else if (this.dupAcks > 3 && this.inRecovery) {
      this.cwnd = Math.min(MAX_CWND, this.cwnd + mss); // each further duplicate: one more segment left the network
    }
  }

  rttSample(ack: number): void {
    if (this.#timing && seqLe(this.#rttSeq, ack)) {
      this.#timing = false;
      this.#c.rto.sample(this.#c.host.now() - this.#rttStart);
    }
  }

  /** RFC 6298 §5.4-5.6 and RFC 5681 §3.1: the timer went off. */
  timeout(syn: boolean): void {
    const c = this.#c;
    this.#timing = false;
    if (syn) {
      this.sendSyn(c.state === "SYN-RECEIVED");
      c.rtoAt = c.host.now() + c.rto.rto;
      return;
    }
    const flight = seqDiff(c.sndMax, c.sndUna);
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * c.mss);
    this.cwnd = c.mss;
    this.inRecovery = false;
    this.dupAcks = 0;
    c.sndNxt = c.sndUna; // go back: send again from the first unacknowledged byte
    if (c.finSent) c.finSent = false;
    this.output(true);
    if (c.rtoAt === Infinity && c.sndUna !== c.sndMax) c.rtoAt = c.host.now() + c.rto.rto;
  }

  windowOpened(): void {
    this.#c.persistAt = Infinity;
    this.#c.persistBackoff = 0;
  }

  /** The persist timer (§3.8.6.1): the peer's window is 0 and we have data: probe it. */
  probeWindow(): void {
    const c = this.#c;
    c.persistAt = Infinity;
    const unsent = (c.send?.length ?? 0) - (seqDiff(c.sndNxt, c.sndUna) - (c.finSent ? 1 : 0));
    if (c.sndWnd > 0 || unsent <= 0) return;
    c.host.stats.windowProbes++;
    this.sendProbe();
    c.persistBackoff = Math.min(c.persistBackoff + 1, 16);
    c.persistAt = c.host.now() + Math.min(c.host.config.maxRtoMs, c.rto.rto * 2 ** c.persistBackoff);
  }

  // ---- acknowledgments we send ----

  /** In-order data arrived: ACK every second full segment at once, else after the delay. */
  ackLater(bytes: number): void {
    const c = this.#c;
    this.#unacked += bytes;
    if (c.host.config.delayedAckMs === 0 || this.#unacked >= 2 * c.mss) {
      this.sendAck();
      return;
    }
    if (c.delAckAt === Infinity) c.delAckAt = c.host.now() + c.host.config.delayedAckMs;
  }

  ackNow(): void {
    this.sendAck();
  }

  /** After the application read: tell the peer if the window grew enough (SWS avoidance). */
  windowUpdate(): void {
    const c = this.#c;
    const before = c.rcvAdv;
    const wasSmall = seqDiff(before, c.rcvNxt) < c.mss;
    this.#moveRightEdge();
    if (c.rcvAdv !== before && wasSmall && c.state !== "CLOSED") this.sendAck();
  }

  /** A bare ACK. Its sequence number is SND.MAX, not SND.NXT (after a timeout rewound
   * SND.NXT the peer may already hold more, and would find an older one unacceptable and
   * ignore the acknowledgment in it), but never past the right edge the peer offered (with
   * a closed window only SEG.SEQ = RCV.NXT is taken, §3.10.7.4). */
  sendAck(): void {
    const c = this.#c;
    const edge = seqAdd(c.sndWl2, c.sndWnd);
    const seq = c.send !== null && seqLt(edge, c.sndMax) && seqLe(c.sndUna, edge) ? edge : c.sndMax;
    if (!this.#transmit(seq, 0, 0, ACK)) c.host.stats.txErrors++;
  }

  /** Keep-alive and window probe: SEG.SEQ = SND.UNA - 1, no data; the peer answers with an ACK. */
  sendProbe(): void {
    const c = this.#c;
    if (!this.#transmit(seqAdd(c.sndUna, -1), 0, 0, ACK)) c.host.stats.txErrors++;
  }

  /** RST (with our ACK once the peer's sequence numbers are known). */
  sendRst(seq: number): void {
    const c = this.#c;
    const synced = c.state !== "SYN-SENT" && c.state !== "CLOSED";
    c.host.stats.resetsSent++;
    this.#send({ srcPort: c.localPort, dstPort: c.remotePort, seq, ack: synced ? c.rcvNxt : 0, flags: RST | (synced ? ACK : 0), window: 0, mss: -1, wscale: -1 }, 0, 0);
  }

  /** SYN (active open) or SYN-ACK (passive), with MSS and window scale (RFC 7323: in a
   * SYN-ACK only if the peer's SYN had one). */
  sendSyn(withAck: boolean): void {
    const c = this.#c;
    const host = c.host;
    const wscale = !withAck || c.windowScaling ? c.ourScale : -1;
    const fields: TcpHeaderFields = {
      srcPort: c.localPort, dstPort: c.remotePort, seq: c.iss, ack: withAck ? c.rcvNxt : 0,
      flags: SYN | (withAck ? ACK : 0), window: Math.min(host.config.receiveBuffer, 0xffff), mss: host.maxSegment, wscale,
    };
    if (!this.#send(fields, 0, 0)) host.stats.txErrors++;
    const end = seqAdd(c.iss, 1);
    c.sndNxt = end;
    if (seqLt(c.sndMax, end)) c.sndMax = end;
    if (c.retries === 0 && !this.#timing) {
      this.#timing = true;
      this.#rttSeq = end;
      this.#rttStart = host.now();
    }
    if (c.rtoAt === Infinity) c.rtoAt = host.now() + c.rto.rto;
    c.arm();
  }

  // ---- the wire ----

  /** The window field: the right edge moved per SWS avoidance, scaled (§3.8.6.2.2, RFC 7323). */
  #windowField(): number {
    const c = this.#c;
    this.#moveRightEdge();
    return Math.min(0xffff, seqDiff(c.rcvAdv, c.rcvNxt) >>> c.rcvScale);
  }

  /** RFC 9293 §3.8.6.2.2: the right edge moves only by min(half the buffer, MSS) or more. */
  #moveRightEdge(): void {
    const c = this.#c;
    const recv = c.recv;
    if (recv === null) return;
    const free = Math.min(recv.free, 0xffff << c.rcvScale);
    const edge = seqAdd(c.rcvNxt, free);
    const gain = seqDiff(edge, c.rcvAdv);
    if (gain > 0 && (gain >= Math.min(recv.capacity >>> 1, c.mss) || free === recv.capacity)) c.rcvAdv = edge;
  }

  /** A data (or bare) segment at `seq` with `len` bytes from `dataOffset` in the send buffer. */
  #transmit(seq: number, dataOffset: number, len: number, flags: number): boolean {
    const c = this.#c;
    const fields: TcpHeaderFields = { srcPort: c.localPort, dstPort: c.remotePort, seq, ack: c.rcvNxt, flags, window: this.#windowField(), mss: -1, wscale: -1 };
    const ok = this.#send(fields, dataOffset, len);
    if (ok) {
      this.#unacked = 0; // every segment carries the ACK
      c.delAckAt = Infinity;
    }
    return ok;
  }

  #send(fields: TcpHeaderFields, dataOffset: number, len: number): boolean {
    const c = this.#c;
    const host = c.host;
    const hlen = headerLength(fields);
    const frame = host.frame(hlen + len);
    const at = host.payloadOffset;
    if (len > 0) c.send!.copyOut(dataOffset, len, frame, at + hlen);
    writeTcp(frame.subarray(at), host.localAddress, c.remoteAddress, fields, len);
    if (!host.sendFrame(c.remoteAddress, frame)) return false;
    host.stats.segmentsSent++;
    return true;
  }
}
