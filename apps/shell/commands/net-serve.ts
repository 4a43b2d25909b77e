// The TCP services of `net` (see net.ts): `net tcp-echo PORT` and `net http-serve PORT`
// (a status page of the devices). Each serves until Ctrl-C, --count, or --timeout, then
// prints a summary.

import type { NetInterface } from "../../../drivers/net/net-driver.js";
import { formatIpv4, prefixLength } from "../../../net/ip/address.js";
import type { IpStack } from "../../../net/ip/ip-stack.js";
import { HttpServer, type HttpRequest, type HttpResponse } from "../../../net/http/server.js";
import { Listener } from "../../../net/tcp/listener.js";
import { tcpLayer } from "../../../net/tcp/tcp-layer.js";
import { TCP } from "../../../net/tcp/tcp-socket.js";
import { UsageError, type CommandIO } from "../command.js";
import { deviceRecord, deviceTable } from "./devices.js";

/** How long a service waits for DHCP before giving up. */
const ADDRESS_WAIT_MS = 15000;

export interface ServeLimits {
  readonly port: number;
  readonly count: number;
  readonly timeoutS: number;
}

export function number(text: string | undefined, what: string, min: number, max: number): number {
  const n = text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${what} must be a number from ${min} to ${max}`);
  return n;
}

/** PORT [--count N] [--timeout S]. */
export function serveArgs(args: readonly string[]): ServeLimits {
  const port = number(args[0], "PORT", 1, 65535);
  let count = Infinity;
  let timeoutS = Infinity;
  for (let i = 1; i < args.length; i += 2) {
    if (args[i] === "--count") count = number(args[i + 1], "--count", 1, 1e9);
    else if (args[i] === "--timeout") timeoutS = number(args[i + 1], "--timeout", 1, 86400);
    else throw new UsageError(`unknown option ${args[i]}`);
  }
  return { port, count, timeoutS };
}

/** The interface's stack once it has an address, or null (message printed). */
export async function configuredStack(iface: NetInterface<IpStack>, io: CommandIO): Promise<IpStack | null> {
  const ip = iface.stack;
  if (ip === null) {
    io.print("no IPv4 interface");
    return null;
  }
  if (!ip.configured) {
    io.print("waiting for an address (DHCP)...");
    await ip.whenConfigured(ADDRESS_WAIT_MS);
  }
  return ip;
}

/** Runs until Ctrl-C, `finish()` or the timeout; then `stop()`. */
async function serveUntil(ip: IpStack, io: CommandIO, limits: ServeLimits, start: (finish: () => void) => () => void): Promise<void> {
  const timers = ip.env.timers;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const stop = start(finish);
  const timer = limits.timeoutS === Infinity ? null : timers.set(() => finish(), limits.timeoutS * 1000);
  try {
    await Promise.race([done, io.untilInterrupted()]);
  } finally {
    if (timer !== null) timers.clear(timer);
    stop();
  }
}

// ---- net tcp-echo ----

export async function tcpEcho(iface: NetInterface<IpStack>, args: readonly string[], io: CommandIO): Promise<number> {
  const limits = serveArgs(args);
  const ip = await configuredStack(iface, io);
  if (ip === null) return 1;
  const stats = { connections: 0, bytes: 0, errors: 0 };
  const open = new Set<TCP>();
  let listener: Listener | null = null;
  io.print(`tcp-echo: serving ${formatIpv4(ip.address)}:${limits.port}; Ctrl-C stops`);
  await serveUntil(ip, io, limits, (finish) => {
    listener = new Listener({
      stack: ip,
      port: limits.port,
      onReadable() {
        for (let s = listener!.read(); s !== undefined; s = listener!.read()) echo(s);
      },
    });
    const echo = (socket: TCP): void => {
      stats.connections++;
      open.add(socket);
      let pending: Uint8Array | null = null; // read but not yet written: at most one piece
      const pump = (): void => {
        for (;;) {
          if (pending === null) {
            const room = socket.writable;
            if (room === 0) return;
            const piece = socket.read(room);
            if (piece === undefined) return;
            pending = new Uint8Array(piece);
          }
          const n = Math.min(socket.writable, pending.length);
          if (n === 0) return;
          socket.write(pending.subarray(0, n));
          stats.bytes += n;
          pending = n === pending.length ? null : pending.subarray(n);
        }
      };
      socket.onReadable = pump;
      socket.onWritable = pump;
      socket.onError = (e) => {
        if (e.name !== "PeerClosedError") stats.errors++;
        socket.close();
        open.delete(socket);
        if (stats.connections >= limits.count && open.size === 0) finish();
      };
      pump();
    };
    return () => {
      listener?.close();
      for (const s of open) s.close();
    };
  });
  io.print(`tcp-echo: ${stats.connections} connections, ${stats.bytes} bytes echoed, ${stats.errors} errors`);
  return 0;
}

// ---- net http-serve ----

/** The status page: the devices, the interface, TCP and memory. */
export function statusPage(iface: NetInterface<IpStack>, io: CommandIO): string {
  const lines: string[] = [];
  const p = io.platform;
  lines.push(`virtio-xs on ${p.board.model} (${p.name}), up ${(p.clock.now() / 1000).toFixed(1)} s`, "");
  const infos = io.bus === null ? [] : [...io.bus.devices()].sort((a, b) => a.slot - b.slot);
  lines.push("devices:", ...(infos.length === 0 ? ["  none"] : deviceTable(infos).map((l) => `  ${l}`)), "");
  const net = iface.device;
  const ip = iface.stack;
  lines.push(`net: ${net.macString} link ${net.linkUp ? "up" : "down"}`);
  if (ip !== null && ip.configured) lines.push(`ipv4: ${formatIpv4(ip.address)}/${prefixLength(ip.netmask)} gateway ${ip.gateway === 0 ? "none" : formatIpv4(ip.gateway)} (${ip.mode})`);
  if (ip !== null) {
    const t = tcpLayer(ip).stats;
    lines.push(`tcp: ${tcpLayer(ip).active} connections; ${t.segmentsReceived} segments in, ${t.segmentsSent} out, ${t.retransmittedSegments} resent, ${t.synDropped} SYNs dropped`);
  }
  const dma = p.dma.stats();
  lines.push(`dma: ${dma.used} of ${dma.total} bytes in use`);
  try {
    const e = p.engineStats();
    lines.push(`engine: ${Object.entries(e).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  } catch {
    // no engine statistics on this platform
  }
  return lines.join("\n") + "\n";
}

