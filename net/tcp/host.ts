// What a connection needs of the TCP layer (tcp-layer.ts implements it): settings,
// time, a way to put segments on the wire, and the bookkeeping of the connection table.

import type { Timers } from "../../platform/platform.js";
import type { TcpConfig } from "./config.js";
import type { TcpConnection } from "./connection.js";

export interface TcpStats {
  segmentsReceived: number;
  segmentsSent: number;
  badHeader: number;
  badChecksum: number;
  /** Segments for no connection and no listener (answered with RST). */
  noSocket: number;
  resetsSent: number;
  resetsReceived: number;
  /** SYNs given no half-open connection: the listener's backlog or the connection table
   * was full (beyond the backlog a SYN cookie answers); cookie ACKs finding no room. */
  synDropped: number;
  /** SYN-ACKs sent with a SYN cookie (syn-cookies.ts), and the ACKs that checked. */
  synCookiesSent: number;
  synCookiesAccepted: number;
  /** Connections reset because the listener's accept queue was full. */
  acceptOverflows: number;
  connectionsOpened: number;
  connectionsAccepted: number;
  retransmitTimeouts: number;
  fastRetransmits: number;
  /** Segments (or bytes) sent again. */
  retransmittedSegments: number;
  timeouts: number;
  keepAlives: number;
  windowProbes: number;
  outOfOrder: number;
  outOfOrderDropped: number;
  bytesReceived: number;
  bytesSent: number;
  /** Frames the NIC refused (queue full, no route): retried from a timer. */
  txErrors: number;
  /** TIME-WAIT connections dropped early to stay within maxTimeWait. */
  timeWaitEvicted: number;
}

export interface TcpHost {
  readonly config: TcpConfig;
  readonly timers: Timers;
  readonly stats: TcpStats;
  /** Largest segment payload our interface carries (MTU - 40). */
  readonly maxSegment: number;
  /** Our address (the interface's). */
  readonly localAddress: number;
  now(): number;
  /** A frame with room for `tcpLength` bytes of TCP at `payloadOffset`. */
  frame(tcpLength: number): Uint8Array;
  readonly payloadOffset: number;
  /** Sends a frame from frame() to `dst`; false if the interface refused it now. */
  sendFrame(dst: number, frame: Uint8Array): boolean;
  /** The connection reached ESTABLISHED (a passive one goes to its listener's queue). */
  established(conn: TcpConnection): void;
  /** The connection entered TIME-WAIT (the layer bounds how many there are). */
  timeWait(conn: TcpConnection): void;
  /** The connection reached CLOSED: forget it. */
  remove(conn: TcpConnection): void;
}
