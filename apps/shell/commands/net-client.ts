// The client side of `net` (see net.ts): `net ping ADDR`, `net dns NAME`, `net http-get URL`.

import type { NetInterface } from "../../../drivers/net/net-driver.js";
import { DnsResolver } from "../../../net/dns/resolver.js";
import { HttpClient } from "../../../net/http/client.js";
import type { IpStack } from "../../../net/ip/ip-stack.js";
import { ping } from "../../../net/ip/ping.js";
import { UsageError, type CommandIO } from "../command.js";
import { crc32, crc32Hex } from "../crc32.js";
import { configuredStack, number } from "./net-serve.js";

/** `net ping ADDR [--count N] [--size BYTES]`: echo requests one a second (the first at once). */
export async function netPing(iface: NetInterface<IpStack>, args: readonly string[], io: CommandIO): Promise<number> {
  const address = args[0];
  if (address === undefined) throw new UsageError("net ping ADDR [--count N] [--size BYTES]");
  let count = 4;
  let size = 56;
  for (let i = 1; i < args.length; i += 2) {
    if (args[i] === "--count") count = number(args[i + 1], "--count", 1, 1e6);
    else if (args[i] === "--size") size = number(args[i + 1], "--size", 0, 65499);
    else throw new UsageError(`unknown option ${args[i]}`);
  }
  const ip = await configuredStack(iface, io);
  if (ip === null) return 1;
  const target = await resolveHost(ip, address);
  let received = 0;
  for (let seq = 0; seq < count && !io.interrupted; seq++) {
    const started = ip.env.clock.now();
    try {
      const r = await ping(ip, target, { size, timeoutMs: 2000 });
      received++;
      io.print(`${r.bytes + 8} bytes from ${r.address}: seq=${r.seq} ttl=${r.ttl} time=${r.rttMs.toFixed(1)} ms`);
    } catch (error) {
      io.print(error instanceof Error ? error.message : String(error));
    }
    const wait = 1000 - (ip.env.clock.now() - started);
    if (seq + 1 < count && wait > 0) await Promise.race([new Promise((r) => ip.env.timers.set(r, wait)), io.untilInterrupted()]);
  }
  io.print(`ping ${target}: ${received} of ${count} answered`);
  return received > 0 ? 0 : 1;
}

/** A dotted quad as is; a name through DNS (the DHCP server's). */
function resolveHost(ip: IpStack, host: string): Promise<string> {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return Promise.resolve(host);
  const resolver = new DnsResolver({ stack: ip });
  return new Promise<string>((resolve, reject) => {
    try {
      resolver.resolve({ host, onResolved: (_h, address) => resolve(address), onError: reject });
    } catch (error) {
      reject(error);
    }
  }).finally(() => resolver.close());
}

/** `net dns NAME`. */
export async function netDns(iface: NetInterface<IpStack>, args: readonly string[], io: CommandIO): Promise<number> {
  if (args.length !== 1) throw new UsageError("net dns NAME");
  const ip = await configuredStack(iface, io);
  if (ip === null) return 1;
  try {
    io.print(`${args[0]}: ${await resolveHost(ip, args[0]!)}`);
    return 0;
  } catch (error) {
    io.print(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

/** `net http-get URL [--print]`: status, length and CRC-32 of the body (or the body). */
export async function httpGet(iface: NetInterface<IpStack>, args: readonly string[], io: CommandIO): Promise<number> {
  const url = args[0];
  const print = args[1] === "--print";
  if (url === undefined || args.length > (print ? 2 : 1)) throw new UsageError("net http-get URL [--print]");
  const m = /^http:\/\/([^/:]+)(?::(\d+))?(\/.*)?$/.exec(url);
  if (m === null) throw new UsageError(`${url}: only http://HOST[:PORT]/PATH`);
  const port = m[2] === undefined ? 80 : number(m[2], "port", 1, 65535);
  const ip = await configuredStack(iface, io);
  if (ip === null) return 1;
  let address: string;
  try {
    address = await resolveHost(ip, m[1]!);
  } catch (error) {
    io.print(`http-get ${url}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const client = new HttpClient({ stack: ip, host: address, port });
  const started = ip.env.clock.now();
  let status = 0;
  let bytes = 0;
  let crc = 0;
  let text = "";
  const done = new Promise<Error | null>((resolve) => {
    client.request({
      path: m[3] ?? "/",
      headers: { connection: "close", "user-agent": "virtio-xs" },
      onHeaders(s) {
        status = s;
      },
      onReadable() {
        for (let b = client.read(); b !== undefined; b = client.read()) {
          const piece = new Uint8Array(b);
          bytes += piece.length;
          crc = crc32(piece, crc);
          if (print && text.length < 65536) text += String.fromCharCode(...piece.subarray(0, 65536 - text.length));
        }
      },
      onDone: resolve,
    });
  });
  const error = await Promise.race([done, io.untilInterrupted().then(() => new Error("interrupted"))]);
  client.close();
  if (error !== null) {
    io.print(`http-get ${url}: ${error.message}`);
    return 1;
  }
  if (print) io.write(text);
  const ms = ip.env.clock.now() - started;
  io.print(`http-get: ${status}, ${bytes} bytes in ${ms.toFixed(0)} ms, crc32=${crc32Hex(crc)}`);
  return status >= 200 && status < 300 ? 0 : 1;
}