export async function httpServe(iface: NetInterface<IpStack>, args: readonly string[], io: CommandIO): Promise<number> {
  const limits = serveArgs(args);
  const ip = await configuredStack(iface, io);
  if (ip === null) return 1;
  let server: HttpServer | null = null;
  io.print(`http-serve: serving http://${formatIpv4(ip.address)}:${limits.port}/; Ctrl-C stops`);
  await serveUntil(ip, io, limits, (finish) => {
    const handler = (req: HttpRequest): HttpResponse => {
      if (server !== null && server.stats.requests >= limits.count) ip.env.timers.set(() => finish(), 0);
      if (req.method !== "GET" && req.method !== "HEAD") return { status: 405, headers: { allow: "GET, HEAD" }, body: `${req.method}: only GET and HEAD\n` };
      const path = req.target.split("?")[0];
      if (path === "/" || path === "/status") return { headers: { "content-type": "text/plain; charset=utf-8" }, body: statusPage(iface, io) };
      if (path === "/devices.json") {
        const infos = io.bus === null ? [] : [...io.bus.devices()].sort((a, b) => a.slot - b.slot);
        return { headers: { "content-type": "application/json" }, body: JSON.stringify(infos.map(deviceRecord)) + "\n" };
      }
      if (path === "/chunked") return { headers: { "content-type": "text/plain" }, body: statusPage(iface, io), chunked: true };
      return { status: 404, headers: { "content-type": "text/plain" }, body: `${path}: not found\n` };
    };
    server = new HttpServer({ stack: ip, port: limits.port, handler });
    return () => server?.close();
  });
  const s = server === null ? null : (server as HttpServer).stats;
  io.print(`http-serve: ${s?.requests ?? 0} requests on ${s?.connections ?? 0} connections, ${s?.rejected ?? 0} rejected`);
  return 0;
}
