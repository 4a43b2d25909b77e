// A small IPv4 interface over one Ethernet link (a Nic, ../nic.ts): ARP (answers for our
// address, resolves next hops with a cache and retries), IPv4 (header checks, no
// fragments), ICMP echo reply, UDP (to bound ports) and DHCP or a static address.
// Everything runs from the link's callbacks and the platform's timers: no busy wait.

import type { Clock, TimerId, Timers } from "../../platform/platform.js";
import { alignedBytes } from "../bytes.js";
import type { Nic, NicClient } from "../nic.js";
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, ArpCache, parseArp, writeArp } from "./arp.js";
import { ANY, BROADCAST, formatIpv4, toIpv4 } from "./address.js";
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DhcpClient, type DhcpLease, type DhcpOptions, type DhcpState } from "./dhcp.js";
import { ArpTimeoutError, NoRouteError, PortInUseError, SocketClosedError } from "./errors.js";
import { BROADCAST_MAC, ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, buildEthernet, isBroadcastMac, parseEthernet, sameMac, writeEthernetHeader } from "./ethernet.js";
import { echoReply, parseEchoReply, portUnreachable } from "./icmp.js";
import { DEFAULT_TTL, FLAG_MF, IPV4_HLEN, PROTO_ICMP, PROTO_UDP, parseIpv4Packet, writeIpv4Header } from "./ipv4.js";
import { Reassembler, type ReassemblyOptions } from "./fragments.js";
import { UDP_HLEN, parseUdp, writeUdp } from "./udp.js";


/** What the stack needs of the platform. */
export interface StackEnv {
  readonly timers: Timers;
  readonly clock: Clock;
}

export interface IpStackOptions {
  /** Static address ("10.0.2.15"); without it the stack asks DHCP. */
  readonly address?: string;
  /** With a static address. Default "255.255.255.0". */
  readonly netmask?: string;
  /** With a static address: the default route, if any. */
  readonly gateway?: string;
  readonly dhcp?: DhcpOptions;
  /** Time between ARP requests for one next hop. Default 250 ms. */
  readonly arpRetryMs?: number;
  /** ARP requests before the waiting packets are dropped. Default 4. */
  readonly arpAttempts?: number;
  /** Packets held per next hop while ARP resolves. Default 16. */
  readonly arpQueue?: number;
  /** Next hops resolved at once; a packet to one more is refused (NoRouteError). Default 16.
   * Bounds the memory and the ARP broadcasts that, say, echo requests from many spoofed
   * sources could make the stack spend. */
  readonly arpPendingHops?: number;
  /** Bounds of fragment reassembly (fragments.ts). */
  readonly reassembly?: ReassemblyOptions;
  /** TTL of the packets we send (1-255). Default 64. */
  readonly ttl?: number;
}

/** A transport protocol above IPv4 (TCP, net/tcp), registered with setProtocol(). */
export interface IpProtocolHandler {
  /** A packet to our unicast address; `payload` is a view into a frame nobody else holds. */
  receive(payload: Uint8Array, src: number, dst: number): void;
  /** The stack closed: drop every connection and timer. */
  close(): void;
}

/** Where the transport header starts in a frame from packetFrame() (4-byte aligned). */
export const PACKET_PAYLOAD_OFFSET = ETH_HLEN + IPV4_HLEN;

/** Receives the UDP datagrams of one port. */
export interface UdpEndpoint {
  /** `payload` is a view into the received frame, which the stack never touches again. */
  deliver(payload: Uint8Array, srcAddress: number, srcPort: number): void;
}

