// ARP for IPv4 over Ethernet (RFC 826): the packet layout and a small cache with expiry.

import { readIpv4, writeIpv4 } from "./address.js";

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const ARP_LEN = 28;

export interface ArpPacket {
  readonly op: number;
  readonly senderMac: Uint8Array;
  readonly senderIp: number;
  readonly targetMac: Uint8Array;
  readonly targetIp: number;
}

/** Parses an ARP packet for Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4); null otherwise. */
export function parseArp(payload: Uint8Array): ArpPacket | null {
  if (payload.length < ARP_LEN) return null;
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (v.getUint16(0) !== 1 || v.getUint16(2) !== 0x0800 || payload[4] !== 6 || payload[5] !== 4) return null;
  return {
    op: v.getUint16(6),
    senderMac: payload.slice(8, 14),
    senderIp: readIpv4(v, 14),
    targetMac: payload.slice(18, 24),
    targetIp: readIpv4(v, 24),
  };
}

/** Writes an ARP packet into `out` (28 bytes). */
export function writeArp(out: Uint8Array, p: ArpPacket): void {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint16(0, 1); // Ethernet
  v.setUint16(2, 0x0800); // IPv4
  out[4] = 6;
  out[5] = 4;
  v.setUint16(6, p.op);
  out.set(p.senderMac, 8);
  writeIpv4(v, 14, p.senderIp);
  out.set(p.targetMac, 18);
  writeIpv4(v, 24, p.targetIp);
}

interface Entry {
  readonly mac: Uint8Array;
  readonly expires: number;
}

/** IPv4 -> MAC, at most `capacity` entries (the oldest goes first), each for `ttlMs`. */
export class ArpCache {
  readonly #entries = new Map<number, Entry>();
  readonly #capacity: number;
  readonly #ttlMs: number;

  constructor(capacity = 16, ttlMs = 300_000) {
    this.#capacity = capacity;
    this.#ttlMs = ttlMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  lookup(ip: number, now: number): Uint8Array | null {
    const entry = this.#entries.get(ip);
    if (entry === undefined) return null;
    if (now >= entry.expires) {
      this.#entries.delete(ip);
      return null;
    }
    return entry.mac;
  }

  has(ip: number): boolean {
    return this.#entries.has(ip);
  }

  set(ip: number, mac: Uint8Array, now: number): void {
    this.#entries.delete(ip);
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next().value as number;
      this.#entries.delete(oldest);
    }
    this.#entries.set(ip, { mac: mac.slice(), expires: now + this.#ttlMs });
  }

  entries(): [number, Uint8Array][] {
    return [...this.#entries].map(([ip, e]) => [ip, e.mac]);
  }

  clear(): void {
    this.#entries.clear();
  }
}
