// `net ...`: the virtio network device and its IPv4 interface (drivers/net, net/ip).
//   net info [--json]                        MAC, link, address, counters
//   net udp-echo PORT [--count N] [--timeout S]
//                                            echo UDP datagrams on PORT until Ctrl-C,
//                                            N datagrams echoed, or S seconds passed
//   net dhcp                                 ask DHCP again, print the address
//   net tcp-echo PORT [--count N] [--timeout S]  echo TCP connections (net-serve.ts)
//   net http-serve PORT [--count N] [--timeout S] an HTTP status page (net-serve.ts)
//   net ping ADDR | net dns NAME | net http-get URL   clients (net-client.ts)

import type { NetInterface } from "../../../drivers/net/net-driver.js";
import { NetQueueFullError } from "../../../drivers/net/errors.js";
import { formatIpv4, prefixLength } from "../../../net/ip/address.js";
import type { IpStack } from "../../../net/ip/ip-stack.js";
import { tcpLayer } from "../../../net/tcp/tcp-layer.js";
import { UdpSocket, type UdpDatagramBuffer } from "../../../net/ip/udp-socket.js";
import { UsageError, type Command, type CommandIO } from "../command.js";
import { httpServe, serveArgs, tcpEcho } from "./net-serve.js";
import { httpGet, netDns, netPing } from "./net-client.js";

/** Anything with the NetDriver's `interfaces()` (the driver, or a test's fake). */
export interface NetSource {
  interfaces(): NetInterface<IpStack>[];
}

/** How long `net udp-echo` waits for DHCP before giving up. */
const ADDRESS_WAIT_MS = 15000;
/** Datagrams held while the transmit queue is full, then dropped. */
const ECHO_BACKLOG = 256;

const SUBCOMMANDS = ["info", "udp-echo", "dhcp", "tcp-echo", "http-serve", "ping", "dns", "http-get"];

export function netCommand(source: NetSource): Command {
  return {
    name: "net",
    usage: "net info [--json] | net udp-echo PORT [--count N] [--timeout S] | net dhcp | net tcp-echo PORT [--count N] [--timeout S] | net http-serve PORT [--count N] [--timeout S] | net ping ADDR [--count N] [--size B] | net dns NAME | net http-get URL [--print]",
    summary: "virtio-net: interface info, UDP and TCP echo servers, an HTTP status page (Ctrl-C stops them), DHCP",
    async run(args, io) {
      const [sub, ...rest] = args;
      const iface = source.interfaces()[0];
      if (sub === undefined || !SUBCOMMANDS.includes(sub)) throw new UsageError(`net ${SUBCOMMANDS.join(" | ")}`);
      if (iface === undefined) {
        io.print("no virtio-net device");
        return 1;
      }
      if (sub === "info") return info(iface, rest, io);
      if (sub === "dhcp") return dhcp(iface, rest, io);
      if (sub === "tcp-echo") return tcpEcho(iface, rest, io);
      if (sub === "http-serve") return httpServe(iface, rest, io);
      if (sub === "ping") return netPing(iface, rest, io);
      if (sub === "dns") return netDns(iface, rest, io);
      if (sub === "http-get") return httpGet(iface, rest, io);
      return udpEcho(iface, rest, io);
    },
  };
}

