// Host-port forwards for user networking: each {protocol, guest} gets a free port on the
// host's loopback (bound, read, released just before QEMU binds it), so boards running in
// parallel never share one.
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

const HOST = "127.0.0.1";

/** A free port on 127.0.0.1 for "udp" or "tcp". */
export function freePort(protocol = "tcp") {
  return new Promise((resolve, reject) => {
    if (protocol === "udp") {
      const s = createSocket("udp4");
      s.once("error", reject);
      s.bind(0, HOST, () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    } else {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, HOST, () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    }
  });
}

/**
 * Turns forward specs ({protocol: "udp"|"tcp", guest: PORT, host?: PORT} or "udp:7") into
 * [{protocol, hostAddress, hostPort, guestPort}] with a free host port where none is given.
 */
export async function allocateForwards(specs) {
  if (!Array.isArray(specs)) throw new TypeError("Board: net.forward must be an array");
  const out = [];
  for (const [i, raw] of specs.entries()) {
    const spec = typeof raw === "string" ? parseShort(raw, i) : raw;
    const protocol = spec?.protocol ?? "tcp";
    const guestPort = spec?.guest;
    if (protocol !== "udp" && protocol !== "tcp") throw new TypeError(`Board: net.forward[${i}].protocol must be "udp" or "tcp"`);
    if (!Number.isInteger(guestPort) || guestPort < 1 || guestPort > 65535) throw new TypeError(`Board: net.forward[${i}].guest must be a port number`);
    const hostPort = spec.host ?? (await freePort(protocol));
    out.push({ protocol, hostAddress: HOST, hostPort, guestPort });
  }
  return out;
}

function parseShort(s, i) {
  const m = /^(udp|tcp):(\d+)$/.exec(s);
  if (!m) throw new TypeError(`Board: net.forward[${i}] "${s}" is not "udp:PORT" or "tcp:PORT"`);
  return { protocol: m[1], guest: Number(m[2]) };
}
