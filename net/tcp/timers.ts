// A connection's deadlines (RFC 9293 §3.8): TIME-WAIT and FIN-WAIT-2 ends, a retry after a
// full NIC queue, the delayed ACK, retransmission (RFC 6298, with the zero-window case
// turned into probing), the persist timer and keep-alive. One platform timer per
// connection serves them all (TcpConnection.arm()).

import { formatIpv4 } from "../ip/address.js";
import type { TcpConnection } from "./connection.js";
import { ConnectionTimeoutError } from "./errors.js";

/** The connection's one timer went off: run every deadline that is due, then set it again. */
export function fireTimers(c: TcpConnection): void {
  if (c.state === "CLOSED") return;
  const now = c.host.now();
  if (c.closeAt <= now) {
    c.closeAt = Infinity;
    c.destroy(null); // TIME-WAIT over, or an orphan stuck in FIN-WAIT-2
    return;
  }
  if (c.peerClosedAt <= now) {
    c.signalPeerFin(); // the last byte before the FIN was read
    if (c.isClosed()) return;
  }
  if (c.txRetryAt <= now) {
    c.txRetryAt = Infinity;
    c.out.output();
  }
  if (c.delAckAt <= now) {
    c.delAckAt = Infinity;
    c.out.sendAck();
  }
  if (c.rtoAt <= now) retransmitTimeout(c);
  if (c.isClosed()) return;
  if (c.persistAt <= now) c.out.probeWindow();
  if (c.keepAliveAt <= now) keepAlive(c, now);
  c.arm();
}

/** RFC 6298 §5.4-5.7: the retransmission timer expired (or a SYN went unanswered). */
function retransmitTimeout(c: TcpConnection): void {
  c.rtoAt = Infinity;
  const syn = c.state === "SYN-SENT" || c.state === "SYN-RECEIVED";
  const limit = syn ? c.host.config.synRetries : c.host.config.maxRetries;
  if (c.retries >= limit) {
    c.host.stats.timeouts++;
    if (c.state === "SYN-RECEIVED" && c.listenPort !== 0) {
      c.destroy(null);
      return;
    }
    c.out.sendRst(c.sndMax);
    c.destroy(new ConnectionTimeoutError(formatIpv4(c.remoteAddress), c.remotePort, syn ? "SYN" : "data", c.retries + 1));
    return;
  }
  if (!syn && c.sndWnd === 0) {
    // the peer's window is closed: what is in flight lies beyond it; probe instead
    // (§3.8.6.1), which does not count against the retries while the peer answers
    c.sndNxt = c.sndUna;
    c.finSent = false;
    c.out.output();
    return;
  }
  c.retries++;
  c.host.stats.retransmitTimeouts++;
  c.rto.backOff();
  c.out.timeout(syn);
}

/** RFC 1122 §4.2.3.6: an idle connection is probed; unanswered probes drop it. */
function keepAlive(c: TcpConnection, now: number): void {
  const config = c.host.config;
  if (config.keepAliveIdleMs === 0 || (c.state !== "ESTABLISHED" && c.state !== "CLOSE-WAIT")) {
    c.keepAliveAt = Infinity;
    return;
  }
  const idle = now - c.lastReceived;
  if (idle < config.keepAliveIdleMs && c.keepAliveProbes === 0) {
    c.keepAliveAt = c.lastReceived + config.keepAliveIdleMs;
    return;
  }
  if (c.keepAliveProbes >= config.keepAliveProbes) {
    c.host.stats.timeouts++;
    c.out.sendRst(c.sndMax);
    c.destroy(new ConnectionTimeoutError(formatIpv4(c.remoteAddress), c.remotePort, "keep-alive", c.keepAliveProbes));
    return;
  }
  c.keepAliveProbes++;
  c.host.stats.keepAlives++;
  c.out.sendProbe(); // RFC 1122 §4.2.3.6: SEG.SEQ = SND.NXT - 1, no data
  c.keepAliveAt = now + config.keepAliveIntervalMs;
}
