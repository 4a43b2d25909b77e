// Errors of the TCP layer. Each carries the values that caused it.

import { NetError } from "../errors.js";

/** The peer answered our SYN with RST: nobody listens on that port. */
export class ConnectionRefusedError extends NetError {
  constructor(readonly address: string, readonly port: number) {
    super(`TCP ${address}:${port}: connection refused`);
  }
}

/** The peer reset the connection (RST in the window, RFC 9293 §3.10.7.4). */
export class ConnectionResetError extends NetError {
  constructor(readonly address: string, readonly port: number) {
    super(`TCP ${address}:${port}: connection reset by peer`);
  }
}

/** Retransmissions or keep-alive probes went unanswered: the connection is dropped. */
export class ConnectionTimeoutError extends NetError {
  constructor(readonly address: string, readonly port: number, readonly what: string, readonly attempts: number) {
    super(`TCP ${address}:${port}: ${what} unanswered after ${attempts} attempts`);
  }
}

/** The peer closed its side (FIN) and every byte it sent has been read. */
export class PeerClosedError extends NetError {
  constructor(readonly address: string, readonly port: number) {
    super(`TCP ${address}:${port}: closed by peer`);
  }
}

/** A bound of the stack was reached (connections, ports). */
export class TcpLimitError extends NetError {
  constructor(readonly what: string, readonly limit: number) {
    super(`TCP: ${what} (limit ${limit})`);
  }
}
