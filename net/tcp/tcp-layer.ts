// TCP on one IPv4 interface: the connection table, listeners, initial sequence numbers
// (RFC 6528: a 4 µs clock plus a keyed hash of the connection's addresses), RST for
// segments nobody owns (RFC 9293 §3.10.7.1), passive opens with a bounded half-open
// backlog and accept queue per listener (SYN floods are dropped, never queued without
// bound), a bounded TIME-WAIT table. Memory: at most maxConnections connections with
// their two rings, plus maxTimeWait small TIME-WAIT records.

import { formatIpv4 } from "../ip/address.js";
import { PACKET_PAYLOAD_OFFSET, type IpProtocolHandler, type IpStack } from "../ip/ip-stack.js";
import { tcpConfig, type TcpConfig, type TcpOptions } from "./config.js";
import { TcpConnection } from "./connection.js";
import { TcpLimitError } from "./errors.js";
import type { TcpHost, TcpStats } from "./host.js";
import { ACK, FIN, PROTO_TCP, RST, SYN, TCP_HLEN, headerLength, parseTcp, writeTcp, type TcpSegment } from "./segment.js";
import { seqAdd, seqLt } from "./seq.js";
import { SynCookies } from "./syn-cookies.js";

/** A listening port: what the layer needs of a Listener. */
export interface ListenEntry {
  readonly port: number;
  /** Connections in SYN-RECEIVED (bounded by config.backlog). */
  readonly halfOpen: Set<TcpConnection>;
  /** Established connections not yet taken (bounded by config.acceptQueue). */
  readonly queue: TcpConnection[];
  /** A connection joined the queue. */
  accepted(count: number): void;
}

const layers = new WeakMap<IpStack, TcpLayer>();

/** The TCP layer of `stack`, made (with `options`) on first use. */
export function tcpLayer(stack: IpStack, options?: TcpOptions): TcpLayer {
  let layer = layers.get(stack);
  if (layer === undefined) {
    layer = new TcpLayer(stack, options);
    layers.set(stack, layer);
  }
  return layer;
}

/** Connections keyed by local port, then remote address * 65536 + remote port. */
type Table = Map<number, Map<number, TcpConnection>>;

export class TcpLayer implements TcpHost, IpProtocolHandler {
  readonly config: TcpConfig;
  readonly stack: IpStack;
  readonly stats: TcpStats = {
    segmentsReceived: 0, segmentsSent: 0, badHeader: 0, badChecksum: 0, noSocket: 0, resetsSent: 0, resetsReceived: 0,
    synDropped: 0, acceptOverflows: 0, connectionsOpened: 0, connectionsAccepted: 0, retransmitTimeouts: 0,
    fastRetransmits: 0, retransmittedSegments: 0, timeouts: 0, keepAlives: 0, windowProbes: 0, outOfOrder: 0,
    outOfOrderDropped: 0, bytesReceived: 0, bytesSent: 0, txErrors: 0, timeWaitEvicted: 0,
    synCookiesSent: 0, synCookiesAccepted: 0,
  };
  readonly payloadOffset = PACKET_PAYLOAD_OFFSET;
  readonly #table: Table = new Map();
  readonly #listeners = new Map<number, ListenEntry>();
  readonly #timeWait: TcpConnection[] = [];
  #active = 0;
  #nextPort = 49152 + Math.floor(Math.random() * 16384);
  readonly #secret = [rand32(), rand32(), rand32(), rand32()];
  readonly #cookies = new SynCookies([rand32(), rand32(), rand32(), rand32()]);
  #closed = false;

  constructor(stack: IpStack, options?: TcpOptions) {
    this.config = tcpConfig(options);
    this.stack = stack;
    stack.setProtocol(PROTO_TCP, this);
  }

  get timers() {
    return this.stack.env.timers;
  }

  get maxSegment(): number {
    return this.stack.maxPayload - TCP_HLEN;
  }

  get localAddress(): number {
    return this.stack.address;
  }

  now(): number {
    return this.stack.env.clock.now();
  }

  frame(tcpLength: number): Uint8Array {
    return this.stack.packetFrame(tcpLength);
  }

  sendFrame(dst: number, frame: Uint8Array): boolean {
    try {
      this.stack.sendPacket(dst, PROTO_TCP, frame);
      return true;
    } catch {
      return false;
    }
  }

