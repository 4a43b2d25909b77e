// A DHCP client (RFC 2131, options RFC 2132): DISCOVER, OFFER, REQUEST, ACK, retried
// on a timer, restarted on NAK. The lease is not renewed (QEMU's user network leases
// for a day); run() again to get a new one.

import type { Clock, TimerId, Timers } from "../../platform/platform.js";
import { BROADCAST, prefixLength, readIpv4, writeIpv4 } from "./address.js";
import { DhcpTimeoutError } from "./errors.js";

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

const BOOTREQUEST = 1;
const BOOTREPLY = 2;
const MAGIC_COOKIE = 0x63825363;
const OPTIONS_AT = 240;
const MIN_MESSAGE = 300; // BOOTP's minimum size (RFC 1542), padded with zeros

export const DhcpType = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7 } as const;

const OPT_SUBNET = 1;
const OPT_ROUTER = 3;
const OPT_DNS = 6;
const OPT_REQUESTED_IP = 50;
const OPT_LEASE = 51;
const OPT_TYPE = 53;
const OPT_SERVER_ID = 54;
const OPT_PARAMS = 55;
const OPT_END = 255;
const OPT_PAD = 0;

export interface DhcpLease {
  readonly address: number;
  readonly netmask: number;
  readonly gateway: number;
  readonly server: number;
  readonly dns: number;
  /** Seconds; 0xffffffff is infinite. */
  readonly leaseSeconds: number;
}

/** What the client needs from the IP stack. */
export interface DhcpHost {
  readonly mac: Uint8Array;
  readonly timers: Timers;
  readonly clock: Clock;
  /** Sends a UDP payload from 0.0.0.0:68 to 255.255.255.255:67. */
  broadcast(payload: Uint8Array): void;
}

export interface DhcpOptions {
  /** Wait for an answer before sending again. Default 1000 ms (doubling, at most 4 s). */
  readonly retryMs?: number;
  /** Messages sent before giving up. Default 10. */
  readonly attempts?: number;
}

export type DhcpState = "idle" | "selecting" | "requesting" | "bound" | "failed";

interface Reply {
  readonly type: number;
  readonly yiaddr: number;
  readonly options: Map<number, Uint8Array>;
}

export class DhcpClient {
  readonly #host: DhcpHost;
  readonly #retryMs: number;
  readonly #attempts: number;
  #state: DhcpState = "idle";
  #xid = 0;
  #sent = 0;
  #timer: TimerId | null = null;
  #offer: { address: number; server: number } | null = null;
  #lease: DhcpLease | null = null;
  #settle: { resolve: (lease: DhcpLease) => void; reject: (error: Error) => void } | null = null;
  /** Replies ignored (wrong xid, wrong MAC, malformed). */
  ignored = 0;

  constructor(host: DhcpHost, options: DhcpOptions = {}) {
    this.#host = host;
    this.#retryMs = options.retryMs ?? 1000;
    this.#attempts = options.attempts ?? 10;
  }

  get state(): DhcpState {
    return this.#state;
  }

  get lease(): DhcpLease | null {
    return this.#lease;
  }