export interface IpStats {
  rxFrames: number;
  rxNotForUs: number;
  rxOtherType: number;
  arpRequests: number;
  arpReplies: number;
  arpSent: number;
  arpFailures: number;
  ipReceived: number;
  ipBadHeader: number;
  ipBadChecksum: number;
  /** Fragments received (reassembly.stats says what became of them). */
  ipFragments: number;
  ipFragmentsSent: number;
  ipNotForUs: number;
  /** Packets from a source no host can have (broadcast, multicast, 0/8, loopback, ours). */
  ipBadSource: number;
  ipOtherProtocol: number;
  icmpEchoes: number;
  icmpEchoRepliesReceived: number;
  icmpUnreachableSent: number;
  udpReceived: number;
  udpBadHeader: number;
  udpBadChecksum: number;
  udpNoPort: number;
  udpSent: number;
  txErrors: number;
  /** Gratuitous ARPs sent (announce()). */
  announcements: number;
  /** DHCP exchanges started to renew a lease (at T1, RFC 2131 §4.4.5). */
  dhcpRenewals: number;
}

interface PendingHop {
  /** Whole frames, Ethernet header still to write. */
  readonly packets: Uint8Array[];
  attempts: number;
  timer: TimerId | null;
}

const MAX_UDP_PAYLOAD = 1500 - IPV4_HLEN - UDP_HLEN; // 1472: no fragmentation

export class IpStack implements NicClient {
  readonly #link: Nic;
  readonly #env: StackEnv;
  readonly #options: IpStackOptions;
  readonly #arp = new ArpCache();
  readonly #pending = new Map<number, PendingHop>();
  readonly #ports = new Map<number, UdpEndpoint>();
  readonly #protocols = new Map<number, IpProtocolHandler>();
  readonly reassembly: Reassembler;
  readonly #ttl: number;
  readonly #dhcp: DhcpClient | null;
  #address = ANY;
  #netmask = 0xffff_ff00;
  #gateway = ANY;
  #ipId = 1;
  #nextEphemeral = 49152;
  #closed = false;
  #dhcpError: Error | null = null;
  #leaseTimer: TimerId | null = null;
  /** When the DHCP lease ends (clock ms); Infinity for a static address or an infinite lease. */
  #leaseEnds = Infinity;
  #waiters: { resolve: () => void; reject: (e: Error) => void; timer: TimerId }[] = [];
  readonly stats: IpStats = {
    rxFrames: 0, rxNotForUs: 0, rxOtherType: 0, arpRequests: 0, arpReplies: 0, arpSent: 0, arpFailures: 0,
    ipReceived: 0, ipBadHeader: 0, ipBadChecksum: 0, ipFragments: 0, ipFragmentsSent: 0, ipNotForUs: 0, ipBadSource: 0, ipOtherProtocol: 0,
    icmpEchoes: 0, icmpEchoRepliesReceived: 0, icmpUnreachableSent: 0, udpReceived: 0, udpBadHeader: 0, udpBadChecksum: 0, udpNoPort: 0, udpSent: 0, txErrors: 0, announcements: 0, dhcpRenewals: 0,
  };
  /** Echo replies to us (net/ip/ping.ts sets it). */
  onEchoReply: ((src: number, id: number, seq: number, data: Uint8Array, ttl: number) => void) | null = null;
  /** Port-unreachable messages sent this second (RFC 1812 §4.3.2.8 rate limit). */
  #unreachableCount = 0;
  #unreachableSecond = 0;
  /** Called with errors nobody else hears of (ARP give-ups, DHCP failure). */
  onError: ((error: Error) => void) | null = null;

