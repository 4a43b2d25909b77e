// A host UDP client for the app suites: a free port for a hostfwd rule, and datagrams sent
// one at a time to 127.0.0.1 and matched back.
import { createSocket } from "node:dgram";

export { freeUdpPort } from "./ports.mjs";

/** Sends `count` datagrams to 127.0.0.1:port one at a time (each resent every 500 ms
 * until it is back) and resolves the ones that came back, in order. */
export function udpRoundTrips(port, count, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const sock = createSocket("udp4");
    const back = [];
    let i = 0;
    const payload = (n) => Buffer.from(`datagram ${n} ${"x".repeat(n * 7)}`);
    const send = () => sock.send(payload(i), port, "127.0.0.1");
    const resend = setInterval(send, 500);
    const finish = (error) => {
      clearInterval(resend);
      clearTimeout(limit);
      sock.close();
      if (error) reject(error);
      else resolve(back);
    };
    const limit = setTimeout(() => finish(new Error(`UDP echo: ${back.length} of ${count} back in ${timeoutMs} ms`)), timeoutMs);
    sock.on("message", (msg) => {
      if (!msg.equals(payload(i))) return; // a late duplicate of an earlier one
      back.push(msg.toString());
      if (++i === count) finish();
      else send();
    });
    sock.bind(0, "127.0.0.1", send);
  });
}
