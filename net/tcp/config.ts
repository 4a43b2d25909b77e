// TCP settings and the bounds they put on memory. One TcpConfig per stack (tcp-layer.ts);
// every number here is a hard limit, never a hint.

import type { RtoOptions } from "./rto.js";

export interface TcpOptions extends RtoOptions {
  /** Send buffer per connection (bytes written, not yet acknowledged). Default 16384. */
  readonly sendBuffer?: number;
  /** Receive buffer per connection: the largest window offered. Default 16384. */
  readonly receiveBuffer?: number;
  /** Retransmissions of one segment before the connection is dropped. Default 10. */
  readonly maxRetries?: number;
  /** SYN (or SYN-ACK) retransmissions before giving up. Default 5. */
  readonly synRetries?: number;
  /** Delayed ACK (RFC 9293 §3.8.6.3: under 0.5 s); 0 acknowledges every segment. Default 100 ms. */
  readonly delayedAckMs?: number;
  /** Maximum segment lifetime: TIME-WAIT lasts 2 MSL. Default 30000 ms. */
  readonly mslMs?: number;
  /** How long a closed socket's connection may sit in FIN-WAIT-2. Default 60000 ms. */
  readonly finWait2Ms?: number;
  /** Keep-alive probes after this idle time; 0: off (RFC 1122 §4.2.3.6 default). Default 0. */
  readonly keepAliveIdleMs?: number;
  /** Between unanswered keep-alive probes. Default 75000 ms. */
  readonly keepAliveIntervalMs?: number;
  /** Unanswered keep-alive probes before the connection is dropped. Default 9. */
  readonly keepAliveProbes?: number;
  /** Connections (any state but TIME-WAIT) at once; a SYN beyond is dropped. Default 32. */
  readonly maxConnections?: number;
  /** TIME-WAIT connections kept (no buffers); the oldest goes first. Default 32. */
  readonly maxTimeWait?: number;
  /** Half-open (SYN-RECEIVED) connections per listener; more SYNs are dropped. Default 8. */
  readonly backlog?: number;
  /** Established connections per listener not yet taken by read(); more are reset. Default 8. */
  readonly acceptQueue?: number;
  /** Out-of-order byte ranges held per connection; a segment needing more is dropped. Default 8. */
  readonly maxOutOfOrder?: number;
}

export type TcpConfig = Required<TcpOptions>;

export function tcpConfig(o: TcpOptions = {}): TcpConfig {
  const c: TcpConfig = {
    sendBuffer: o.sendBuffer ?? 16384,
    receiveBuffer: o.receiveBuffer ?? 16384,
    minRtoMs: o.minRtoMs ?? 1000,
    maxRtoMs: o.maxRtoMs ?? 60000,
    initialRtoMs: o.initialRtoMs ?? 1000,
    maxRetries: o.maxRetries ?? 10,
    synRetries: o.synRetries ?? 5,
    delayedAckMs: o.delayedAckMs ?? 100,
    mslMs: o.mslMs ?? 30000,
    finWait2Ms: o.finWait2Ms ?? 60000,
    keepAliveIdleMs: o.keepAliveIdleMs ?? 0,
    keepAliveIntervalMs: o.keepAliveIntervalMs ?? 75000,
    keepAliveProbes: o.keepAliveProbes ?? 9,
    maxConnections: o.maxConnections ?? 32,
    maxTimeWait: o.maxTimeWait ?? 32,
    backlog: o.backlog ?? 8,
    acceptQueue: o.acceptQueue ?? 8,
    maxOutOfOrder: o.maxOutOfOrder ?? 8,
  };
  for (const [key, value] of Object.entries(c)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`TCP option ${key} ${value} must be a number >= 0`);
  }
  if (c.sendBuffer < 1 || c.receiveBuffer < 1) throw new RangeError("TCP buffers must hold at least one byte");
  if (c.receiveBuffer > 1 << 30) throw new RangeError("TCP receiveBuffer above 2^30 bytes (RFC 7323 window scale limit)");
  return c;
}
