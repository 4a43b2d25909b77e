// One TCP connection (RFC 9293): the transmission control block (every state of §3.3.2),
// the opens, what the application calls (read, write, close, abort), and the one timer.
// Segment arrival is arrival.ts (§3.10.7 step by step), the text step receive.ts, the
// deadlines timers.ts; output (output.ts) sends what the windows allow. Memory: one send ring and one receive ring (config sizes),
// allocated when the connection is established and dropped in TIME-WAIT and CLOSED;
// out-of-order data sits inside the receive ring (at most maxOutOfOrder ranges).

import { formatIpv4 } from "../ip/address.js";
import { ByteRing } from "./ring.js";
import { RtoEstimator } from "./rto.js";
import type { TcpSegment } from "./segment.js";
import { seqAdd, seqDiff } from "./seq.js";
import type { TcpHost } from "./host.js";
import { TcpOutput } from "./output.js";
import { segmentArrives, takeSynOptions } from "./arrival.js";
import { fireTimers } from "./timers.js";

export type TcpState =
  | "CLOSED" | "SYN-SENT" | "SYN-RECEIVED" | "ESTABLISHED" | "FIN-WAIT-1" | "FIN-WAIT-2"
  | "CLOSE-WAIT" | "CLOSING" | "LAST-ACK" | "TIME-WAIT";

/** What the socket above hears. Every call comes from the event loop (a segment or a timer). */
export interface TcpEvents {
  connected(): void;
  readable(count: number): void;
  writable(count: number): void;
  /** The peer sent FIN and every byte before it was read. */
  peerClosed(): void;
  /** The connection is gone (reset, refused, timed out). */
  failed(error: Error): void;
}

export class TcpConnection {
  state: TcpState;
  readonly localPort: number;
  readonly remoteAddress: number;
  readonly remotePort: number;
  readonly host: TcpHost;
  events: TcpEvents | null = null;
  /** The socket let go (close()): the connection finishes on its own. */
  orphan = false;
  /** Passive open: the listener port it came from (0 for an active open). */
  readonly listenPort: number;

  // send sequence space (§3.3.1)
  readonly iss: number;
  sndUna: number;
  sndNxt: number;
  /** Highest sequence number sent + 1 (sndNxt goes back to sndUna on a timeout). */
  sndMax: number;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  sndScale = 0;
  /** Largest segment payload the peer takes (its MSS option, our MTU). */
  mss: number;
  // receive sequence space
  irs = 0;
  rcvNxt = 0;
  /** Right edge offered so far (never moved left, §3.8.6). */
  rcvAdv = 0;
  rcvScale = 0;
  /** Window scale we offer in our SYN; applies only if the peer sends one too (RFC 7323 §2.2). */
  readonly ourScale: number;
  /** Both SYNs carried the window scale option. */
  windowScaling = false;
  peerFin = false;
  peerFinSignalled = false;
  /** The application closed its side: send FIN after the buffered data. */
  finQueued = false;
  finSent = false;

  send: ByteRing | null = null;
  recv: ByteRing | null = null;
  /** Out-of-order ranges beyond RCV.NXT, as [start, end) sequence numbers, sorted. */
  readonly ooo: { start: number; end: number }[] = [];

  readonly rto: RtoEstimator;
  readonly out: TcpOutput;
  /** Consecutive timeouts of the current segment (or SYN). */
  retries = 0;
  // timers: deadlines on the platform clock (Infinity: off), one platform timer for all
  rtoAt = Infinity;
  delAckAt = Infinity;
  persistAt = Infinity;
  keepAliveAt = Infinity;
  closeAt = Infinity;
  txRetryAt = Infinity;
  /** The application read the last byte before the peer's FIN: PeerClosed is due (from
   * the timer, never from inside read(): the reader still has to use what it read). */
  peerClosedAt = Infinity;
  #timer: number | null = null;
  #timerAt = Infinity;
  persistBackoff = 0;
  /** Send buffer space came back during this segment: onWritable once it is processed. */
  writablePending = false;
  keepAliveProbes = 0;
  lastReceived: number;

  constructor(host: TcpHost, localPort: number, remoteAddress: number, remotePort: number, iss: number, state: TcpState, listenPort: number) {
    this.host = host;
    this.localPort = localPort;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = iss;
    this.sndMax = iss;
    this.state = state;
    this.listenPort = listenPort;
    this.mss = Math.min(536, host.maxSegment); // RFC 9293 §3.7.1: 536 without the option
    this.rto = new RtoEstimator(host.config);
    let scale = 0;
    while (scale < 14 && host.config.receiveBuffer >>> scale > 0xffff) scale++;
    this.ourScale = scale;
    this.out = new TcpOutput(this);
    this.lastReceived = host.now();
  }

  get remote(): string {
    return `${formatIpv4(this.remoteAddress)}:${this.remotePort}`;
  }

  /** Bytes the application can read now. */
  get readable(): number {
    return this.recv?.length ?? 0;
  }

