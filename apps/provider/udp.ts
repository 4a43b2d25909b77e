// `embedded:io/socket/udp` on this board: ECMA-419's UDP socket (net/ip/udp-socket.ts) on
// the IPv4 interface of the first virtio-net device (device.network.ethernet), with no
// host-specific option: the provider supplies the stack.
//   new device.io.UDP({ port: 7, onReadable(count) { ... } })

import { UdpSocket, type UdpSocketOptions } from "../../net/ip/udp-socket.js";
import type { IpStack } from "../../net/ip/ip-stack.js";
import { provider } from "./context.js";

export type UdpOptions = Omit<UdpSocketOptions, "stack">;

/** The IPv4 stack of network interface `index` (0: the first virtio-net device). */
export function ipStack(index = 0): IpStack {
  const interfaces = provider("UDP").drivers.net.interfaces();
  const stack = interfaces[index]?.stack ?? null;
  if (stack === null) throw new RangeError(interfaces.length === 0 ? "no network interface: this board has no virtio-net device" : `no network interface ${index}`);
  return stack;
}

export default class UDP extends UdpSocket {
  constructor(options: UdpOptions) {
    if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
    super({ ...options, stack: ipStack() });
  }
}