  /** Connections in every state, TIME-WAIT included (for `net info`, tests). */
  connections(): TcpConnection[] {
    const all: TcpConnection[] = [];
    for (const byRemote of this.#table.values()) for (const c of byRemote.values()) all.push(c);
    return all;
  }

  /** Connections not in TIME-WAIT. */
  get active(): number {
    return this.#active;
  }

  // ---- opens ----

  /** Active open to `address`:`port` from `localPort` (0: an ephemeral port). */
  connect(address: number, port: number, localPort = 0): TcpConnection {
    this.#check();
    if (this.#active >= this.config.maxConnections) throw new TcpLimitError("too many connections", this.config.maxConnections);
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`port ${port} must be 1 to 65535`);
    const local = localPort === 0 ? this.#ephemeral(address, port) : localPort;
    if (this.#find(local, address, port) !== undefined) throw new TcpLimitError(`${formatIpv4(address)}:${port} from port ${local} is in use`, 1);
    const conn = new TcpConnection(this, local, address, port, this.#isn(local, address, port), "SYN-SENT", 0);
    this.#add(conn);
    this.stats.connectionsOpened++;
    conn.connect();
    return conn;
  }

  listen(entry: ListenEntry): void {
    this.#check();
    if (this.#listeners.has(entry.port)) throw new TcpLimitError(`port ${entry.port} already has a listener`, 1);
    this.#listeners.set(entry.port, entry);
  }

  unlisten(entry: ListenEntry): void {
    if (this.#listeners.get(entry.port) !== entry) return;
    this.#listeners.delete(entry.port);
    for (const c of [...entry.halfOpen, ...entry.queue]) c.abort();
    entry.halfOpen.clear();
    entry.queue.length = 0;
  }

  // ---- from IP ----

  receive(payload: Uint8Array, src: number, dst: number): void {
    if (this.#closed) return;
    const seg = parseTcp(payload, src, dst);
    if (typeof seg === "string") {
      if (seg === "tcpBadChecksum") this.stats.badChecksum++;
      else this.stats.badHeader++;
      return;
    }
    this.stats.segmentsReceived++;
    const conn = this.#find(seg.dstPort, src, seg.srcPort);
    if (conn !== undefined) {
      // RFC 9293 §3.6.1 (and RFC 6191): a new SYN above the old RCV.NXT may reopen a TIME-WAIT pair
      if (conn.state === "TIME-WAIT" && (seg.flags & (SYN | ACK | RST)) === SYN && seqLt(conn.rcvNxt, seg.seq) && this.#listeners.has(seg.dstPort)) {
        conn.destroy(null);
      } else {
        conn.receive(seg);
        return;
      }
    }
    const listener = this.#listeners.get(seg.dstPort);
    if (listener !== undefined && (seg.flags & (SYN | ACK | RST)) === SYN) {
      this.#passiveOpen(listener, seg, src);
      return;
    }
    if (listener !== undefined && (seg.flags & RST) !== 0) return;
    if (listener !== undefined && (seg.flags & (SYN | ACK)) === ACK && this.#acceptCookie(listener, seg, src)) return;
    this.stats.noSocket++;
    this.#resetFor(seg, src);
  }

  #passiveOpen(listener: ListenEntry, seg: TcpSegment, src: number): void {
    const config = this.config;
    if (this.#active >= config.maxConnections) {
      this.stats.synDropped++; // the peer retries; nothing is kept for it
      return;
    }
    if (listener.halfOpen.size >= config.backlog) {
      this.stats.synDropped++; // nothing is kept for it: a SYN cookie answers (syn-cookies.ts)
      this.#sendCookie(seg, src);
      return;
    }
    const conn = new TcpConnection(this, seg.dstPort, src, seg.srcPort, this.#isn(seg.dstPort, src, seg.srcPort), "SYN-RECEIVED", listener.port);
    this.#add(conn);
    listener.halfOpen.add(conn);
    conn.acceptSyn(seg);
  }

  /** A SYN beyond the backlog: SYN-ACK with a cookie for its ISN, MSS option, no window
   * scale (a cookie cannot remember the peer's), nothing kept. */
  #sendCookie(seg: TcpSegment, src: number): void {
    const mss = Math.min(seg.mss > 0 ? seg.mss : 536, this.maxSegment);
    const cookie = this.#cookies.make(this.now(), src, seg.srcPort, seg.dstPort, seg.seq, mss);
    const fields = {
      srcPort: seg.dstPort, dstPort: seg.srcPort, seq: cookie, ack: seqAdd(seg.seq, 1),
      flags: SYN | ACK, window: Math.min(this.config.receiveBuffer, 0xffff), mss: this.maxSegment, wscale: -1,
    };
    const frame = this.frame(headerLength(fields));
    writeTcp(frame.subarray(this.payloadOffset), this.localAddress, src, fields, 0);
    if (this.sendFrame(src, frame)) {
      this.stats.synCookiesSent++;
      this.stats.segmentsSent++;
    }
  }

  /** An ACK to a listening port with no connection: the end of a handshake we answered
   * with a cookie? If the cookie checks, the connection is made (ESTABLISHED at once, or
   * dropped when the table or the accept queue is full: the peer retransmits). False:
   * not a cookie of ours (the caller resets it). */
  #acceptCookie(listener: ListenEntry, seg: TcpSegment, src: number): boolean {
    const peerIsn = seqAdd(seg.seq, -1);
    const mss = this.#cookies.check(this.now(), src, seg.srcPort, seg.dstPort, peerIsn, seqAdd(seg.ack, -1));
    if (mss === 0) return false;
    if (this.#active >= this.config.maxConnections || listener.queue.length >= this.config.acceptQueue) {
      this.stats.synDropped++;
      return true;
    }
    const conn = new TcpConnection(this, seg.dstPort, src, seg.srcPort, seqAdd(seg.ack, -1), "SYN-RECEIVED", listener.port);
    conn.acceptCookie(peerIsn, mss, seg);
    this.#add(conn);
    listener.halfOpen.add(conn);
    this.stats.synCookiesAccepted++;
    conn.receive(seg); // the ACK (and any data) in SYN-RECEIVED: ESTABLISHED, to the accept queue
    return true;
  }

  /** §3.10.7.1: a segment for no connection gets a RST (never a RST for a RST). */
  #resetFor(seg: TcpSegment, src: number): void {
    if ((seg.flags & RST) !== 0) return;
    const len = seg.payload.length + ((seg.flags & SYN) !== 0 ? 1 : 0) + ((seg.flags & FIN) !== 0 ? 1 : 0);
    const hasAck = (seg.flags & ACK) !== 0;
    const fields = {
      srcPort: seg.dstPort, dstPort: seg.srcPort, seq: hasAck ? seg.ack : 0, ack: hasAck ? 0 : seqAdd(seg.seq, len),
      flags: RST | (hasAck ? 0 : ACK), window: 0, mss: -1, wscale: -1,
    };
    const frame = this.frame(TCP_HLEN);
    writeTcp(frame.subarray(this.payloadOffset), this.localAddress, src, fields, 0);
    if (this.sendFrame(src, frame)) {
      this.stats.resetsSent++;
      this.stats.segmentsSent++;
    }
  }

  // ---- TcpHost: connection bookkeeping ----

  established(conn: TcpConnection): void {
    if (conn.listenPort === 0) return;
    const listener = this.#listeners.get(conn.listenPort);
    if (listener === undefined || !listener.halfOpen.delete(conn)) {
      conn.abort();
      return;
    }
    if (listener.queue.length >= this.config.acceptQueue) {
      this.stats.acceptOverflows++;
      conn.abort();
      return;
    }
    this.stats.connectionsAccepted++;
    listener.queue.push(conn);
    listener.accepted(listener.queue.length);
  }

  timeWait(conn: TcpConnection): void {
    this.#active--;
    this.#timeWait.push(conn);
    while (this.#timeWait.length > this.config.maxTimeWait) {
      this.stats.timeWaitEvicted++;
      this.#timeWait[0]!.destroy(null);
    }
  }

  remove(conn: TcpConnection): void {
    const byRemote = this.#table.get(conn.localPort);
    if (byRemote?.get(conn.remoteAddress * 65536 + conn.remotePort) === conn) {
      byRemote.delete(conn.remoteAddress * 65536 + conn.remotePort);
      if (byRemote.size === 0) this.#table.delete(conn.localPort);
    }
    const tw = this.#timeWait.indexOf(conn);
    if (tw >= 0) this.#timeWait.splice(tw, 1);
    else this.#active--;
    if (conn.listenPort !== 0) {
      const listener = this.#listeners.get(conn.listenPort);
      listener?.halfOpen.delete(conn);
      const q = listener?.queue.indexOf(conn) ?? -1;
      if (q >= 0) listener!.queue.splice(q, 1);
    }
  }

  /** The IP stack closed: every connection goes, no RST (the interface is gone). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.connections()) c.destroy(null);
    this.#listeners.clear();
  }

  // ---- inside ----

  #check(): void {
    if (this.#closed || this.stack.closed) throw new TcpLimitError("the IP stack is closed", 0);
  }

  #find(localPort: number, address: number, port: number): TcpConnection | undefined {
    return this.#table.get(localPort)?.get(address * 65536 + port);
  }

  #add(conn: TcpConnection): void {
    let byRemote = this.#table.get(conn.localPort);
    if (byRemote === undefined) {
      byRemote = new Map();
      this.#table.set(conn.localPort, byRemote);
    }
    byRemote.set(conn.remoteAddress * 65536 + conn.remotePort, conn);
    this.#active++;
  }

  #ephemeral(address: number, port: number): number {
    for (let i = 0; i < 16384; i++) {
      const p = this.#nextPort;
      this.#nextPort = p === 65535 ? 49152 : p + 1;
      if (!this.#listeners.has(p) && this.#find(p, address, port) === undefined) return p;
    }
    throw new TcpLimitError("no ephemeral port free", 16384);
  }

  /** RFC 6528: ISN = M + F(local port, remote address, remote port, secret), M a 4 µs clock. */
  #isn(localPort: number, address: number, port: number): number {
    const s = this.#secret;
    let h = Math.imul(address ^ s[0]!, 0x9e3779b1);
    h = Math.imul(h ^ ((localPort << 16) | port) ^ s[1]!, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ s[2]!, 0xc2b2ae35);
    h ^= (h >>> 16) ^ s[3]!;
    return (h + Math.floor(this.now() * 250)) >>> 0;
  }
}

function rand32(): number {
  return Math.floor(Math.random() * 0x1_0000_0000) >>> 0;
}