  /** Bytes the application can write now. */
  get writable(): number {
    if (this.send === null || this.finQueued || !this.#canSend()) return 0;
    return this.send.free;
  }

  /** Window we offer now (bytes, before scaling). */
  receiveWindow(): number {
    return Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt));
  }

  // ---- opens ----

  /** Active open (§3.10.1): SYN with MSS and window scale. */
  connect(): void {
    this.state = "SYN-SENT";
    this.out.sendSyn(false);
  }

  /** Passive open (§3.10.7.2): a SYN reached a listener. */
  acceptSyn(seg: TcpSegment): void {
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    takeSynOptions(this, seg);
    this.sndWnd = seg.window; // never scaled in a SYN (RFC 7323 §2.2)
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.rcvAdv = seqAdd(this.rcvNxt, Math.min(this.host.config.receiveBuffer, 0xffff));
    this.out.sendSyn(true);
  }

  /** The handshake's ACK brought back a SYN cookie (tcp-layer.ts): SYN-RECEIVED as if our
   * SYN-ACK had been sent from here (no window scaling: the cookie did not keep it). */
  acceptCookie(peerIsn: number, mss: number, seg: TcpSegment): void {
    this.irs = peerIsn;
    this.rcvNxt = seqAdd(peerIsn, 1);
    this.mss = Math.min(mss, this.host.maxSegment);
    this.windowScaling = false;
    this.sndScale = this.rcvScale = 0;
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    this.sndWnd = seg.window;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.rcvAdv = seqAdd(this.rcvNxt, Math.min(this.host.config.receiveBuffer, 0xffff));
  }

  // ---- the application ----

  /** Copies up to `n` bytes out of the receive buffer; opens the window as needed. */
  read(n: number, out: Uint8Array, at: number): number {
    const recv = this.recv;
    if (recv === null) return 0;
    const count = Math.min(n, recv.length);
    if (count === 0) return 0;
    recv.copyOut(0, count, out, at);
    recv.consume(count, this.ooo.length === 0);
    this.out.windowUpdate();
    if (this.peerFin && !this.peerFinSignalled && recv.length === 0 && this.peerClosedAt === Infinity) {
      this.peerClosedAt = this.host.now();
      this.arm();
    }
    return count;
  }

  /** Appends bytes to the send buffer; returns how many fit. */
  write(bytes: Uint8Array): number {
    if (this.send === null || this.finQueued) return 0;
    const n = this.send.append(bytes);
    if (n > 0) this.out.output();
    return n;
  }

  /** The application is done sending (§3.10.4 CLOSE). */
  close(): void {
    switch (this.state) {
      case "SYN-SENT":
      case "CLOSED":
        this.destroy(null);
        return;
      case "SYN-RECEIVED":
      case "ESTABLISHED":
        this.state = "FIN-WAIT-1";
        break;
      case "CLOSE-WAIT":
        this.state = "LAST-ACK";
        break;
      default:
        return; // already closing
    }
    this.finQueued = true;
    this.out.output();
  }

  /** Sends RST and drops the connection (§3.10.5 ABORT). */
  abort(): void {
    if (this.state === "CLOSED") return;
    if (this.state !== "SYN-SENT" && this.state !== "TIME-WAIT") this.out.sendRst(this.sndMax);
    this.destroy(null);
  }

  // ---- segment arrival (§3.10.7.4: every state but LISTEN, handled by the layer) ----
  receive(seg: TcpSegment): void {
    segmentArrives(this, seg);
  }

  /** Tells the socket the peer closed, once every byte before the FIN was read. Only from
   * segment arrival or the timer: a callback from inside read() would run before the
   * reader used the bytes it just took (an echo would lose its last piece). */
  signalPeerFin(): void {
    this.peerClosedAt = Infinity;
    if (!this.peerFin || this.peerFinSignalled || this.readable > 0) return;
    this.peerFinSignalled = true;
    this.events?.peerClosed();
  }

  #canSend(): boolean {
    return this.state === "ESTABLISHED" || this.state === "CLOSE-WAIT";
  }

  /** A method, not a field test: callbacks and timers change the state under TypeScript's narrowing. */
  isClosed(): boolean {
    return this.state === "CLOSED";
  }

  // ---- timers ----

  /** Arms the one platform timer for the earliest deadline. A deadline that moved later
   * leaves the timer alone: it fires early, finds nothing due, and is set again. */
  arm(): void {
    if (this.state === "CLOSED") return;
    const next = Math.min(this.rtoAt, this.delAckAt, this.persistAt, this.keepAliveAt, this.closeAt, this.txRetryAt, this.peerClosedAt);
    if (next === Infinity) return;
    if (this.#timer !== null && this.#timerAt <= next) return;
    const timers = this.host.timers;
    if (this.#timer !== null) timers.clear(this.#timer);
    this.#timerAt = next;
    this.#timer = timers.set(() => {
      this.#timer = null;
      this.#timerAt = Infinity;
      fireTimers(this);
    }, Math.max(0, Math.ceil(next - this.host.now())));
  }

  /** To CLOSED: timer off, buffers dropped, the layer forgets it, the socket hears `error`. */
  destroy(error: Error | null): void {
    if (this.state === "CLOSED") return;
    this.state = "CLOSED";
    if (this.#timer !== null) this.host.timers.clear(this.#timer);
    this.#timer = null;
    this.send = this.recv = null;
    this.ooo.length = 0;
    this.host.remove(this);
    const events = this.events;
    this.events = null;
    if (error !== null && events !== null) events.failed(error);
  }
}