function info(iface: NetInterface<IpStack>, args: readonly string[], io: CommandIO): number {
  const json = args.length === 1 && args[0] === "--json";
  if (args.length > 0 && !json) throw new UsageError("net info [--json]");
  const net = iface.device;
  const ip = iface.stack;
  const record = {
    mac: net.macString,
    macSource: net.macFromDevice ? "device" : "random",
    link: net.linkUp ? "up" : "down",
    ready: net.ready,
    headerLength: net.headerLength,
    mergeable: net.mergeable,
    mtu: net.mtu,
    deviceMtu: net.deviceMtu,
    queuePairs: net.queuePairs,
    queuePairsSetUp: net.queuePairsSetUp,
    maxQueuePairs: net.maxQueuePairs,
    pairs: net.pairStats(),
    address: ip?.configured ? formatIpv4(ip.address) : null,
    netmask: ip?.configured ? formatIpv4(ip.netmask) : null,
    gateway: ip?.configured && ip.gateway !== 0 ? formatIpv4(ip.gateway) : null,
    mode: ip?.mode ?? "none",
    device: net.stats(),
    ip: ip === null ? null : { ...ip.stats },
    tcp: ip === null ? null : { active: tcpLayer(ip).active, ...tcpLayer(ip).stats },
  };
  if (json) {
    io.print(JSON.stringify(record));
    return 0;
  }
  io.print(`mac       ${record.mac} (${record.macSource})`);
  io.print(`link      ${record.link}${net.ready ? "" : " (device not ready)"}`);
  io.print(`virtio    header ${net.headerLength} bytes, ${net.mergeable ? "mergeable receive buffers (frames up to " + net.maxReceiveFrame + " bytes)" : "one receive buffer per frame"}, mtu ${net.mtu}${net.deviceMtu > 0 ? ` (device ${net.deviceMtu})` : ""}`);
  io.print(`queues    ${net.queuePairs} pair(s) in use, ${net.queuePairsSetUp} set up, device max ${net.maxQueuePairs}${net.maxQueuePairs > 1 || net.queuePairsSetUp > 1 ? ` (MQ; rx/tx frames per pair: ${record.pairs.map((p) => `${p.rxFrames}/${p.txFrames}`).join(" ")})` : ""}`);
  if (ip === null) io.print("ipv4      none");
  else if (record.address === null) io.print(`ipv4      no address (${record.mode}${ip.dhcpError ? `: ${ip.dhcpError.message}` : ""})`);
  else io.print(`ipv4      ${record.address}/${prefixLength(ip.netmask)} gateway ${record.gateway ?? "none"} (${record.mode})`);
  const d = record.device;
  io.print(`rx        ${d.rxFrames} frames, ${d.rxBytes} bytes, ${d.rxBadLength} bad length, ${d.rxUnread} unread`);
  io.print(`tx        ${d.txFrames} frames, ${d.txBytes} bytes, ${d.txFull} refused (queue full), ${d.txTimeouts} hung-queue resets, ${d.txAbandoned} abandoned at resets`);
  if (ip !== null) {
    const s = ip.stats;
    io.print(`arp       ${s.arpRequests} requests answered, ${s.arpSent} sent, ${s.arpFailures} unresolved, ${ip.arpEntries().length} cached`);
    const f = ip.reassembly.stats;
    io.print(`ip        ${s.ipReceived} received, ${s.ipBadHeader + s.ipBadChecksum} bad; fragments ${s.ipFragments} in (${f.reassembled} datagrams, ${f.timedOut + f.overlaps + f.tooLarge + f.evicted} dropped), ${s.ipFragmentsSent} out`);
    io.print(`icmp      ${s.icmpEchoes} echo replies`);
    io.print(`udp       ${s.udpReceived} received, ${s.udpSent} sent, ${s.udpBadChecksum} bad checksum, ${s.udpNoPort} to closed ports`);
    const tcp = tcpLayer(ip);
    const t = tcp.stats;
    io.print(`tcp       ${tcp.active} connections, ${t.segmentsReceived} segments in, ${t.segmentsSent} out, ${t.retransmittedSegments} resent, ${t.resetsSent} resets sent, ${t.synDropped} SYNs dropped`);
  }
  return 0;
}

async function dhcp(iface: NetInterface<IpStack>, args: readonly string[], io: CommandIO): Promise<number> {
  if (args.length > 0) throw new UsageError("net dhcp");
  if (iface.stack === null) {
    io.print("no IPv4 interface");
    return 1;
  }
  const lease = await iface.stack.renew();
  io.print(`${formatIpv4(lease.address)}/${prefixLength(lease.netmask)} gateway ${formatIpv4(lease.gateway)} server ${formatIpv4(lease.server)} lease ${lease.leaseSeconds} s`);
  return 0;
}

async function udpEcho(iface: NetInterface<IpStack>, args: readonly string[], io: CommandIO): Promise<number> {
  const { port, count, timeoutS } = serveArgs(args);
  const ip = iface.stack;
  if (ip === null) {
    io.print("no IPv4 interface");
    return 1;
  }
  const timers = ip.env.timers;
  if (!ip.configured) {
    io.print("waiting for an address (DHCP)...");
    await ip.whenConfigured(ADDRESS_WAIT_MS);
  }
  const stats = { echoed: 0, bytes: 0, dropped: 0, retried: 0 };
  const backlog: UdpDatagramBuffer[] = [];
  let retryTimer: number | null = null;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));

  const send = (d: UdpDatagramBuffer): boolean => {
    try {
      socket.write(d, d.address, d.port);
    } catch (error) {
      if (error instanceof NetQueueFullError) return false;
      stats.dropped++;
      return true;
    }
    stats.echoed++;
    stats.bytes += d.byteLength;
    if (stats.echoed >= count) finish();
    return true;
  };
  const drainBacklog = (): void => {
    retryTimer = null;
    while (backlog.length > 0 && send(backlog[0]!)) backlog.shift();
    if (backlog.length > 0) {
      stats.retried++;
      retryTimer = timers.set(drainBacklog, 1);
    }
  };
  const socket: UdpSocket = new UdpSocket({
    stack: ip,
    port,
    onReadable() {
      for (let d = socket.read(); d !== undefined; d = socket.read()) {
        if (backlog.length === 0 && send(d)) continue;
        if (backlog.length >= ECHO_BACKLOG) stats.dropped++;
        else backlog.push(d);
        if (retryTimer === null) retryTimer = timers.set(drainBacklog, 1);
      }
    },
  });
  io.print(`udp-echo: serving ${formatIpv4(ip.address)}:${port}; Ctrl-C stops`);
  const timer = timeoutS === Infinity ? null : timers.set(() => finish(), timeoutS * 1000);
  try {
    await Promise.race([done, io.untilInterrupted()]);
  } finally {
    socket.close();
    if (timer !== null) timers.clear(timer);
    if (retryTimer !== null) timers.clear(retryTimer);
  }
  stats.dropped += socket.dropped + backlog.length;
  io.print(`udp-echo: echoed ${stats.echoed} datagrams (${stats.bytes} bytes), ${stats.dropped} dropped, ${stats.retried} transmit retries`);
  return 0;
}
