// The UDP port table of one interface: which endpoint (a UdpSocket, the DNS resolver)
// receives the datagrams of a port, and ephemeral ports (49152-65535, RFC 6335) for
// sockets that ask for none.

import { PortInUseError } from "./errors.js";
import type { UdpEndpoint } from "./stack-types.js";

export class UdpPorts {
  readonly #ports = new Map<number, UdpEndpoint>();
  #nextEphemeral = 49152;

  /** Binds `port` (0: an ephemeral one); returns the port. `reserved` is taken by the
   * stack itself (the DHCP client's 68). */
  bind(port: number, endpoint: UdpEndpoint, reserved: number): number {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`port ${port} must be 0 to 65535`);
    if (port === 0) port = this.#ephemeral();
    if (this.#ports.has(port) || port === reserved) throw new PortInUseError(port);
    this.#ports.set(port, endpoint);
    return port;
  }

  unbind(port: number, endpoint: UdpEndpoint): void {
    if (this.#ports.get(port) === endpoint) this.#ports.delete(port);
  }

  get(port: number): UdpEndpoint | undefined {
    return this.#ports.get(port);
  }

  clear(): void {
    this.#ports.clear();
  }

  #ephemeral(): number {
    for (let i = 0; i < 16384; i++) {
      const port = this.#nextEphemeral;
      this.#nextEphemeral = port === 65535 ? 49152 : port + 1;
      if (!this.#ports.has(port)) return port;
    }
    throw new PortInUseError(0);
  }
}
