// The shapes around IpStack (ip-stack.ts): what it needs of the platform, its options,
// the transport protocols and UDP endpoints it delivers to, and its counters.

import type { Clock, Timers } from "../../platform/platform.js";
import type { DhcpOptions } from "./dhcp.js";
import { ETH_HLEN } from "./ethernet.js";
import type { ReassemblyOptions } from "./fragments.js";
import { IPV4_HLEN } from "./ipv4.js";

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

export function newIpStats(): IpStats {
  return {
    rxFrames: 0, rxNotForUs: 0, rxOtherType: 0, arpRequests: 0, arpReplies: 0, arpSent: 0, arpFailures: 0,
    ipReceived: 0, ipBadHeader: 0, ipBadChecksum: 0, ipFragments: 0, ipFragmentsSent: 0, ipNotForUs: 0, ipBadSource: 0, ipOtherProtocol: 0,
    icmpEchoes: 0, icmpEchoRepliesReceived: 0, icmpUnreachableSent: 0, udpReceived: 0, udpBadHeader: 0, udpBadChecksum: 0, udpNoPort: 0, udpSent: 0, txErrors: 0, announcements: 0, dhcpRenewals: 0,
  };
}
