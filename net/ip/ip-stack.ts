// A small IPv4 interface over one Ethernet link (a Nic, ../nic.ts): IPv4 (header checks,
// fragments reassembled and sent), routing (on-link or the gateway), ICMP echo reply and
// port unreachable, UDP (to bound ports), transport protocols by number (TCP), and a
// static address or DHCP. ARP is arp-resolver.ts, the DHCP lease lease-keeper.ts, the
// types around the stack stack-types.ts. Everything runs from the link's callbacks and the
// platform's timers: no busy wait.

import { alignedBytes } from "../bytes.js";
import type { Nic, NicClient } from "../nic.js";
import { ArpResolver } from "./arp-resolver.js";
import { ANY, BROADCAST, formatIpv4, toIpv4 } from "./address.js";
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DhcpClient, type DhcpLease, type DhcpState } from "./dhcp.js";
import { NoRouteError, SocketClosedError } from "./errors.js";
import { BROADCAST_MAC, ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, isBroadcastMac, parseEthernet, sameMac } from "./ethernet.js";
import { echoReply, parseEchoReply, portUnreachable } from "./icmp.js";
import { DEFAULT_TTL, IPV4_HLEN, PROTO_ICMP, PROTO_UDP, parseIpv4Packet, writeIpv4Header } from "./ipv4.js";
import { Reassembler, splitPacket } from "./fragments.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { PACKET_PAYLOAD_OFFSET, newIpStats, type IpProtocolHandler, type IpStackOptions, type IpStats, type StackEnv, type UdpEndpoint } from "./stack-types.js";
import { UDP_HLEN, parseUdp, writeUdp } from "./udp.js";
import { UdpPorts } from "./udp-ports.js";

export { PACKET_PAYLOAD_OFFSET } from "./stack-types.js";
export type { IpProtocolHandler, IpStackOptions, IpStats, StackEnv, UdpEndpoint } from "./stack-types.js";

const MAX_UDP_PAYLOAD = 1500 - IPV4_HLEN - UDP_HLEN; // 1472: no fragmentation