  /** Starts (or restarts) the exchange; resolves with the lease from the ACK. */
  run(): Promise<DhcpLease> {
    this.stop(new DhcpTimeoutError("restarted", this.#sent));
    return new Promise<DhcpLease>((resolve, reject) => {
      this.#settle = { resolve, reject };
      this.#sent = 0;
      this.#discover();
    });
  }

  /** Stops retrying; a pending run() rejects with `reason`. */
  stop(reason: Error = new DhcpTimeoutError("stopped", this.#sent)): void {
    this.#clearTimer();
    const settle = this.#settle;
    this.#settle = null;
    if (this.#state !== "bound") this.#state = "idle";
    settle?.reject(reason);
  }

  /** A UDP payload that came to port 68 from port 67. */
  receive(payload: Uint8Array): void {
    const reply = this.#parse(payload);
    if (reply === null) {
      this.ignored++;
      return;
    }
    if (this.#state === "selecting" && reply.type === DhcpType.OFFER) {
      const server = ipOption(reply.options, OPT_SERVER_ID);
      if (!isHostAddress(reply.yiaddr) || server === null) {
        this.ignored++;
        return;
      }
      this.#offer = { address: reply.yiaddr, server };
      this.#request();
    } else if (this.#state === "requesting" && reply.type === DhcpType.ACK) {
      const lease = this.#leaseFrom(reply);
      if (lease === null) {
        this.ignored++;
        return;
      }
      this.#bind(lease);
    } else if (this.#state === "requesting" && reply.type === DhcpType.NAK) {
      this.#discover();
    } else {
      this.ignored++;
    }
  }

  #discover(): void {
    this.#state = "selecting";
    this.#xid = Math.floor(Math.random() * 0x1_0000_0000) >>> 0;
    this.#offer = null;
    this.#send();
  }

  #request(): void {
    this.#state = "requesting";
    this.#send();
  }

  /** Sends the message of the current state and arms the retry timer. */
  #send(): void {
    this.#clearTimer();
    if (this.#sent >= this.#attempts) {
      const error = new DhcpTimeoutError(this.#state, this.#sent);
      this.#state = "failed";
      const settle = this.#settle;
      this.#settle = null;
      settle?.reject(error);
      return;
    }
    const delay = Math.min(this.#retryMs * 2 ** Math.min(this.#sent, 2), 4 * this.#retryMs);
    this.#sent++;
    try {
      this.#host.broadcast(this.#message());
    } catch {
      // a full transmit queue or a link that is down: the retry timer sends again
    }
    this.#timer = this.#host.timers.set(() => {
      this.#timer = null;
      // a REQUEST that got nothing twice: start over with DISCOVER
      if (this.#state === "requesting" && this.#sent % 3 === 0) this.#discover();
      else this.#send();
    }, delay);
  }

  /**
   * The lease an ACK gives, or null if the ACK is not one to believe (RFC 2131 §4.3.1,
   * §4.4.1): it must be for the address offered and requested, from the server chosen
   * (when it names one), with a usable host address and a contiguous netmask. A router
   * off the subnet or not a host address is left out (no default route).
   */
  #leaseFrom(reply: Reply): DhcpLease | null {
    const offer = this.#offer;
    if (offer === null || reply.yiaddr !== offer.address) return null;
    const server = ipOption(reply.options, OPT_SERVER_ID);
    if (server !== null && server !== offer.server) return null;
    const mask = ipOption(reply.options, OPT_SUBNET) ?? 0xffff_ff00;
    const prefix = prefixLength(mask);
    if (prefix < 1 || prefix > 30) return null;
    const address = reply.yiaddr;
    if (!isHostOn(address, address, mask)) return null;
    const router = ipOption(reply.options, OPT_ROUTER) ?? 0;
    const routerOk = router !== address && isHostOn(router, address, mask);
    return {
      address,
      netmask: mask,
      gateway: routerOk ? router : 0,
      server: server ?? offer.server,
      dns: ipOption(reply.options, OPT_DNS) ?? 0,
      leaseSeconds: u32Option(reply.options, OPT_LEASE) ?? 0xffff_ffff,
    };
  }

  #bind(lease: DhcpLease): void {
    this.#clearTimer();
    this.#lease = lease;
    this.#state = "bound";
    const settle = this.#settle;
    this.#settle = null;
    settle?.resolve(lease);
  }

  #clearTimer(): void {
    if (this.#timer === null) return;
    this.#host.timers.clear(this.#timer);
    this.#timer = null;
  }

