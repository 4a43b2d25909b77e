// Errors of the IPv4 layer. Each carries the values that caused it.

import { NetError } from "../errors.js";

/** No route: the destination is off the subnet and there is no gateway, or no address yet. */
export class NoRouteError extends NetError {
  constructor(readonly destination: string, readonly reason: string) {
    super(`no route to ${destination}: ${reason}`);
  }
}

/** ARP got no answer for the next hop: the packets waiting for it were dropped. */
export class ArpTimeoutError extends NetError {
  constructor(readonly address: string, readonly attempts: number, readonly dropped: number) {
    super(`ARP: no answer from ${address} after ${attempts} requests; ${dropped} packet(s) dropped`);
  }
}

/** DHCP did not complete (no offer, no ack) in the attempts allowed. */
export class DhcpTimeoutError extends NetError {
  constructor(readonly state: string, readonly attempts: number) {
    super(`DHCP: no answer while ${state} after ${attempts} attempts`);
  }
}

/** A UDP port is already bound by another socket. */
export class PortInUseError extends NetError {
  constructor(readonly port: number) {
    super(`UDP port ${port} is already in use`);
  }
}

/** The socket or the stack is closed. */
export class SocketClosedError extends NetError {
  constructor(readonly what: string) {
    super(`${what} is closed`);
  }
}