export class IpStack implements NicClient {
  readonly #link: Nic;
  readonly #env: StackEnv;
  readonly #arp: ArpResolver;
  readonly #ports = new UdpPorts();
  readonly #protocols = new Map<number, IpProtocolHandler>();
  readonly reassembly: Reassembler;
  readonly #ttl: number;
  readonly #dhcp: DhcpClient | null;
  readonly #lease: LeaseKeeper | null;
  #address = ANY;
  #netmask = 0xffff_ff00;
  #gateway = ANY;
  #ipId = 1;
  #closed = false;
  readonly stats: IpStats = newIpStats();
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
    this.reassembly = new Reassembler(options.reassembly);
    this.#ttl = options.ttl ?? DEFAULT_TTL;
    if (!Number.isInteger(this.#ttl) || this.#ttl < 1 || this.#ttl > 255) throw new RangeError(`ttl ${this.#ttl} must be 1 to 255`);
    const stack = this; // the getters below read the stack's private fields
    this.#arp = new ArpResolver({
      link, env, options, stats: this.stats,
      get address(): number {
        return stack.#address;
      },
      isPeerAddress: (address) => this.#isPeerAddress(address),
      emit: (error) => this.#emit(error),
    });
    if (options.address !== undefined) {
      this.#address = toIpv4(options.address);
      this.#netmask = toIpv4(options.netmask ?? "255.255.255.0", "netmask");
      this.#gateway = options.gateway === undefined ? ANY : toIpv4(options.gateway, "gateway");
      this.#dhcp = null;
      this.#lease = null;
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
      this.#lease = new LeaseKeeper({
        env, stats: this.stats,
        get closed(): boolean {
          return stack.#closed;
        },
        get configured(): boolean {
          return stack.#address !== ANY;
        },
        configure: (address, netmask, gateway) => {
          this.#address = address;
          this.#netmask = netmask;
          this.#gateway = gateway;
        },
        unconfigure: () => {
          this.#address = ANY;
          this.#arp.clear();
        },
        emit: (error) => this.#emit(error),
      }, this.#dhcp);
    }
    link.onReadable = (frame) => this.receive(frame);
    if ("onAnnounce" in link) link.onAnnounce = () => this.announce();
    link.onLinkChange = (up) => {
      if (up && this.#dhcp !== null && this.#address === ANY && this.#dhcp.state !== "selecting" && this.#dhcp.state !== "requesting") void this.#lease!.run().catch(() => {});
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
    return this.#lease?.error ?? null;
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
    if (this.#lease !== null && this.#address === ANY) void this.#lease.run().catch(() => {});
  }

  /** Asks DHCP again (or switches to it from a static address). */
  renew(): Promise<DhcpLease> {
    if (this.#lease === null) return Promise.reject(new Error("static address: no DHCP client"));
    return this.#lease.run();
  }

  /** Resolves once the interface has an address; rejects after `timeoutMs`. */
  whenConfigured(timeoutMs: number): Promise<void> {
    if (this.#address !== ANY) return Promise.resolve();
    if (this.#closed || this.#lease === null) return Promise.reject(new SocketClosedError("IP stack"));
    return this.#lease.whenConfigured(timeoutMs);
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
    return this.#ports.bind(port, endpoint, this.#dhcp !== null ? DHCP_CLIENT_PORT : -1);
  }

  unbindUdp(port: number, endpoint: UdpEndpoint): void {
    this.#ports.unbind(port, endpoint);
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
    this.#arp.announce();
  }

  /** Stops DHCP, timers and sockets' delivery. Safe twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lease?.close();
    this.#arp.close();
    this.#ports.clear();
    for (const handler of this.#protocols.values()) handler.close();
    this.#protocols.clear();
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
    if (eth.type === ETHERTYPE_ARP) this.#arp.receive(eth.payload);
    else if (eth.type === ETHERTYPE_IPV4) this.#receiveIp(eth.payload);
    else this.stats.rxOtherType++;
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
    this.#arp.sendIpFrame(BROADCAST_MAC, frame);
  }

  /** Routes an IPv4 frame: broadcast, on-link, or through the gateway; ARP as needed.
   * A packet larger than the MTU goes as fragments (RFC 791 §3.2: 8-byte units, MF on all
   * but the last, DF clear). */
  #sendIp(dst: number, frame: Uint8Array): void {
    if (frame.length - ETH_HLEN > this.#link.mtu) {
      for (const piece of splitPacket(frame, this.#link.mtu)) {
        this.stats.ipFragmentsSent++;
        this.#route(dst, piece);
      }
      return;
    }
    this.#route(dst, frame);
  }

  #route(dst: number, frame: Uint8Array): void {
    const subnetBroadcast = ((this.#address & this.#netmask) | (~this.#netmask >>> 0)) >>> 0;
    if (dst === BROADCAST || dst === subnetBroadcast) {
      this.#arp.sendIpFrame(BROADCAST_MAC, frame);
      return;
    }
    const onLink = ((dst & this.#netmask) >>> 0) === ((this.#address & this.#netmask) >>> 0);
    const hop = onLink ? dst : this.#gateway;
    if (hop === ANY) throw new NoRouteError(formatIpv4(dst), "off the subnet and no gateway");
    this.#arp.send(hop, frame);
  }

  /** #sendIp for packets nobody waits on (replies): errors are counted. */
  #trySendIp(dst: number, frame: Uint8Array): void {
    try {
      this.#sendIp(dst, frame);
    } catch {
      this.stats.txErrors++;
    }
  }

  /** An address another host on the network can have. */
  #isPeerAddress(address: number): boolean {
    const first = address >>> 24;
    if (address === BROADCAST || first === 0 || first === 127 || first >= 224) return false;
    if (this.#address === ANY) return true;
    const subnetBroadcast = ((this.#address & this.#netmask) | (~this.#netmask >>> 0)) >>> 0;
    return address !== this.#address && address !== subnetBroadcast;
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
