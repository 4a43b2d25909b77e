// Free ports on 127.0.0.1 for the QEMU suites (hostfwd rules, -netdev socket and dgram
// ends, relays): bound on port 0, read, released.
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1. */
export function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A free UDP port on 127.0.0.1. */
export function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", reject);
    s.bind(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** `n` free UDP ports on 127.0.0.1 (asked for at once). */
export function freeUdpPorts(n) {
  return Promise.all(Array.from({ length: n }, freeUdpPort));
}