  /** DISCOVER or REQUEST (RFC 2131 §4.4.1), broadcast flag set: we have no address yet. */
  #message(): Uint8Array {
    const out = new Uint8Array(MIN_MESSAGE);
    const v = new DataView(out.buffer);
    out[0] = BOOTREQUEST;
    out[1] = 1; // htype Ethernet
    out[2] = 6; // hlen
    v.setUint32(4, this.#xid);
    v.setUint16(8, Math.min(0xffff, this.#sent)); // secs: good enough as attempts
    v.setUint16(10, 0x8000); // flags: BROADCAST
    out.set(this.#host.mac, 28); // chaddr
    v.setUint32(236, MAGIC_COOKIE);
    let at = OPTIONS_AT;
    const option = (code: number, data: number[]): void => {
      out[at++] = code;
      out[at++] = data.length;
      for (const b of data) out[at++] = b;
    };
    const ip = (value: number): number[] => [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
    const requesting = this.#state === "requesting" && this.#offer !== null;
    option(OPT_TYPE, [requesting ? DhcpType.REQUEST : DhcpType.DISCOVER]);
    if (requesting) {
      option(OPT_REQUESTED_IP, ip(this.#offer!.address));
      option(OPT_SERVER_ID, ip(this.#offer!.server));
    }
    option(OPT_PARAMS, [OPT_SUBNET, OPT_ROUTER, OPT_DNS, OPT_LEASE]);
    out[at] = OPT_END;
    return out;
  }

  /** A BOOTREPLY for our xid and MAC with a message type; null otherwise. */
  #parse(bytes: Uint8Array): Reply | null {
    if (bytes.length < OPTIONS_AT + 3) return null;
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes[0] !== BOOTREPLY || bytes[1] !== 1 || bytes[2] !== 6) return null;
    if (v.getUint32(4) !== this.#xid || v.getUint32(236) !== MAGIC_COOKIE) return null;
    const mac = this.#host.mac;
    for (let i = 0; i < 6; i++) if (bytes[28 + i] !== mac[i]) return null;
    const options = new Map<number, Uint8Array>();
    let at = OPTIONS_AT;
    while (at < bytes.length) {
      const code = bytes[at++]!;
      if (code === OPT_END) break;
      if (code === OPT_PAD) continue;
      if (at >= bytes.length) return null;
      const len = bytes[at++]!;
      if (at + len > bytes.length) return null; // an option running past the end
      if (!options.has(code)) options.set(code, bytes.slice(at, at + len));
      at += len;
    }
    const type = options.get(OPT_TYPE);
    if (type === undefined || type.length !== 1) return null;
    return { type: type[0]!, yiaddr: readIpv4(v, 16), options };
  }
}

/** An address a host can have: not 0.0.0.0/8, loopback, multicast, reserved or broadcast (RFC 1122 §3.2.1.3). */
function isHostAddress(address: number): boolean {
  const first = address >>> 24;
  return address !== BROADCAST && first !== 0 && first !== 127 && first < 224;
}

/** A host address on `subnet`/`mask`: not its network or broadcast address. */
function isHostOn(address: number, subnet: number, mask: number): boolean {
  const host = (address & ~mask) >>> 0;
  return isHostAddress(address) && ((address & mask) >>> 0) === ((subnet & mask) >>> 0) && host !== 0 && host !== ~mask >>> 0;
}

function ipOption(options: Map<number, Uint8Array>, code: number): number | null {
  const data = options.get(code);
  if (data === undefined || data.length < 4) return null;
  return readIpv4(new DataView(data.buffer, data.byteOffset, 4), 0);
}

function u32Option(options: Map<number, Uint8Array>, code: number): number | null {
  return ipOption(options, code);
}

/** Builds a DHCP server reply (for tests and the host model's peers). */
export function buildDhcpReply(request: Uint8Array, type: number, yiaddr: number, options: [number, number[]][]): Uint8Array {
  const out = new Uint8Array(MIN_MESSAGE);
  const v = new DataView(out.buffer);
  out.set(request.subarray(0, 236));
  out[0] = BOOTREPLY;
  writeIpv4(v, 16, yiaddr);
  v.setUint32(236, MAGIC_COOKIE);
  let at = OPTIONS_AT;
  for (const [code, data] of [[OPT_TYPE, [type]] as [number, number[]], ...options]) {
    out[at++] = code;
    out[at++] = data.length;
    for (const b of data) out[at++] = b;
  }
  out[at] = OPT_END;
  return out;
}

/** The message type and requested options of a client message (for tests and peers). */
export function parseDhcpRequest(bytes: Uint8Array): { type: number; xid: number; requested: number | null; server: number | null } | null {
  if (bytes.length < OPTIONS_AT + 3 || bytes[0] !== BOOTREQUEST) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(236) !== MAGIC_COOKIE) return null;
  const options = new Map<number, Uint8Array>();
  let at = OPTIONS_AT;
  while (at + 1 < bytes.length && bytes[at] !== OPT_END) {
    const code = bytes[at++]!;
    if (code === OPT_PAD) continue;
    const len = bytes[at++]!;
    options.set(code, bytes.slice(at, at + len));
    at += len;
  }
  const type = options.get(OPT_TYPE)?.[0];
  if (type === undefined) return null;
  return { type, xid: v.getUint32(4), requested: ipOption(options, OPT_REQUESTED_IP), server: ipOption(options, OPT_SERVER_ID) };
}