  constructor(link: Nic, options: IpStackOptions, env: StackEnv) {
    this.#link = link;
    this.#env = env;
    this.#options = options;
    this.reassembly = new Reassembler(options.reassembly);
    this.#ttl = options.ttl ?? DEFAULT_TTL;
    if (!Number.isInteger(this.#ttl) || this.#ttl < 1 || this.#ttl > 255) throw new RangeError(`ttl ${this.#ttl} must be 1 to 255`);
    if (options.address !== undefined) {
      this.#address = toIpv4(options.address);
      this.#netmask = toIpv4(options.netmask ?? "255.255.255.0", "netmask");
      this.#gateway = options.gateway === undefined ? ANY : toIpv4(options.gateway, "gateway");
      this.#dhcp = null;
    } else {
      const host = {
        get mac(): Uint8Array {
          return link.mac; // read at each message: the NetDevice learns its MAC at probe
        },
        timers: env.timers,
        clock: env.clock,
        broadcast: (payload: Uint8Array) => this.#broadcastDhcp(payload),
      };
      this.#dhcp = new DhcpClient(host, options.dhcp);
    }
    link.onReadable = (frame) => this.receive(frame);
    if ("onAnnounce" in link) link.onAnnounce = () => this.announce();
    link.onLinkChange = (up) => {
      if (up && this.#dhcp !== null && this.#address === ANY && this.#dhcp.state !== "selecting" && this.#dhcp.state !== "requesting") this.#runDhcp();
    };
  }

  /** Our address (0 while DHCP runs). */
  get address(): number {
    return this.#address;
  }

  get netmask(): number {
    return this.#netmask;
  }

  get gateway(): number {
    return this.#gateway;
  }

  get configured(): boolean {
    return this.#address !== ANY;
  }

  /** "static", or the DHCP client's state. */
  get mode(): "static" | DhcpState {
    return this.#dhcp === null ? "static" : this.#dhcp.state;
  }

  get dhcpLease(): DhcpLease | null {
    return this.#dhcp?.lease ?? null;
  }

  get dhcpError(): Error | null {
    return this.#dhcpError;
  }

  get link(): Nic {
    return this.#link;
  }

  get env(): StackEnv {
    return this.#env;
  }

  arpEntries(): [string, Uint8Array][] {
    return this.#arp.entries().map(([ip, mac]) => [formatIpv4(ip), mac]);
  }

  /** Starts DHCP (when no static address was given). */
  start(): void {
    if (this.#dhcp !== null && this.#address === ANY) this.#runDhcp();
  }

  /** Asks DHCP again (or switches to it from a static address). */
  renew(): Promise<DhcpLease> {
    if (this.#dhcp === null) return Promise.reject(new Error("static address: no DHCP client"));
    return this.#runDhcp();
  }

  /** Resolves once the interface has an address; rejects after `timeoutMs`. */
  whenConfigured(timeoutMs: number): Promise<void> {
    if (this.#address !== ANY) return Promise.resolve();
    if (this.#closed) return Promise.reject(new SocketClosedError("IP stack"));
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: this.#env.timers.set(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(this.#dhcpError ?? new NoRouteError("the network", `no address after ${timeoutMs} ms (DHCP ${this.mode})`));
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Sends an ICMP message to `dst` (throws when it cannot). */
  sendIcmp(dst: number, message: Uint8Array): void {
    const frame = this.packetFrame(message.length);
    frame.set(message, PACKET_PAYLOAD_OFFSET);
    this.sendPacket(dst, PROTO_ICMP, frame);
  }

  /** Registers the handler of an IP protocol number (one per protocol). */
  setProtocol(protocol: number, handler: IpProtocolHandler): void {
    if (this.#closed) throw new SocketClosedError("IP stack");
    if (this.#protocols.has(protocol)) throw new RangeError(`IP protocol ${protocol} already has a handler`);
    this.#protocols.set(protocol, handler);
  }

  getProtocol(protocol: number): IpProtocolHandler | undefined {
    return this.#protocols.get(protocol);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Transport bytes one IPv4 packet carries without fragments (MTU - 20). */
  get maxPayload(): number {
    return this.#link.mtu - IPV4_HLEN;
  }

  /** A frame with room for the Ethernet and IPv4 headers ahead of `length` transport bytes,
   * which start at PACKET_PAYLOAD_OFFSET on a 4-byte boundary of the buffer. */
  packetFrame(length: number): Uint8Array {
    return alignedBytes(PACKET_PAYLOAD_OFFSET + length, 2);
  }

  /** Sends a frame from packetFrame() (transport bytes filled in) to `dst` as one IPv4
   * packet of `protocol`; throws when it cannot (no address, no route, queue full). */
  sendPacket(dst: number, protocol: number, frame: Uint8Array): void {
    if (this.#closed) throw new SocketClosedError("IP stack");
    if (this.#address === ANY) throw new NoRouteError(formatIpv4(dst), "no address yet");
    writeIpv4Header(frame.subarray(ETH_HLEN), this.#address, dst, protocol, frame.length - PACKET_PAYLOAD_OFFSET, this.#ipId++, undefined, this.#ttl);
    this.#sendIp(dst, frame);
  }

  /** Binds a UDP port (0: an ephemeral one); returns the port. */
  bindUdp(port: number, endpoint: UdpEndpoint): number {
    if (this.#closed) throw new SocketClosedError("IP stack");
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`port ${port} must be 0 to 65535`);
    if (port === 0) port = this.#ephemeralPort();
    if (this.#ports.has(port) || (port === DHCP_CLIENT_PORT && this.#dhcp !== null)) throw new PortInUseError(port);
    this.#ports.set(port, endpoint);
    return port;
  }

  unbindUdp(port: number, endpoint: UdpEndpoint): void {
    if (this.#ports.get(port) === endpoint) this.#ports.delete(port);
  }

  /** Sends a UDP datagram; throws on a bad size, no route, or a full transmit queue. */
  sendUdp(srcPort: number, dst: number, dstPort: number, payload: Uint8Array): void {
    if (this.#closed) throw new SocketClosedError("IP stack");
    if (payload.length > MAX_UDP_PAYLOAD) throw new RangeError(`UDP payload of ${payload.length} bytes: at most ${MAX_UDP_PAYLOAD} (no fragmentation)`);
    if (!Number.isInteger(dstPort) || dstPort < 1 || dstPort > 0xffff) throw new RangeError(`port ${dstPort} must be 1 to 65535`);
    if (this.#address === ANY) throw new NoRouteError(formatIpv4(dst), "no address yet");
    const frame = this.#udpFrame(this.#address, dst, srcPort, dstPort, payload);
    this.#sendIp(dst, frame);
    this.stats.udpSent++;
  }

  /** A gratuitous ARP (RFC 5227 §3: an ARP request for our own address, broadcast):
   * switches and peers learn where we are now. Nothing without an address. */
  announce(): void {
    if (this.#closed || this.#address === ANY) return;
    this.stats.announcements++;
    this.#sendArp(ARP_REQUEST, BROADCAST_MAC, this.#address, new Uint8Array(6));
  }

  /** Stops DHCP, timers and sockets' delivery. Safe twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#dhcp?.stop();
    if (this.#leaseTimer !== null) this.#env.timers.clear(this.#leaseTimer);
    this.#leaseTimer = null;
    for (const hop of this.#pending.values()) if (hop.timer !== null) this.#env.timers.clear(hop.timer);
    this.#pending.clear();
    this.#ports.clear();
    for (const handler of this.#protocols.values()) handler.close();
    this.#protocols.clear();
    for (const w of this.#waiters) {
      this.#env.timers.clear(w.timer);
      w.reject(new SocketClosedError("IP stack"));
    }
    this.#waiters = [];
    if (this.#link.onReadable !== null) this.#link.onReadable = null;
    this.#link.onLinkChange = null;
  }

  // ---- receive ----

  /** One Ethernet frame from the link. */
  receive(frame: Uint8Array): void {
    if (this.#closed) return;
    const eth = parseEthernet(frame);
    if (eth === null) return;
    this.stats.rxFrames++;
    if (!sameMac(eth.dst, this.#link.mac) && !isBroadcastMac(eth.dst)) {
      this.stats.rxNotForUs++;
      return;
    }
    if (eth.type === ETHERTYPE_ARP) this.#receiveArp(eth.payload);
    else if (eth.type === ETHERTYPE_IPV4) this.#receiveIp(eth.payload);
    else this.stats.rxOtherType++;
  }

  #receiveArp(payload: Uint8Array): void {
    const p = parseArp(payload);
    if (p === null) return;
    const now = this.#env.clock.now();
    // RFC 826: update an entry we have; add the sender when the packet is for us.
    const forUs = this.#address !== ANY && p.targetIp === this.#address;
    if (this.#arp.has(p.senderIp) || forUs) {
      // Only a host's address with a unicast MAC is cached (never ours, a broadcast or a multicast one).
      if (this.#isPeerAddress(p.senderIp) && !isBroadcastMac(p.senderMac) && (p.senderMac[0]! & 1) === 0) {
        this.#arp.set(p.senderIp, p.senderMac, now);
        this.#flushPending(p.senderIp, p.senderMac);
      }
    }
    // A request "from" a broadcast or multicast MAC gets no reply: it would go to everyone.
    if (p.op === ARP_REQUEST && forUs && (p.senderMac[0]! & 1) === 0) {
      this.stats.arpRequests++;
      this.#sendArp(ARP_REPLY, p.senderMac, p.senderIp, p.senderMac);
    } else if (p.op === ARP_REPLY && forUs) {
      this.stats.arpReplies++;
    }
  }

  #receiveIp(bytes: Uint8Array): void {
    let packet = parseIpv4Packet(bytes);
    if (typeof packet === "string") {
      this.stats[packet]++;
      return;
    }
    const configured = this.#address !== ANY;
    const subnetBroadcast = (this.#address & this.#netmask) | (~this.#netmask >>> 0);
    const forUs =
      packet.dst === BROADCAST ||
      (configured && (packet.dst === this.#address || (packet.dst >>> 0) === subnetBroadcast >>> 0)) ||
      (!configured && packet.protocol === PROTO_UDP); // DHCP replies before we have an address
    if (!forUs) {
      this.stats.ipNotForUs++;
      return;
    }
    // RFC 1122 §3.2.1.3: a source address no host can have is discarded (a reply to it
    // would go to a broadcast, a multicast group, or back to us).
    if (!this.#isPeerAddress(packet.src)) {
      this.stats.ipBadSource++;
      return;
    }
    if (packet.moreFragments || packet.fragmentOffset > 0) {
      this.stats.ipFragments++;
      const whole = this.reassembly.add(packet.src, packet.dst, packet.id, packet.protocol, packet.fragmentOffset, packet.moreFragments, packet.payload, this.#env.clock.now());
      if (whole === null) return;
      packet = { ...packet, moreFragments: false, fragmentOffset: 0, payload: whole };
    }
    this.stats.ipReceived++;
    if (packet.protocol === PROTO_UDP) this.#receiveUdp(packet.payload, packet.src, packet.dst, bytes);
    else if (packet.protocol === PROTO_ICMP) this.#receiveIcmp(packet.payload, packet.src, packet.dst, packet.ttl);
    else {
      const handler = this.#protocols.get(packet.protocol);
      if (handler !== undefined && packet.dst === this.#address) handler.receive(packet.payload, packet.src, packet.dst);
      else this.stats.ipOtherProtocol++;
    }
  }

  #receiveIcmp(message: Uint8Array, src: number, dst: number, ttl: number): void {
    if (dst !== this.#address) return; // no replies to broadcast pings
    const answer = parseEchoReply(message);
    if (answer !== null) {
      this.stats.icmpEchoRepliesReceived++;
      this.onEchoReply?.(src, answer.id, answer.seq, answer.data, ttl);
      return;
    }
    const reply = echoReply(message);
    if (reply === null) return;
    this.stats.icmpEchoes++;
    const frame = new Uint8Array(ETH_HLEN + IPV4_HLEN + reply.length);
    writeIpv4Header(frame.subarray(ETH_HLEN), this.#address, src, PROTO_ICMP, reply.length, this.#ipId++, undefined, this.#ttl);
    frame.set(reply, ETH_HLEN + IPV4_HLEN);
    this.#trySendIp(src, frame);
  }

  #receiveUdp(bytes: Uint8Array, src: number, dst: number, ipPacket: Uint8Array): void {
    const datagram = parseUdp(bytes, src, dst);
    if (typeof datagram === "string") {
      this.stats[datagram]++;
      return;
    }
    this.stats.udpReceived++;
    if (datagram.dstPort === DHCP_CLIENT_PORT && datagram.srcPort === DHCP_SERVER_PORT && this.#dhcp !== null) {
      this.#dhcp.receive(datagram.payload);
      return;
    }
    if (this.#address === ANY) return;
    const endpoint = this.#ports.get(datagram.dstPort);
    if (endpoint === undefined) {
      this.stats.udpNoPort++;
      if (dst === this.#address) this.#unreachable(src, ipPacket);
      return;
    }
    endpoint.deliver(datagram.payload, src, datagram.srcPort);
  }

  /** RFC 1122 §3.2.2.1: a datagram for a closed port gets ICMP port unreachable, at
   * most 10 a second (a flood of them costs nothing more). */
  #unreachable(src: number, ipPacket: Uint8Array): void {
    const second = Math.floor(this.#env.clock.now() / 1000);
    if (second !== this.#unreachableSecond) {
      this.#unreachableSecond = second;
      this.#unreachableCount = 0;
    }
    if (this.#unreachableCount >= 10) return;
    this.#unreachableCount++;
    try {
      this.sendIcmp(src, portUnreachable(ipPacket));
      this.stats.icmpUnreachableSent++;
    } catch {
      this.stats.txErrors++;
    }
  }

  // ---- send ----

  /** A whole frame (room for the Ethernet header first) holding one UDP datagram: one copy of the payload. */
  #udpFrame(src: number, dst: number, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
    const udpLength = UDP_HLEN + payload.length;
    // 2 bytes of padding before the frame put the IPv4 header and the payload on 4-byte
    // boundaries (word-wise checksum and copies, see checksum.ts and ../bytes.ts).
    const frame = alignedBytes(ETH_HLEN + IPV4_HLEN + udpLength, 2);
    writeIpv4Header(frame.subarray(ETH_HLEN), src, dst, PROTO_UDP, udpLength, this.#ipId++, undefined, this.#ttl);
    writeUdp(frame.subarray(ETH_HLEN + IPV4_HLEN), src, dst, srcPort, dstPort, payload);
    return frame;
  }

  #broadcastDhcp(payload: Uint8Array): void {
    const frame = this.#udpFrame(ANY, BROADCAST, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, payload);
    this.#sendIpFrame(BROADCAST_MAC, frame);
  }

  /** Routes an IPv4 frame: broadcast, on-link, or through the gateway; ARP as needed.
   * A packet larger than the MTU goes as fragments (RFC 791 §3.2: 8-byte units, MF on all
   * but the last, DF clear). */
  #sendIp(dst: number, frame: Uint8Array): void {
    if (frame.length - ETH_HLEN > this.#link.mtu) {
      this.#sendFragments(dst, frame);
      return;
    }
    this.#route(dst, frame);
  }

  #sendFragments(dst: number, frame: Uint8Array): void {
    const header = frame.subarray(ETH_HLEN, ETH_HLEN + IPV4_HLEN);
    const v = new DataView(header.buffer, header.byteOffset, IPV4_HLEN);
    const id = v.getUint16(4);
    const protocol = header[9]!;
    const src = v.getUint32(12);
    const payload = frame.subarray(ETH_HLEN + IPV4_HLEN);
    const step = ((this.#link.mtu - IPV4_HLEN) >>> 3) << 3;
    for (let at = 0; at < payload.length; at += step) {
      const n = Math.min(step, payload.length - at);
      const piece = alignedBytes(ETH_HLEN + IPV4_HLEN + n, 2);
      piece.set(payload.subarray(at, at + n), ETH_HLEN + IPV4_HLEN);
      const more = at + n < payload.length ? FLAG_MF : 0;
      writeIpv4Header(piece.subarray(ETH_HLEN), src, dst, protocol, n, id, more | (at >>> 3), header[8]!);
      this.stats.ipFragmentsSent++;
      this.#route(dst, piece);
    }
  }

  #route(dst: number, frame: Uint8Array): void {
    const subnetBroadcast = ((this.#address & this.#netmask) | (~this.#netmask >>> 0)) >>> 0;
    if (dst === BROADCAST || dst === subnetBroadcast) {
      this.#sendIpFrame(BROADCAST_MAC, frame);
      return;
    }
    const onLink = ((dst & this.#netmask) >>> 0) === ((this.#address & this.#netmask) >>> 0);
    const hop = onLink ? dst : this.#gateway;
    if (hop === ANY) throw new NoRouteError(formatIpv4(dst), "off the subnet and no gateway");
    const mac = this.#arp.lookup(hop, this.#env.clock.now());
    if (mac !== null) {
      this.#sendIpFrame(mac, frame);
      return;
    }
    this.#queueForArp(hop, frame);
  }

  #sendIpFrame(dstMac: Uint8Array, frame: Uint8Array): void {
    writeEthernetHeader(frame, dstMac, this.#link.mac, ETHERTYPE_IPV4);
    this.#link.write(frame);
  }

  /** #sendIp for packets nobody waits on (replies): errors are counted. */
  #trySendIp(dst: number, frame: Uint8Array): void {
    try {
      this.#sendIp(dst, frame);
    } catch {
      this.stats.txErrors++;
    }
  }

  #sendFrame(dstMac: Uint8Array, type: number, payload: Uint8Array): void {
    const frame = buildEthernet(dstMac, this.#link.mac, type, payload.length);
    frame.set(payload, ETH_HLEN);
    this.#link.write(frame);
  }

  #sendArp(op: number, dstMac: Uint8Array, targetIp: number, targetMac: Uint8Array): void {
    const payload = new Uint8Array(ARP_LEN);
    writeArp(payload, { op, senderMac: this.#link.mac, senderIp: this.#address, targetMac, targetIp });
    try {
      this.#sendFrame(dstMac, ETHERTYPE_ARP, payload);
      this.stats.arpSent++;
    } catch {
      this.stats.txErrors++;
    }
  }

  #queueForArp(hop: number, packet: Uint8Array): void {
    let pending = this.#pending.get(hop);
    if (pending === undefined) {
      if (this.#pending.size >= (this.#options.arpPendingHops ?? 16)) {
        throw new NoRouteError(formatIpv4(hop), `${this.#pending.size} next hops already waiting for ARP`);
      }
      pending = { packets: [], attempts: 0, timer: null };
      this.#pending.set(hop, pending);
      this.#arpRequest(hop, pending);
    }
    if (pending.packets.length >= (this.#options.arpQueue ?? 16)) pending.packets.shift(); // drop the oldest
    pending.packets.push(packet);
  }

  #arpRequest(hop: number, pending: PendingHop): void {
    const attempts = this.#options.arpAttempts ?? 4;
    if (pending.attempts >= attempts) {
      this.#pending.delete(hop);
      this.stats.arpFailures++;
      this.#emit(new ArpTimeoutError(formatIpv4(hop), attempts, pending.packets.length));
      return;
    }
    pending.attempts++;
    this.#sendArp(ARP_REQUEST, BROADCAST_MAC, hop, new Uint8Array(6));
    pending.timer = this.#env.timers.set(() => {
      pending.timer = null;
      this.#arpRequest(hop, pending);
    }, this.#options.arpRetryMs ?? 250);
  }

  #flushPending(ip: number, mac: Uint8Array): void {
    const pending = this.#pending.get(ip);
    if (pending === undefined) return;
    this.#pending.delete(ip);
    if (pending.timer !== null) this.#env.timers.clear(pending.timer);
    for (const frame of pending.packets) {
      try {
        this.#sendIpFrame(mac, frame);
      } catch {
        this.stats.txErrors++;
      }
    }
  }

  // ---- configuration ----

  #runDhcp(): Promise<DhcpLease> {
    const dhcp = this.#dhcp!;
    this.#dhcpError = null;
    const run = dhcp.run();
    run.then(
      (lease) => {
        this.#configure(lease.address, lease.netmask, lease.gateway);
        this.#scheduleRenewal(lease);
      },
      (error: Error) => {
        if (this.#closed || dhcp.state === "selecting" || dhcp.state === "requesting") return; // restarted or closed
        this.#dhcpError = error;
        this.#emit(error);
        for (const w of this.#waiters) {
          this.#env.timers.clear(w.timer);
          w.reject(error);
        }
        this.#waiters = [];
        if (this.#address !== ANY) this.#renewalFailed();
      },
    );
    return run;
  }

  /** RFC 2131 §4.4.5: renew at T1 (half the lease). The renewal here is a whole new
   * exchange (the server gives the same address back); the address stays meanwhile. */
  #scheduleRenewal(lease: DhcpLease): void {
    if (this.#closed) return;
    if (lease.leaseSeconds === 0xffff_ffff) {
      this.#leaseEnds = Infinity;
      return;
    }
    const ms = Math.max(1, lease.leaseSeconds) * 1000;
    this.#leaseEnds = this.#env.clock.now() + ms;
    this.#renewIn(ms / 2);
  }

  #renewIn(delay: number): void {
    if (this.#leaseTimer !== null) this.#env.timers.clear(this.#leaseTimer);
    this.#leaseTimer = this.#env.timers.set(() => {
      this.#leaseTimer = null;
      this.stats.dhcpRenewals++;
      void this.#runDhcp().catch(() => {}); // failures are handled in #runDhcp
    }, delay);
  }

  /** A renewal got no answer: try again while the lease lasts; once it is over, drop the
   * address and start from DISCOVER. */
  #renewalFailed(): void {
    const left = this.#leaseEnds - this.#env.clock.now();
    if (left > 1000) {
      this.#renewIn(Math.min(60_000, left / 2));
      return;
    }
    this.#address = ANY;
    this.#arp.clear();
    this.#renewIn(0);
  }

  #configure(address: number, netmask: number, gateway: number): void {
    if (this.#closed) return;
    this.#address = address;
    this.#netmask = netmask;
    this.#gateway = gateway;
    for (const w of this.#waiters) {
      this.#env.timers.clear(w.timer);
      w.resolve();
    }
    this.#waiters = [];
  }

  /** An address another host on the network can have. */
  #isPeerAddress(address: number): boolean {
    const first = address >>> 24;
    if (address === BROADCAST || first === 0 || first === 127 || first >= 224) return false;
    if (this.#address === ANY) return true;
    const subnetBroadcast = ((this.#address & this.#netmask) | (~this.#netmask >>> 0)) >>> 0;
    return address !== this.#address && address !== subnetBroadcast;
  }

  #ephemeralPort(): number {
    for (let i = 0; i < 16384; i++) {
      const port = this.#nextEphemeral;
      this.#nextEphemeral = port === 65535 ? 49152 : port + 1;
      if (!this.#ports.has(port)) return port;
    }
    throw new PortInUseError(0);
  }

  #emit(error: Error): void {
    const onError = this.onError;
    if (onError === null) return;
    try {
      onError(error);
    } catch {
      // nowhere left to report
    }
  }
}
