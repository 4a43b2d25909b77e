// ARP for one IPv4 interface (RFC 826): answers requests for our address, learns the
// senders of requests for us and of replies, resolves next hops through a cache with
// retries, and holds a bounded queue of packets per next hop meanwhile (then
// ArpTimeoutError). Also puts IPv4 frames on the link once their next hop is known, and
// sends the gratuitous ARP of announce() (RFC 5227 §3).

import type { TimerId } from "../../platform/platform.js";
import type { Nic } from "../nic.js";
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, ArpCache, parseArp, writeArp } from "./arp.js";
import { ANY, formatIpv4 } from "./address.js";
import { ArpTimeoutError, NoRouteError } from "./errors.js";
import { BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, buildEthernet, isBroadcastMac, writeEthernetHeader } from "./ethernet.js";
import type { IpStackOptions, IpStats, StackEnv } from "./stack-types.js";

/** What the resolver needs of its interface. */
export interface ArpHost {
  readonly link: Nic;
  readonly env: StackEnv;
  readonly options: IpStackOptions;
  readonly stats: IpStats;
  /** Our address now (ANY while DHCP runs). */
  readonly address: number;
  /** An address another host on the network can have (never ours, a broadcast, ...). */
  isPeerAddress(address: number): boolean;
  /** Reports an error nobody else hears of (an ARP give-up). */
  emit(error: Error): void;
}

interface PendingHop {
  /** Whole frames, Ethernet header still to write. */
  readonly packets: Uint8Array[];
  attempts: number;
  timer: TimerId | null;
}

export class ArpResolver {
  readonly #host: ArpHost;
  readonly #cache = new ArpCache();
  readonly #pending = new Map<number, PendingHop>();

  constructor(host: ArpHost) {
    this.#host = host;
  }

  entries(): [number, Uint8Array][] {
    return this.#cache.entries();
  }

  /** Forgets every entry (the address was dropped). */
  clear(): void {
    this.#cache.clear();
  }

  /** Stops the retries and drops the waiting packets. */
  close(): void {
    for (const hop of this.#pending.values()) if (hop.timer !== null) this.#host.env.timers.clear(hop.timer);
    this.#pending.clear();
  }

  /** One ARP packet from the link. */
  receive(payload: Uint8Array): void {
    const p = parseArp(payload);
    if (p === null) return;
    const host = this.#host;
    const now = host.env.clock.now();
    // RFC 826: update an entry we have; add the sender when the packet is for us.
    const forUs = host.address !== ANY && p.targetIp === host.address;
    if (this.#cache.has(p.senderIp) || forUs) {
      // Only a host's address with a unicast MAC is cached (never ours, a broadcast or a multicast one).
      if (host.isPeerAddress(p.senderIp) && !isBroadcastMac(p.senderMac) && (p.senderMac[0]! & 1) === 0) {
        this.#cache.set(p.senderIp, p.senderMac, now);
        this.#flushPending(p.senderIp, p.senderMac);
      }
    }
    // A request "from" a broadcast or multicast MAC gets no reply: it would go to everyone.
    if (p.op === ARP_REQUEST && forUs && (p.senderMac[0]! & 1) === 0) {
      host.stats.arpRequests++;
      this.#sendArp(ARP_REPLY, p.senderMac, p.senderIp, p.senderMac);
    } else if (p.op === ARP_REPLY && forUs) {
      host.stats.arpReplies++;
    }
  }

  /** Sends an IPv4 frame to next hop `hop`: now if its MAC is known, else after ARP
   * resolves it. Throws NoRouteError when too many next hops wait already. */
  send(hop: number, frame: Uint8Array): void {
    const mac = this.#cache.lookup(hop, this.#host.env.clock.now());
    if (mac !== null) this.sendIpFrame(mac, frame);
    else this.#queue(hop, frame);
  }

  /** Writes the Ethernet header (IPv4 to `dstMac`) and puts the frame on the link. */
  sendIpFrame(dstMac: Uint8Array, frame: Uint8Array): void {
    const link = this.#host.link;
    writeEthernetHeader(frame, dstMac, link.mac, ETHERTYPE_IPV4);
    link.write(frame);
  }

  /** A gratuitous ARP (RFC 5227 §3: a request for our own address, broadcast). */
  announce(): void {
    this.#sendArp(ARP_REQUEST, BROADCAST_MAC, this.#host.address, new Uint8Array(6));
  }

  #sendArp(op: number, dstMac: Uint8Array, targetIp: number, targetMac: Uint8Array): void {
    const host = this.#host;
    const link = host.link;
    const frame = buildEthernet(dstMac, link.mac, ETHERTYPE_ARP, ARP_LEN);
    writeArp(frame.subarray(frame.length - ARP_LEN), { op, senderMac: link.mac, senderIp: host.address, targetMac, targetIp });
    try {
      link.write(frame);
      host.stats.arpSent++;
    } catch {
      host.stats.txErrors++;
    }
  }

  #queue(hop: number, packet: Uint8Array): void {
    const options = this.#host.options;
    let pending = this.#pending.get(hop);
    if (pending === undefined) {
      if (this.#pending.size >= (options.arpPendingHops ?? 16)) {
        throw new NoRouteError(formatIpv4(hop), `${this.#pending.size} next hops already waiting for ARP`);
      }
      pending = { packets: [], attempts: 0, timer: null };
      this.#pending.set(hop, pending);
      this.#request(hop, pending);
    }
    if (pending.packets.length >= (options.arpQueue ?? 16)) pending.packets.shift(); // drop the oldest
    pending.packets.push(packet);
  }

  #request(hop: number, pending: PendingHop): void {
    const host = this.#host;
    const attempts = host.options.arpAttempts ?? 4;
    if (pending.attempts >= attempts) {
      this.#pending.delete(hop);
      host.stats.arpFailures++;
      host.emit(new ArpTimeoutError(formatIpv4(hop), attempts, pending.packets.length));
      return;
    }
    pending.attempts++;
    this.#sendArp(ARP_REQUEST, BROADCAST_MAC, hop, new Uint8Array(6));
    pending.timer = host.env.timers.set(() => {
      pending.timer = null;
      this.#request(hop, pending);
    }, host.options.arpRetryMs ?? 250);
  }

  #flushPending(ip: number, mac: Uint8Array): void {
    const pending = this.#pending.get(ip);
    if (pending === undefined) return;
    this.#pending.delete(ip);
    if (pending.timer !== null) this.#host.env.timers.clear(pending.timer);
    for (const frame of pending.packets) {
      try {
        this.sendIpFrame(mac, frame);
      } catch {
        this.#host.stats.txErrors++;
      }
    }
  }
}
